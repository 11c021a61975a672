"""How good are generated items? Measures on the catalog (always) and on a taste world's oracle (when the
world's truth.json is at hand): the numbers of the health gate in `train` and of the generation-quality
benchmark (bench/generation_quality.py).

- norm ratio: mean raw L2 norm of generated embeddings / the catalog's;
- nearest-catalog cosine: mean over generated embeddings of the raw cosine to their nearest catalog item
  (the catalog's own items to their nearest other item, for reference);
- Frechet distance between generated and catalog embeddings, in standardised space (per dimension);
- the paper's permutation test (Algorithm 1) with the verifier and, on a taste world, with the oracle;
- on a taste world, oracle like-rates: generated items for their own user and for the other users, the
  users' liked catalog items, the catalog top 10 by the verifier, the blended top 10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np


# -------------------------------------------------------------------------------------------------
# Statistics
# -------------------------------------------------------------------------------------------------
def permutation_test(scores: np.ndarray, owner: np.ndarray, permutations: int, rng: np.random.RandomState) -> Dict:
    """The paper's Algorithm 1. scores [U, N]: score of sample j under user i; owner [N]: the user each
    sample was generated for. Statistic: mean over users of the mean score of their own samples; null:
    the same after shuffling owner; p = (k + 1) / (permutations + 1) with k shuffles >= the statistic."""
    U = scores.shape[0]
    cols = np.arange(scores.shape[1])

    def stat(own: np.ndarray) -> float:
        vals = scores[own, cols]
        per_user = np.bincount(own, weights=vals, minlength=U) / np.maximum(np.bincount(own, minlength=U), 1)
        return float(per_user.mean())

    s = stat(owner)
    null = np.array([stat(owner[rng.permutation(len(owner))]) for _ in range(permutations)])
    own_mask = owner[None, :] == np.arange(U)[:, None]
    own_mean = (scores * own_mask).sum(1) / np.maximum(own_mask.sum(1), 1)
    other_mean = (scores * ~own_mask).sum(1) / np.maximum((~own_mask).sum(1), 1)
    sd = float(null.std())
    tie = 1e-12  # equal statistics summed in another order differ by rounding
    k = int((null >= s - tie).sum())
    return {
        "statistic": s,
        "permutationMean": float(null.mean()),
        "permutationStd": sd,
        "gap": s - float(null.mean()),
        "z": (s - float(null.mean())) / sd if sd > tie else None,
        "pValue": (k + 1) / (permutations + 1),
        "permutations": permutations,
        "ownVsOthersGap": float((own_mean - other_mean).mean()),
        "ownMean": float(own_mean.mean()),
        "othersMean": float(other_mean.mean()),
        "usersWithPositiveGap": int((own_mean > other_mean).sum()),
    }


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(x: np.ndarray, y: np.ndarray) -> float:
    """||mu_x - mu_y||^2 + tr(Cx + Cy - 2 (Cx^1/2 Cy Cx^1/2)^1/2), by eigendecompositions (no scipy)."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    mx, my = x.mean(0), y.mean(0)
    cx, cy = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    sx = _sqrtm_psd(cx)
    cross = _sqrtm_psd(sx @ cy @ sx)
    return float(((mx - my) ** 2).sum() + np.trace(cx) + np.trace(cy) - 2 * np.trace(cross))


def nearest_cosine(
    queries: np.ndarray, catalog: np.ndarray, exclude_self: bool = False, exclude_rows: Optional[np.ndarray] = None
) -> np.ndarray:
    """Raw cosine of each query to its nearest catalog row. exclude_self: query i is catalog row i;
    exclude_rows: query i is catalog row exclude_rows[i] (either is skipped as its own neighbour)."""
    q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    c = catalog / np.maximum(np.linalg.norm(catalog, axis=1, keepdims=True), 1e-12)
    own = np.arange(len(q)) if exclude_self else exclude_rows
    out = np.empty(len(q))
    for s in range(0, len(q), 512):
        sims = q[s : s + 512] @ c.T
        if own is not None:
            idx = np.arange(s, min(s + 512, len(q)))
            sims[np.arange(len(idx)), own[idx]] = -np.inf
        out[s : s + 512] = sims.max(1)
    return out


# -------------------------------------------------------------------------------------------------
# The data's range: the clamp bounds of sampling and the checks of a finished sample
# -------------------------------------------------------------------------------------------------
NORM_TOLERANCE = 1.25  # a finished sample's norm may be this factor outside the catalog's norm range


def data_range(emb: np.ndarray, mean: np.ndarray, std: np.ndarray) -> Dict:
    """The catalog's range: per-dimension min and max in standardised space (the clamp of the clean
    estimate) and the raw L2 norm range (the check of a finished sample)."""
    z = (emb.astype(np.float64) - mean) / std
    norms = np.linalg.norm(emb.astype(np.float64), axis=1)
    return {
        "lower": z.min(0).tolist(),
        "upper": z.max(0).tolist(),
        "normMin": float(norms.min()),
        "normMax": float(norms.max()),
        "normMean": float(norms.mean()),
        "normTolerance": NORM_TOLERANCE,
    }


