"""Writes tests/fixtures/distribution-case.json: a fixed small case of the evaluation statistics of issue 12
(src/ml/distribution.ts), computed here with NumPy alone. tests/unit/distribution.test.ts recomputes every
figure with the TypeScript functions; training/tests/test_distribution_case.py rebuilds the case and checks
it against this file and against independent NumPy formulations, so the fixture cannot rot.

    /usr/bin/python3 training/tests/make_distribution_case.py

The inputs are rounded to float32 (stored as the float64 values of those float32 numbers), so that the
TypeScript side reads them exactly into a Float32Array; every figure is computed in float64.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "distribution-case.json")
SEED = 20261212
DIM = 8


def _f32(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def make_inputs() -> Dict[str, Any]:
    """The case's inputs, from one seeded generator (the order of draws is part of the fixture)."""
    rng = np.random.RandomState(SEED)
    x = _f32(rng.randn(30, DIM) * 0.8 + 0.3)
    y = _f32(rng.randn(40, DIM) @ np.diag(np.linspace(0.5, 1.5, DIM)) + np.linspace(-0.5, 0.5, DIM))
    singular = _f32(rng.randn(5, DIM) + 1.0)  # 5 rows in 8 dimensions: a covariance of rank 4
    singular2 = _f32(rng.randn(6, DIM) * 1.3)  # rank 5
    users = 4  # user 2 has held-out rows but none liked; user 3 has nothing at all
    gen_owners = np.array([0] * 4 + [1] * 5 + [2] * 3, dtype=np.int64)
    generated = _f32(rng.randn(len(gen_owners), DIM))
    held_owners = np.array([0] * 7 + [1] * 8 + [2] * 5, dtype=np.int64)
    held = _f32(rng.randn(len(held_owners), DIM))
    liked = np.zeros(len(held_owners), dtype=np.int64)
    liked[[0, 2, 3, 5, 7, 8, 11, 12, 14]] = 1
    symmetric = rng.randn(6, 6)
    symmetric = _f32((symmetric + symmetric.T) / 2)
    values = _f32(rng.randn(200))
    return {
        "x": x,
        "y": y,
        "singular": singular,
        "singular2": singular2,
        "users": users,
        "generatedOwners": gen_owners,
        "generated": generated,
        "heldOutOwners": held_owners,
        "heldOut": held,
        "liked": liked,
        "symmetric": symmetric,
        "values": values,
    }


