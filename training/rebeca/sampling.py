"""Sampling from the prior: classifier-free guidance, the clean estimate clamped into the data's range,
optional verifier guidance, DDPM ancestral or DDIM steps; then candidate selection by the verifier.

Guidance combines model outputs, `out = out_null + w * (out_cond - out_null)` (the null branch uses the
null user row and rating 2); for any prediction type this equals guiding the noise, since each type is
affine in the output. The gateway's sampler (src/ml/sampler.ts) follows the same steps in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .model import RATING_NULL, RebecaPrior
from .schedule import Schedule


@dataclass
class VerifierGuidance:
    """Pushes the clean estimate up the verifier's log P(like | user, e) at every step.

    The verifier is logistic in the raw embedding e = x * std + mean, so in standardised space its logit is
    `z = w . x + c` with `w = std * (Ma theta_u + mb)` and `c = (Ma theta_u + mb) . mean + b_u`, and
    `d log sigmoid(z) / dx = (1 - sigmoid(z)) w`. The push is `scale * (1 - sigmoid(z)) * w / rms(w)`:
    `scale` is the largest move per step in standardised units (RMS over dimensions); it fades as the
    verifier becomes sure, and the clamp into the data's range bounds it."""

    weights: torch.Tensor  # [B, D] w per row (standardised space)
    offsets: torch.Tensor  # [B] c per row
    scale: float

    def __call__(self, x0: torch.Tensor) -> torch.Tensor:
        if self.scale == 0:
            return x0
        z = (x0 * self.weights).sum(-1) + self.offsets
        rms = self.weights.pow(2).mean(-1).sqrt().clamp_min(1e-12)
        push = (1 - torch.sigmoid(z)) / rms
        return x0 + self.scale * push[:, None] * self.weights


def verifier_guidance(
    vp, verifier_rows: Sequence[int], mean: np.ndarray, std: np.ndarray, scale: float, device=None
) -> VerifierGuidance:
    """Guidance for each sample row from the verifier parameters (`numpy_params()` layout)."""
    ma, mb = vp["Ma"].astype(np.float64), vp["mb"].astype(np.float64)
    theta = vp["theta"][list(verifier_rows)].astype(np.float64)
    bu = vp["bu"][list(verifier_rows)].astype(np.float64)
    g = theta @ ma.T + mb[None, :]  # [B, D] raw-space gradient of z
    w = g * std.astype(np.float64)[None, :]
    c = g @ mean.astype(np.float64) + bu
    return VerifierGuidance(
        torch.as_tensor(w, dtype=torch.float32, device=device),
        torch.as_tensor(c, dtype=torch.float32, device=device),
        float(scale),
    )


def _run(model: RebecaPrior, x, tt, user_rows, ratings, vectors: Optional[torch.Tensor]):
    """The prior on rows (table, or the taste vectors of training users) or on explicit taste vectors."""
    if vectors is None:
        return model(x, tt, user_rows, ratings)
    present = (user_rows != model.null_user_row).to(x.dtype)
    return model.forward_tokens(x, tt, model.taste_tokens(vectors, present), ratings)


