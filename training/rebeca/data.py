"""Dataset snapshot loading and the paper's preprocessing (numpy only; no torch needed).

Snapshot format: docs/FORMATS.md ("Dataset snapshot").
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np


class DataError(ValueError):
    """Bad input (missing file, malformed CSV, inconsistent shapes...). Message is user-facing."""


# -------------------------------------------------------------------------------------------------
# Raw snapshot
# -------------------------------------------------------------------------------------------------
@dataclass
class Snapshot:
    path: str
    item_ids: List[str]  # N external item ids, row order of embeddings
    embeddings: np.ndarray  # [N, D] float32, raw
    user_ids: np.ndarray  # [R] object (str): external user id of each rating
    item_rows: np.ndarray  # [R] int64: row into item_ids / embeddings
    scores: np.ndarray  # [R] int64 1..5
    manifest: Dict
    unknown_item_ratings: int = 0  # ratings whose item is not in items.csv (dropped, counted)

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    @property
    def content_hash(self) -> Optional[str]:
        return self.manifest.get("contentHash")


_RATING_ALIASES = {
    "user_id": "user_id",
    "worker": "user_id",
    "item_id": "item_id",
    "imagepair": "item_id",
    "score": "score",
}


def _read_csv_rows(path: str) -> Tuple[List[str], List[List[str]]]:
    if not os.path.isfile(path):
        raise DataError(f"missing file: {path}")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        try:
            header = next(reader)
        except StopIteration:
            raise DataError(f"{path}: empty file (a header line is required)") from None
        rows = [r for r in reader if r and any(c.strip() for c in r)]
    return [h.strip() for h in header], rows


def load_items(path: str) -> List[str]:
    header, rows = _read_csv_rows(path)
    if not header or header[0] != "item_id":
        raise DataError(f"{path}: header must start with item_id (got {','.join(header)!r})")
    ids = [r[0] for r in rows]
    if len(set(ids)) != len(ids):
        raise DataError(f"{path}: duplicate item ids")
    return ids


def load_ratings(path: str) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns (user_ids [str], item_ids [str], scores [int64]). Accepts the FLICKR-AES header."""
    header, rows = _read_csv_rows(path)
    cols: Dict[str, int] = {}
    for i, h in enumerate(header):
        key = _RATING_ALIASES.get(h.strip().lower())
        if key is not None and key not in cols:
            cols[key] = i
    if set(cols) != {"user_id", "item_id", "score"}:
        raise DataError(
            f"{path}: header must be 'user_id,item_id,score' or 'worker, imagePair, score' (got {','.join(header)!r})"
        )
    ui, ii, si = cols["user_id"], cols["item_id"], cols["score"]
    n = len(rows)
    users = np.empty(n, dtype=object)
    items = np.empty(n, dtype=object)
    scores = np.empty(n, dtype=np.int64)
    for k, r in enumerate(rows):
        try:
            users[k] = r[ui].strip()
            items[k] = r[ii].strip()
            s = r[si].strip()
            v = float(s)
        except (IndexError, ValueError):
            raise DataError(f"{path}: line {k + 2}: malformed row {r!r}") from None
        if v != int(v) or not 1 <= v <= 5:
            raise DataError(f"{path}: line {k + 2}: score must be an integer 1..5 (got {s!r})")
        scores[k] = int(v)
    return users, items, scores


def load_embeddings(path: str) -> np.ndarray:
    if not os.path.isfile(path):
        raise DataError(f"missing file: {path}")
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001
        raise DataError(f"{path}: not a valid .npy file ({e})") from e
    if arr.ndim != 2:
        raise DataError(f"{path}: expected shape [N, D], got {list(arr.shape)}")
    if arr.dtype not in (np.float32, np.float64):
        raise DataError(f"{path}: expected float32 or float64, got {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{path}: contains NaN or infinite values")
    return arr