def in_range(samples: np.ndarray, rng_: Dict, mean: np.ndarray, std: np.ndarray, slack: float = 1e-3) -> np.ndarray:
    """Which raw samples are finite, within the catalog's norm range (times the tolerance) and within its
    per-dimension range (plus a little slack for float rounding)."""
    samples = np.asarray(samples, np.float64)
    finite = np.isfinite(samples).all(1)
    norms = np.linalg.norm(np.where(np.isfinite(samples), samples, 0), axis=1)
    tol = rng_.get("normTolerance", NORM_TOLERANCE)
    norm_ok = (norms >= rng_["normMin"] / tol) & (norms <= rng_["normMax"] * tol)
    z = (samples - mean) / std
    lo, hi = np.asarray(rng_["lower"]), np.asarray(rng_["upper"])
    dims_ok = ((z >= lo - slack) & (z <= hi + slack)).all(1)
    return finite & norm_ok & dims_ok


# -------------------------------------------------------------------------------------------------
# The oracle of a taste world (truth.json)
# -------------------------------------------------------------------------------------------------
class Oracle:
    """The world's ground-truth P(like | user, e), vectorised (formula from truth.json)."""

    def __init__(self, truth: Dict):
        E = truth["embedding"]
        self.mean = np.asarray(E["mean"], dtype=np.float64)
        self.scale = np.asarray(E["scale"], dtype=np.float64)
        self.temperature = float(truth["oracle"]["temperature"])
        self.attrs = [a["name"] for a in truth["attributes"]]
        self.protos = [np.asarray(E["prototypes"][a], dtype=np.float64) for a in self.attrs]
        self.user_index = {u["id"]: k for k, u in enumerate(truth["users"])}
        self.bias = np.array([u["bias"] for u in truth["users"]], dtype=np.float64)
        self.weights = [
            np.array([u["weights"][a] for u in truth["users"]], dtype=np.float64) for a in range(len(self.attrs))
        ]  # per attribute [users, K_a]

    def posteriors(self, emb: np.ndarray) -> List[np.ndarray]:
        z = (np.asarray(emb, dtype=np.float64) - self.mean) / self.scale
        out = []
        for Q in self.protos:
            # ||z - q||^2 / D without the [N, K, D] temporary
            d2 = ((z**2).sum(1)[:, None] - 2 * z @ Q.T + (Q**2).sum(1)[None, :]) / z.shape[1]
            d2 = d2 / self.temperature
            p = np.exp(-(d2 - d2.min(axis=1, keepdims=True)))
            out.append(p / p.sum(axis=1, keepdims=True))
        return out

    def prob(self, user_ids: Sequence[str], emb: np.ndarray) -> np.ndarray:
        """[len(user_ids), N] probabilities."""
        rows = [self.user_index[u] for u in user_ids]
        logit = np.repeat(self.bias[rows][:, None], len(emb), axis=1)
        for W, P in zip(self.weights, self.posteriors(emb)):
            logit += W[rows] @ P.T
        return 1.0 / (1.0 + np.exp(-logit))


def verifier_matrix(vp: Dict[str, np.ndarray], rows: Sequence[int], emb: np.ndarray) -> np.ndarray:
    """[len(rows), N] verifier probabilities."""
    e = np.asarray(emb, dtype=np.float64)
    proj = e @ vp["Ma"].astype(np.float64)  # [N, d]
    th = vp["theta"][list(rows)].astype(np.float64)  # [U, d]
    z = th @ proj.T + vp["bu"][list(rows)].astype(np.float64)[:, None] + (e @ vp["mb"].astype(np.float64))[None, :]
    return 1.0 / (1.0 + np.exp(-z))


# -------------------------------------------------------------------------------------------------
# The blend (mirrors src/services/recommendation/blend.ts)
# -------------------------------------------------------------------------------------------------
def _logit(p: float) -> float:
    q = min(max(float(p), 1e-9), 1 - 1e-9)
    return math.log(q / (1 - q))


def blend_top(
    catalog_scores: np.ndarray, generated_scores: np.ndarray, first: int, share: float, margin: float = 0.0
) -> List[tuple]:
    """One user's blended answer (mirrors src/services/blend.ts): catalog items by score (already ranked,
    best first) and at most round(share * first) generated items, each only where its verifier logit minus
    `margin` is at least the logit of the catalog item it displaces. Returns [(source, index)] best first."""
    slots = int(math.floor(share * first + 0.5))
    gen_order = [int(i) for i in np.argsort(-np.asarray(generated_scores), kind="stable")][:slots]
    cat = list(range(min(first, len(catalog_scores))))
    taken: List[int] = []
    for g in gen_order:
        if len(cat) + len(taken) < first:
            taken.append(g)
            continue
        if not cat or _logit(generated_scores[g]) - margin < _logit(catalog_scores[cat[-1]]):
            break
        cat.pop()
        taken.append(g)
    entries = [("catalog", i, float(catalog_scores[i])) for i in cat] + [
        ("generated", g, float(generated_scores[g])) for g in taken
    ]
    entries.sort(key=lambda e: -e[2])
    return [(s, i) for s, i, _ in entries[:first]]