@torch.no_grad()
def guided_output(
    model: RebecaPrior,
    x: torch.Tensor,
    t: int,
    user_rows: torch.Tensor,
    ratings: torch.Tensor,
    guidance_scale: float,
    vectors: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """Guided model output. `vectors` [B, k]: taste vectors to condition on instead of the rows' (a
    taste-conditioned prior then reads user_rows only to tell users from the null row)."""
    b = x.shape[0]
    tt = torch.full((b,), int(t), dtype=torch.long, device=x.device)
    if guidance_scale == 1.0:
        return _run(model, x, tt, user_rows, ratings, vectors)
    null_u = torch.full_like(user_rows, model.null_user_row)
    null_r = torch.full_like(ratings, RATING_NULL)
    if guidance_scale == 0.0:
        return _run(model, x, tt, null_u, null_r, vectors)
    out = _run(
        model,
        torch.cat([x, x]),
        torch.cat([tt, tt]),
        torch.cat([user_rows, null_u]),
        torch.cat([ratings, null_r]),
        None if vectors is None else torch.cat([vectors, vectors]),
    )
    cond, null = out[:b], out[b:]
    return null + guidance_scale * (cond - null)


guided_eps = guided_output  # the name of the epsilon-only era


@torch.no_grad()
def sample(
    model: RebecaPrior,
    schedule: Schedule,
    user_rows: Sequence[int],
    ratings: Sequence[int],
    guidance_scale: float = 5.0,
    method: str = "ddim",
    num_inference_steps: int = 50,
    eta: float = 0.0,
    generator: Optional[torch.Generator] = None,
    initial_noise: Optional[torch.Tensor] = None,
    device: Optional[torch.device] = None,
    mean: Optional[np.ndarray] = None,
    std: Optional[np.ndarray] = None,
    prediction_type: str = "epsilon",
    clip: Optional[Tuple[np.ndarray, np.ndarray]] = None,
    verifier: Optional[VerifierGuidance] = None,
    user_vectors: Optional[np.ndarray] = None,
) -> torch.Tensor:
    """Returns samples [B, D] (float32, on CPU); un-standardised when mean/std are given.
    `clip` = (lower, upper) per dimension in standardised space. `user_vectors` [B, k]: condition a
    taste-conditioned prior on these vectors (users it was not trained with). Noise is drawn on the CPU from
    `generator` so results do not depend on the device."""
    was_training = model.training
    model.eval()
    device = device or next(model.parameters()).device
    u = torch.as_tensor(list(user_rows), dtype=torch.long, device=device)
    r = torch.as_tensor(list(ratings), dtype=torch.long, device=device)
    b, d = len(u), model.embedding_dim
    x = initial_noise.clone() if initial_noise is not None else torch.randn(b, d, generator=generator)
    x: Any = x.to(device=device, dtype=torch.float32)
    vectors = None if user_vectors is None else torch.as_tensor(user_vectors, dtype=torch.float32, device=device)
    bounds = None
    if clip is not None:
        bounds = (
            torch.as_tensor(np.asarray(clip[0]), dtype=torch.float32, device=device),
            torch.as_tensor(np.asarray(clip[1]), dtype=torch.float32, device=device),
        )
    if method == "ddpm":
        steps = schedule.ddpm_timesteps()
        prev_of = lambda t: t - 1  # noqa: E731
    elif method == "ddim":
        steps = schedule.ddim_timesteps(num_inference_steps)
        prev_of = lambda t: schedule.ddim_prev(t, num_inference_steps)  # noqa: E731
    else:
        raise ValueError(f"unknown sampling method {method!r} (ddpm | ddim)")
    for t in steps:
        out = guided_output(model, x, t, u, r, guidance_scale, vectors)
        x0, eps = schedule.split_output(x, out, t, prediction_type, bounds, verifier)
        if method == "ddpm":
            noise = torch.randn(b, d, generator=generator).to(device) if t > 0 else None
            x = schedule.ddpm_from(x, x0, t, prev_of(t), noise)
        else:
            noise = torch.randn(b, d, generator=generator).to(device) if eta > 0 else None
            x = schedule.ddim_from(x0, eps, t, prev_of(t), eta, noise)
    model.train(was_training)
    x = x.float().cpu()
    if mean is not None and std is not None:
        x = x * torch.as_tensor(std, dtype=torch.float32) + torch.as_tensor(mean, dtype=torch.float32)
    return x


def select_diverse(
    scores: np.ndarray, standardized: np.ndarray, keep: int, max_cosine: float, eligible: Optional[np.ndarray] = None
) -> List[int]:
    """Greedy pick of `keep` rows by descending score such that no two picked rows have a cosine
    (centred, standardised space) above `max_cosine`; rows not `eligible` are never picked. When the floor
    leaves fewer than `keep`, the rest are the best remaining eligible rows (fewer only if too few are
    eligible). Ties keep the lower row first."""
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    if eligible is not None:
        order = [i for i in order if eligible[i]]
    unit = standardized / np.maximum(np.linalg.norm(standardized, axis=1, keepdims=True), 1e-12)
    picked: List[int] = []
    for i in order:
        if len(picked) == keep:
            break
        if all(float(unit[i] @ unit[j]) <= max_cosine for j in picked):
            picked.append(i)
    for i in order:
        if len(picked) == keep:
            break
        if i not in picked:
            picked.append(i)
    return picked