def content_hash(path: str) -> str:
    """sha256 of items.csv, embeddings.npy and ratings.csv bytes, in that order (docs/FORMATS.md)."""
    h = hashlib.sha256()
    for fn in ("items.csv", "embeddings.npy", "ratings.csv"):
        with open(os.path.join(path, fn), "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def load_snapshot(path: str) -> Snapshot:
    """Loads a snapshot folder. manifest.json is optional (a folder with the three data files, e.g. a
    synthetic world, is accepted; its content hash is then computed here)."""
    if not os.path.isdir(path):
        raise DataError(f"dataset snapshot folder not found: {path}")
    mpath = os.path.join(path, "manifest.json")
    manifest: Dict = {}
    if os.path.isfile(mpath):
        try:
            with open(mpath, encoding="utf-8") as f:
                manifest = json.load(f)
        except json.JSONDecodeError as e:
            raise DataError(f"{mpath}: invalid JSON ({e})") from e
        if manifest.get("kind") not in (None, "rebeca-dataset"):
            raise DataError(f"{mpath}: kind must be 'rebeca-dataset' (got {manifest.get('kind')!r})")
    item_ids = load_items(os.path.join(path, "items.csv"))
    emb = load_embeddings(os.path.join(path, "embeddings.npy"))
    if emb.shape[0] != len(item_ids):
        raise DataError(f"embeddings.npy has {emb.shape[0]} rows but items.csv has {len(item_ids)} items")
    if "embeddingDim" in manifest and int(manifest["embeddingDim"]) != emb.shape[1]:
        raise DataError(f"manifest embeddingDim {manifest['embeddingDim']} != embeddings.npy D {emb.shape[1]}")
    users, items, scores = load_ratings(os.path.join(path, "ratings.csv"))
    index = {iid: k for k, iid in enumerate(item_ids)}
    rows = np.fromiter((index.get(i, -1) for i in items), dtype=np.int64, count=len(items))
    known = rows >= 0
    unknown = int((~known).sum())
    if len(rows) and unknown == len(rows):
        raise DataError("no rating refers to an item of items.csv")
    if len(rows) == 0:
        raise DataError("ratings.csv has no ratings")
    if not manifest.get("contentHash"):
        # a raw folder (e.g. a synthetic world) without a snapshot manifest: hash it ourselves
        manifest = dict(manifest, contentHash=content_hash(path))
    return Snapshot(
        path=os.path.abspath(path),
        item_ids=item_ids,
        embeddings=emb,
        user_ids=users[known],
        item_rows=rows[known],
        scores=scores[known],
        manifest=manifest,
        unknown_item_ratings=unknown,
    )


# -------------------------------------------------------------------------------------------------
# Preprocessing (paper): like = score >= 4; keep users with >= min_likes likes; dense remap;
# per-user held-out validation and test rows.
# -------------------------------------------------------------------------------------------------
@dataclass
class Split:
    """Rows of the kept users, as indices into the snapshot's rating arrays."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


@dataclass
class Prepared:
    snapshot: Snapshot
    like: np.ndarray  # [R] int64 0/1 for every rating of the snapshot
    kept_users: List[str]  # prior row -> external id (sorted)
    user_row: np.ndarray  # [R] int64 prior row, -1 for ratings of dropped users
    split: Split
    dropped_ratings: int
    preprocessing: Dict  # manifest block
    all_users: List[str]  # every user with ratings (verifier rows, sorted)
    verifier_row: np.ndarray  # [R] int64 verifier row of each rating

    def verifier_rows_of(self, users: List[str]) -> List[int]:
        """The verifier's rows of these external user ids."""
        index = {u: k for k, u in enumerate(self.all_users)}
        return [index[u] for u in users]

    def rating_masks(self, users: List[str]) -> Tuple[np.ndarray, np.ndarray]:
        """[len(users), items] masks of the catalog items each user rated, and of those they liked."""
        index = {u: k for k, u in enumerate(users)}
        rated = np.zeros((len(users), len(self.snapshot.item_ids)), bool)
        liked = np.zeros_like(rated)
        for uid, row, is_like in zip(self.snapshot.user_ids, self.snapshot.item_rows, self.like):
            k = index.get(uid)
            if k is not None:
                rated[k, row] = True
                liked[k, row] |= bool(is_like)
        return rated, liked


def _sort_key(u: str):
    # numeric ids sort numerically, others lexicographically; deterministic either way
    return (0, int(u), u) if u.isdigit() else (1, 0, u)


def preprocess(
    snap: Snapshot,
    min_likes: int = 100,
    validation_per_user: int = 10,
    test_per_user: int = 10,
    split_seed: int = 42,
    like_threshold: int = 4,
) -> Prepared:
    if min_likes < 0 or validation_per_user < 0 or test_per_user < 0:
        raise DataError("min-likes and held-out counts must be >= 0")
    like = (snap.scores >= like_threshold).astype(np.int64)
    all_users = sorted(set(snap.user_ids.tolist()), key=_sort_key)
    vindex = {u: k for k, u in enumerate(all_users)}
    verifier_row = np.fromiter((vindex[u] for u in snap.user_ids), dtype=np.int64, count=len(like))
    n_all = len(all_users)
    likes_per_user = np.bincount(verifier_row, weights=like, minlength=n_all)
    rows_per_user = np.bincount(verifier_row, minlength=n_all)
    need_rows = validation_per_user + test_per_user + 1
    keep_mask = (likes_per_user >= min_likes) & (rows_per_user >= need_rows)
    kept = [u for k, u in enumerate(all_users) if keep_mask[k]]
    if not kept:
        raise DataError(
            f"no user has >= {min_likes} liked items and >= {need_rows} ratings; "
            f"lower --min-likes (the largest like count is {int(likes_per_user.max())})"
        )
    kindex = {u: k for k, u in enumerate(kept)}
    user_row = np.fromiter((kindex.get(u, -1) for u in snap.user_ids), dtype=np.int64, count=len(like))

    rng = np.random.RandomState(split_seed)
    train, val, test = [], [], []
    # group rating indices by prior row, in original order, then one seeded permutation per user
    order = np.argsort(user_row, kind="stable")
    sorted_rows = user_row[order]
    starts = np.searchsorted(sorted_rows, np.arange(len(kept)))
    ends = np.searchsorted(sorted_rows, np.arange(len(kept)), side="right")
    for r in range(len(kept)):
        idx = order[starts[r] : ends[r]]
        perm = idx[rng.permutation(len(idx))]
        val.append(perm[:validation_per_user])
        test.append(perm[validation_per_user : validation_per_user + test_per_user])
        train.append(perm[validation_per_user + test_per_user :])
    cat = lambda xs: np.sort(np.concatenate(xs)).astype(np.int64) if xs else np.zeros(0, np.int64)  # noqa: E731
    split = Split(train=cat(train), validation=cat(val), test=cat(test))
    dropped = int((user_row < 0).sum())
    block = {
        "likeThreshold": like_threshold,
        "minLikes": int(min_likes),
        "validationPerUser": int(validation_per_user),
        "testPerUser": int(test_per_user),
        "splitSeed": int(split_seed),
        "keptUsers": len(kept),
        "droppedRatings": dropped,
        "totalUsers": n_all,
        "totalRatings": int(len(like)),
        "unknownItemRatings": int(snap.unknown_item_ratings),
        "trainRows": int(len(split.train)),
        "validationRows": int(len(split.validation)),
        "testRows": int(len(split.test)),
    }
    return Prepared(
        snapshot=snap,
        like=like,
        kept_users=kept,
        user_row=user_row,
        split=split,
        dropped_ratings=dropped,
        preprocessing=block,
        all_users=all_users,
        verifier_row=verifier_row,
    )


def splits_json(p: Prepared) -> Dict:
    """Held-out rows as {user, item, score, like} records (written to splits.json in the artifact)."""
    s = p.snapshot

    def rec(idx: np.ndarray) -> List[Dict]:
        return [
            {
                "user": str(s.user_ids[i]),
                "item": s.item_ids[int(s.item_rows[i])],
                "score": int(s.scores[i]),
                "like": int(p.like[i]),
            }
            for i in idx
        ]

    return {"splitSeed": p.preprocessing["splitSeed"], "validation": rec(p.split.validation), "test": rec(p.split.test)}


def standardization(emb: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean/std over the catalog's items (std floored at 1e-6)."""
    mean = emb.astype(np.float64).mean(axis=0)
    std = emb.astype(np.float64).std(axis=0)
    std = np.maximum(std, 1e-6)
    return mean.astype(np.float32), std.astype(np.float32)
