"""A small synthetic taste world written as a dataset snapshot (tests and the committed tiny fixture).

Items: Gaussian clusters in R^D. Users: a taste direction; score = 3 + 1.6 * <taste, z(e)> + noise,
rounded and clipped to 1..5. The last `sparse_users` users rate only a handful of items (dropped by
--min-likes). numpy only.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os

import numpy as np


def write_snapshot(
    out: str,
    n_users: int = 12,
    n_items: int = 300,
    dim: int = 16,
    ratings_per_user: int = 60,
    sparse_users: int = 2,
    sparse_ratings: int = 6,
    clusters: int = 6,
    seed: int = 7,
    flickr_header: bool = False,
) -> str:
    rng = np.random.RandomState(seed)
    os.makedirs(out, exist_ok=True)
    centers = rng.randn(clusters, dim) * 1.5
    assign = rng.randint(0, clusters, n_items)
    emb = (centers[assign] + rng.randn(n_items, dim) * 0.6 + 0.25).astype(np.float32)
    z = (emb - emb.mean(0)) / emb.std(0)
    item_ids = [f"img{k:04d}" for k in range(n_items)]
    users = [f"u{k:02d}" for k in range(n_users + sparse_users)]
    taste = rng.randn(n_users + sparse_users, dim)
    taste /= np.linalg.norm(taste, axis=1, keepdims=True)
    rows = []
    for k, u in enumerate(users):
        m = ratings_per_user if k < n_users else sparse_ratings
        items = rng.choice(n_items, size=m, replace=False)
        s = 3 + 1.6 * (z[items] @ taste[k]) / np.sqrt(dim) * 2.0 + rng.randn(m) * 0.5
        s = np.clip(np.rint(s), 1, 5).astype(int)
        rows += [(u, item_ids[i], int(v)) for i, v in zip(items, s)]
    rows.sort(key=lambda r: (r[0], r[1]))
    with open(os.path.join(out, "items.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["item_id", "title", "image_url"])
        for i in item_ids:
            w.writerow([i, f"synthetic {i}", ""])
    np.save(os.path.join(out, "embeddings.npy"), emb)
    with open(os.path.join(out, "ratings.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["worker", " imagePair", " score"] if flickr_header else ["user_id", "item_id", "score"])
        for r in rows:
            w.writerow(r)
    h = hashlib.sha256()
    for fn in ("items.csv", "embeddings.npy", "ratings.csv"):
        with open(os.path.join(out, fn), "rb") as f:
            h.update(f.read())
    manifest = {
        "formatVersion": 1,
        "kind": "rebeca-dataset",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "embeddingDim": dim,
        "counts": {"users": len(users), "items": n_items, "ratings": len(rows)},
        "contentHash": h.hexdigest(),
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
    return out


if __name__ == "__main__":
    import sys

    print(write_snapshot(sys.argv[1]))