# -------------------------------------------------------------------------------------------------
# The figures, written as the references write them
# -------------------------------------------------------------------------------------------------
def sqrtm_psd(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet(x: np.ndarray, y: np.ndarray) -> float:
    """||mu_x - mu_y||^2 + tr(Cx) + tr(Cy) - 2 tr sqrtm(Cx^1/2 Cy Cx^1/2), numpy.cov (n - 1)."""
    cx, cy = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    sx = sqrtm_psd(cx)
    cross = sqrtm_psd(sx @ cy @ sx)
    return float(((x.mean(0) - y.mean(0)) ** 2).sum() + np.trace(cx) + np.trace(cy) - 2 * np.trace(cross))


def cmmd(x: np.ndarray, y: np.ndarray, sigma: float = 10.0, scale: float = 1000.0) -> float:
    """google-research/cmmd distance.py `mmd` on L2-normalised rows (all pairs, diagonal included)."""
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    x_sq = np.diag(x @ x.T)
    y_sq = np.diag(y @ y.T)
    gamma = 1 / (2 * sigma**2)
    k_xx = np.mean(np.exp(-gamma * (-2 * (x @ x.T) + x_sq[:, None] + x_sq[None, :])))
    k_xy = np.mean(np.exp(-gamma * (-2 * (x @ y.T) + x_sq[:, None] + y_sq[None, :])))
    k_yy = np.mean(np.exp(-gamma * (-2 * (y @ y.T) + y_sq[:, None] + y_sq[None, :])))
    return float(scale * (k_xx + k_yy - 2 * k_xy))


def precision_recall(
    generated: np.ndarray,
    gen_owners: np.ndarray,
    held: np.ndarray,
    held_owners: np.ndarray,
    liked: np.ndarray,
    users: int,
) -> Dict[str, Any]:
    """Each generated embedding matched to its nearest (cosine) held-out item of its user."""
    g = generated / np.linalg.norm(generated, axis=1, keepdims=True)
    h = held / np.linalg.norm(held, axis=1, keepdims=True)
    matched = np.full(len(g), -1)
    precision = np.full(users, np.nan)
    recall = np.full(users, np.nan)
    for u in range(users):
        mine = np.flatnonzero(gen_owners == u)
        theirs = np.flatnonzero(held_owners == u)
        hits = set()
        if len(mine) and len(theirs):
            nearest = theirs[np.argmax(g[mine] @ h[theirs].T, axis=1)]
            matched[mine] = nearest
            precision[u] = float(liked[nearest].mean())
            hits = {int(i) for i in nearest if liked[i]}
        liked_rows = theirs[liked[theirs] == 1]
        if len(liked_rows):
            recall[u] = len(hits) / len(liked_rows)
    return {
        "precision": float(np.nanmean(precision)),
        "recall": float(np.nanmean(recall)),
        "perUserPrecision": [None if np.isnan(p) else float(p) for p in precision],
        "perUserRecall": [None if np.isnan(r) else float(r) for r in recall],
        "matched": matched.tolist(),
    }


def diversity(x: np.ndarray) -> float:
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    c = u @ u.T
    return float((1 - c[np.triu_indices(len(x), 1)]).mean())


def build_case() -> Dict[str, Any]:
    i = make_inputs()
    x, y, s1, s2 = i["x"], i["y"], i["singular"], i["singular2"]
    counts, edges = np.histogram(i["values"], bins=10)
    w, v = np.linalg.eigh(i["symmetric"])
    return {
        "about": (
            "Evaluation statistics of issue 12 on a fixed case, written by training/tests/"
            f"make_distribution_case.py with NumPy (seed {SEED}); checked by tests/unit/distribution.test.ts "
            "(TypeScript, src/ml/distribution.ts) and training/tests/test_distribution_case.py (rebuilds it, "
            "and recomputes every figure by a second NumPy formulation). Matrices are row-major lists of rows; "
            "inputs are float32 values. frechet: numpy.cov (n - 1) and eigh-based sqrtm; cmmd: "
            "google-research/cmmd (L2-normalised rows, all pairs); precision/recall: the REBECA reference "
            "code's nearest held-out item of the same user; null: no value (undefined for that user)."
        ),
        "dim": DIM,
        "inputs": {
            "x": i["x"].tolist(),
            "y": i["y"].tolist(),
            "singular": i["singular"].tolist(),
            "singular2": i["singular2"].tolist(),
            "users": i["users"],
            "generated": i["generated"].tolist(),
            "generatedOwners": i["generatedOwners"].tolist(),
            "heldOut": i["heldOut"].tolist(),
            "heldOutOwners": i["heldOutOwners"].tolist(),
            "liked": i["liked"].tolist(),
            "symmetric": i["symmetric"].tolist(),
            "values": i["values"].tolist(),
        },
        "frechet": {
            "xy": frechet(x, y),
            "yx": frechet(y, x),
            "singularY": frechet(s1, y),
            "ySingular": frechet(y, s1),
            "singularSingular2": frechet(s1, s2),
        },
        "cmmd": {
            "xy": cmmd(x, y),
            "singularY": cmmd(s1, y),
            "xySigma1Scale1": cmmd(x, y, sigma=1.0, scale=1.0),
        },
        "precisionRecall": precision_recall(
            i["generated"], i["generatedOwners"], i["heldOut"], i["heldOutOwners"], i["liked"], i["users"]
        ),
        "diversity": {"x": diversity(x), "y": diversity(y), "singular": diversity(s1)},
        "histogram": {"bins": 10, "edges": edges.tolist(), "counts": counts.tolist()},
        "eigen": {"values": w.tolist(), "vectors": v.tolist()},
    }


def main() -> None:
    with open(FIXTURE, "w") as f:
        json.dump(build_case(), f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(FIXTURE, ROOT)}")


if __name__ == "__main__":
    main()
