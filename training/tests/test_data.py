"""Snapshot loading and preprocessing (numpy only)."""

import csv
import os

import numpy as np
import pytest
from training.rebeca.data import DataError, load_snapshot, preprocess, splits_json, standardization
from training.rebeca.synthetic import write_snapshot


def _write(dirpath, items, emb, ratings, header=("user_id", "item_id", "score"), manifest=True):
    os.makedirs(dirpath, exist_ok=True)
    with open(os.path.join(dirpath, "items.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["item_id", "title", "image_url"])
        for i in items:
            w.writerow([i, 'a, "quoted" title', ""])
    np.save(os.path.join(dirpath, "embeddings.npy"), np.asarray(emb))
    with open(os.path.join(dirpath, "ratings.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in ratings:
            w.writerow(r)
    if manifest:
        with open(os.path.join(dirpath, "manifest.json"), "w") as f:
            f.write('{"formatVersion": 1, "kind": "rebeca-dataset", "contentHash": "abc"}')
    return dirpath


def _world(tmp_path, likes_a=6, likes_b=3, header=("user_id", "item_id", "score")):
    items = [f"i{k}" for k in range(20)]
    emb = np.arange(40, dtype=np.float64).reshape(20, 2)
    ratings = []
    # user a: likes_a likes + 4 dislikes; user b: likes_b likes + 10 dislikes; user c: 8 likes
    for k in range(likes_a):
        ratings.append(("a", items[k], 5))
    for k in range(4):
        ratings.append(("a", items[10 + k], 2))
    for k in range(likes_b):
        ratings.append(("b", items[k], 4))
    for k in range(10):
        ratings.append(("b", items[10 + k], 3))
    for k in range(8):
        ratings.append(("10", items[k], 4))
    return _write(str(tmp_path / "w"), items, emb, ratings, header=header)


def test_load_and_like_threshold(tmp_path):
    s = load_snapshot(_world(tmp_path))
    assert s.embeddings.dtype == np.float32 and s.embeddings.shape == (20, 2)
    assert len(s.scores) == 6 + 4 + 3 + 10 + 8
    p = preprocess(s, min_likes=0, validation_per_user=0, test_per_user=0)
    assert p.like.sum() == 6 + 3 + 8  # score >= 4


def test_flickr_header(tmp_path):
    s = load_snapshot(_world(tmp_path, header=("worker", " imagePair", " score")))
    assert len(s.scores) == 31 and set(s.user_ids) == {"a", "b", "10"}


def test_keeps_and_drops_users(tmp_path):
    s = load_snapshot(_world(tmp_path))
    p = preprocess(s, min_likes=5, validation_per_user=1, test_per_user=1)
    # a (6 likes) and 10 (8 likes) kept; b (3 likes) dropped; sorted: numeric ids first
    assert p.kept_users == ["10", "a"]
    assert p.preprocessing["keptUsers"] == 2 and p.preprocessing["droppedRatings"] == 13
    assert p.all_users == ["10", "a", "b"]  # the verifier keeps every user
    assert set(p.user_row[np.array(s.user_ids) == "b"]) == {-1}
    # per-user held-out rows
    for rows in (p.split.validation, p.split.test):
        assert sorted(p.user_row[rows].tolist()) == [0, 1]
    n_kept_rows = 8 + 10
    assert len(p.split.train) + len(p.split.validation) + len(p.split.test) == n_kept_rows
    assert not set(p.split.train) & set(p.split.validation) and not set(p.split.train) & set(p.split.test)
    # min-likes 7 keeps only "10"; 9 keeps nobody -> clear error
    assert preprocess(s, min_likes=7, validation_per_user=1, test_per_user=1).kept_users == ["10"]
    with pytest.raises(DataError, match="min-likes"):
        preprocess(s, min_likes=9)
    # a user with enough likes but too few rows for the held-out sets is dropped
    assert preprocess(s, min_likes=5, validation_per_user=4, test_per_user=4).kept_users == ["a"]


def test_split_is_seeded(tmp_path):
    s = load_snapshot(write_snapshot(str(tmp_path / "s")))
    a = preprocess(s, min_likes=5, validation_per_user=2, test_per_user=2, split_seed=42)
    b = preprocess(s, min_likes=5, validation_per_user=2, test_per_user=2, split_seed=42)
    c = preprocess(s, min_likes=5, validation_per_user=2, test_per_user=2, split_seed=1)
    assert np.array_equal(a.split.test, b.split.test)
    assert not np.array_equal(a.split.test, c.split.test)
    js = splits_json(a)
    assert len(js["validation"]) == 2 * len(a.kept_users) and {"user", "item", "score", "like"} <= set(js["test"][0])


def test_standardization():
    e = np.array([[1.0, 5.0], [3.0, 5.0]], dtype=np.float32)
    m, s = standardization(e)
    assert np.allclose(m, [2, 5]) and np.allclose(s, [1, 1e-6])


@pytest.mark.parametrize(
    "breaker,msg",
    [
        (lambda d: os.remove(os.path.join(d, "ratings.csv")), "missing file"),
        (lambda d: open(os.path.join(d, "ratings.csv"), "w").write("who,what,score\nx,y,3\n"), "header"),
        (lambda d: open(os.path.join(d, "ratings.csv"), "a").write("a,i1,7\n"), "1..5"),
        (lambda d: np.save(os.path.join(d, "embeddings.npy"), np.zeros((3, 2))), "rows"),
        (lambda d: np.save(os.path.join(d, "embeddings.npy"), np.zeros((20, 2), dtype=np.int32)), "float32"),
    ],
)
def test_bad_input(tmp_path, breaker, msg):
    d = _world(tmp_path)
    breaker(d)
    with pytest.raises(DataError, match=msg):
        load_snapshot(d)


def test_manifest_optional_and_unknown_items(tmp_path):
    d = _write(str(tmp_path / "x"), ["p", "q"], np.zeros((2, 3)), [("u", "p", 4), ("u", "zzz", 1)], manifest=False)
    s = load_snapshot(d)
    assert s.content_hash is not None and len(s.content_hash) == 64
    assert s.unknown_item_ratings == 1 and len(s.scores) == 1