@dataclass
class QualityReport:
    figures: Dict = field(default_factory=dict)

    def __getitem__(self, k):
        return self.figures[k]


def measure(
    samples: np.ndarray,
    owner: np.ndarray,
    users: Sequence[str],
    catalog: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    vp: Dict[str, np.ndarray],
    verifier_rows: Sequence[int],
    oracle: Optional[Oracle] = None,
    liked: Optional[np.ndarray] = None,
    rated: Optional[np.ndarray] = None,
    permutations: int = 1000,
    seed: int = 0,
    first: int = 10,
    share: float = 0.2,
    catalog_nn: Optional[float] = None,
    margins: Sequence[float] = (0.0,),
) -> Dict:
    """Figures for `samples` [N, D] (raw) generated for `users[owner[j]]`. liked / rated: [U, items] masks
    of the users' catalog ratings (liked reference, and items excluded from the top 10)."""
    rng = np.random.RandomState(seed)
    samples = np.asarray(samples, np.float64)
    out: Dict[str, Any] = {"samples": int(len(samples)), "users": len(users)}
    finite = np.isfinite(samples).all(1)
    out["nonFinite"] = int((~finite).sum())
    if not finite.all():
        return out
    cat_norm = float(np.linalg.norm(catalog, axis=1).mean())
    out["normRatio"] = float(np.linalg.norm(samples, axis=1).mean()) / cat_norm
    out["nearestCatalogCosine"] = float(nearest_cosine(samples, catalog).mean())
    if catalog_nn is not None:
        out["catalogNearestCosine"] = catalog_nn
    zs = (samples - mean) / std
    zc = (catalog.astype(np.float64) - mean) / std
    out["standardisedRms"] = float(np.sqrt((zs**2).mean()))
    if len(samples) > 2:
        out["frechet"] = frechet_distance(zs, zc) / zs.shape[1]  # per dimension
    unit = zs / np.maximum(np.linalg.norm(zs, axis=1, keepdims=True), 1e-12)
    within = []
    for u in range(len(users)):
        rows = unit[owner == u]
        if len(rows) > 1:
            c = rows @ rows.T
            within.append(c[np.triu_indices(len(rows), 1)].mean())
    out["withinUserCosine"] = float(np.mean(within)) if within else None
    S_v = verifier_matrix(vp, verifier_rows, samples)
    out["verifier"] = permutation_test(S_v, owner, permutations, rng)
    if oracle is not None:
        S_o = oracle.prob(list(users), samples)
        t = permutation_test(S_o, owner, permutations, rng)
        out["oracle"] = t
        cat_o = oracle.prob(list(users), catalog)
        cat_v = verifier_matrix(vp, verifier_rows, catalog)
        ref: Dict[str, Any] = {"catalog": float(cat_o.mean())}
        if liked is not None:
            ref["likedItems"] = float(np.mean([cat_o[u][liked[u]].mean() for u in range(len(users)) if liked[u].any()]))
        top_cat = []
        blends = {m: ([], []) for m in margins}
        for u in range(len(users)):
            v = cat_v[u].copy()
            if rated is not None:
                v[rated[u]] = -np.inf
            order = np.argsort(-v, kind="stable")[:first]
            top_cat.append(cat_o[u][order].mean())
            own = np.flatnonzero(owner == u)
            gen_scores = S_v[u][own]
            for margin in margins:
                picked = blend_top(v[order], gen_scores, first, share, margin)
                vals = [cat_o[u][order[i]] if s == "catalog" else S_o[u][own[i]] for s, i in picked]
                blends[margin][0].append(float(np.mean(vals)))
                blends[margin][1].append(sum(1 for s, _ in picked if s == "generated"))
        ref["catalogTop10ByVerifier"] = float(np.mean(top_cat))
        ref["blendedTop10"] = float(np.mean(blends[margins[0]][0]))
        ref["generatedInTop10"] = float(np.mean(blends[margins[0]][1]))
        ref["blendByMargin"] = {
            str(m): {
                "blendedTop10": float(np.mean(b[0])),
                "generatedInTop10": float(np.mean(b[1])),
                "usersWithGenerated": int(sum(1 for x in b[1] if x > 0)),
            }
            for m, b in blends.items()
        }
        ref["best20Catalog"] = float(np.sort(cat_o, axis=1)[:, -20:].mean())
        out["reference"] = ref
    return out
