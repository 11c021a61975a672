"""The fixed case of the evaluation statistics (tests/fixtures/distribution-case.json), which
tests/unit/distribution.test.ts checks src/ml/distribution.ts against: the file must be what
make_distribution_case.py writes now, and each figure must agree with a second NumPy formulation."""

import json
import math
from typing import Any

import numpy as np
import pytest
from make_distribution_case import FIXTURE, build_case, make_inputs


def _load() -> dict:
    with open(FIXTURE) as f:
        return json.load(f)


def _same(a: Any, b: Any, path: str = "") -> None:
    """Equal structure; numbers equal to 1e-12 relative (BLAS may round differently elsewhere)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (p, q) in enumerate(zip(a, b)):
            _same(p, q, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15), path
    else:
        assert a == b, path


def test_fixture_is_what_the_generator_writes():
    stored = _load()
    fresh = json.loads(json.dumps(build_case()))
    # Eigenvectors are defined up to sign: compared below, by the reconstruction.
    stored.pop("eigen")
    fresh.pop("eigen")
    _same(stored, fresh)


def _nuclear_frechet(x: np.ndarray, y: np.ndarray) -> float:
    """FD with tr sqrt(Cx^1/2 Cy Cx^1/2) as the nuclear norm of Xc Yc^T / sqrt((nx - 1)(ny - 1)) (SVD)."""
    xc, yc = x - x.mean(0), y - y.mean(0)
    nx, ny = len(x), len(y)
    cross = np.linalg.svd(xc @ yc.T / math.sqrt((nx - 1) * (ny - 1)), compute_uv=False).sum()
    tx = (xc**2).sum() / (nx - 1)
    ty = (yc**2).sum() / (ny - 1)
    return float(((x.mean(0) - y.mean(0)) ** 2).sum() + tx + ty - 2 * cross)


def test_frechet_by_singular_values_and_by_quality_py():
    from training.rebeca.quality import frechet_distance

    case = _load()
    i = make_inputs()
    pairs = {
        "xy": (i["x"], i["y"]),
        "yx": (i["y"], i["x"]),
        "singularY": (i["singular"], i["y"]),
        "ySingular": (i["y"], i["singular"]),
        "singularSingular2": (i["singular"], i["singular2"]),
    }
    for name, (a, b) in pairs.items():
        expected = case["frechet"][name]
        # eigh's square root keeps rounding-noise eigenvalues of a singular product: ~1e-9 relative
        assert _nuclear_frechet(a, b) == pytest.approx(expected, rel=1e-8), name
        assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-12), name
    # a set against itself, and the order of the two sets
    assert _nuclear_frechet(i["x"], i["x"]) == pytest.approx(0.0, abs=1e-12)
    assert case["frechet"]["xy"] == pytest.approx(case["frechet"]["yx"], rel=1e-12)


def _cmmd_by_distances(x: np.ndarray, y: np.ndarray, sigma: float = 10.0, scale: float = 1000.0) -> float:
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)

    def k(a: np.ndarray, b: np.ndarray) -> float:
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return float(np.exp(-d2 / (2 * sigma**2)).mean())

    return scale * (k(x, x) + k(y, y) - 2 * k(x, y))


def test_cmmd_by_pairwise_distances():
    case = _load()
    i = make_inputs()
    assert _cmmd_by_distances(i["x"], i["y"]) == pytest.approx(case["cmmd"]["xy"], rel=1e-9)
    assert _cmmd_by_distances(i["singular"], i["y"]) == pytest.approx(case["cmmd"]["singularY"], rel=1e-9)
    assert _cmmd_by_distances(i["x"], i["y"], 1.0, 1.0) == pytest.approx(case["cmmd"]["xySigma1Scale1"], rel=1e-9)
    assert _cmmd_by_distances(i["x"], i["x"]) == pytest.approx(0.0, abs=1e-9)


def test_precision_recall_by_loops():
    case = _load()["precisionRecall"]
    i = make_inputs()
    users = i["users"]

    def cos(a: np.ndarray, b: np.ndarray) -> float:
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    precision: list = [None] * users
    recall: list = [None] * users
    matched = []
    for u in range(users):
        held = [h for h in range(len(i["heldOutOwners"])) if i["heldOutOwners"][h] == u]
        hits = set()
        mine = [g for g in range(len(i["generatedOwners"])) if i["generatedOwners"][g] == u]
        liked_hits = 0
        for g in mine:
            best = max(held, key=lambda h: cos(i["generated"][g], i["heldOut"][h]))
            if i["liked"][best]:
                liked_hits += 1
                hits.add(best)
        if mine and held:
            precision[u] = liked_hits / len(mine)
        liked = [h for h in held if i["liked"][h]]
        if liked:
            recall[u] = len(hits) / len(liked)
    for g in range(len(i["generatedOwners"])):
        u = i["generatedOwners"][g]
        held = [h for h in range(len(i["heldOutOwners"])) if i["heldOutOwners"][h] == u]
        matched.append(max(held, key=lambda h: cos(i["generated"][g], i["heldOut"][h])) if held else -1)
    assert case["perUserPrecision"] == pytest.approx(precision)
    assert case["perUserRecall"] == pytest.approx(recall)
    assert case["matched"] == matched
    assert case["precision"] == pytest.approx(np.mean([p for p in precision if p is not None]))
    assert case["recall"] == pytest.approx(np.mean([r for r in recall if r is not None]))
    # the case covers a user with held-out rows but no likes, and one with nothing
    assert precision[2] is not None and recall[2] is None and precision[3] is None


def test_diversity_histogram_and_eigen_by_hand():
    case = _load()
    i = make_inputs()
    for name in ("x", "y", "singular"):
        rows = i[name]
        d = [
            1 - rows[a] @ rows[b] / (np.linalg.norm(rows[a]) * np.linalg.norm(rows[b]))
            for a in range(len(rows))
            for b in range(a + 1, len(rows))
        ]
        assert case["diversity"][name] == pytest.approx(float(np.mean(d)), rel=1e-12)
    h = case["histogram"]
    values, edges = i["values"], np.array(h["edges"])
    assert edges[0] == values.min() and edges[-1] == values.max() and len(edges) == h["bins"] + 1
    by_hand = [
        int(((values >= lo) & ((values < hi) if k < h["bins"] - 1 else (values <= hi))).sum())
        for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:]))
    ]
    assert h["counts"] == by_hand and sum(by_hand) == len(values)
    w, v = np.array(case["eigen"]["values"]), np.array(case["eigen"]["vectors"])
    assert np.all(np.diff(w) >= 0)
    assert np.allclose(v @ np.diag(w) @ v.T, i["symmetric"], atol=1e-12)
    assert np.allclose(v.T @ v, np.eye(len(w)), atol=1e-12)
