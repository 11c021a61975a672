"""Sampling from the prior with classifier-free guidance (DDPM ancestral or DDIM).

eps = eps_null + w * (eps_cond - eps_null), the null branch using the null user row and rating 2.
Scheduler maths are schedule.Schedule's (they work on torch tensors as well as numpy arrays).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch

from .model import RATING_NULL, RebecaPrior
from .schedule import Schedule


@torch.no_grad()
def guided_eps(model: RebecaPrior, x: torch.Tensor, t: int, user_rows: torch.Tensor, ratings: torch.Tensor,
               guidance_scale: float) -> torch.Tensor:
    b = x.shape[0]
    tt = torch.full((b,), int(t), dtype=torch.long, device=x.device)
    if guidance_scale == 1.0:
        return model(x, tt, user_rows, ratings)
    null_u = torch.full_like(user_rows, model.null_user_row)
    null_r = torch.full_like(ratings, RATING_NULL)
    if guidance_scale == 0.0:
        return model(x, tt, null_u, null_r)
    eps = model(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([user_rows, null_u]),
                torch.cat([ratings, null_r]))
    cond, null = eps[:b], eps[b:]
    return null + guidance_scale * (cond - null)


@torch.no_grad()
def sample(model: RebecaPrior, schedule: Schedule, user_rows: Sequence[int], ratings: Sequence[int],
           guidance_scale: float = 5.0, method: str = "ddim", num_inference_steps: int = 50,
           eta: float = 0.0, generator: Optional[torch.Generator] = None,
           initial_noise: Optional[torch.Tensor] = None, device: Optional[torch.device] = None,
           mean: Optional[np.ndarray] = None, std: Optional[np.ndarray] = None) -> torch.Tensor:
    """Returns samples [B, D] (float32, on CPU); un-standardised when mean/std are given.
    Noise is drawn on the CPU from `generator` so results do not depend on the device."""
    was_training = model.training
    model.eval()
    device = device or next(model.parameters()).device
    u = torch.as_tensor(list(user_rows), dtype=torch.long, device=device)
    r = torch.as_tensor(list(ratings), dtype=torch.long, device=device)
    b, d = len(u), model.embedding_dim
    x = initial_noise.clone() if initial_noise is not None else torch.randn(b, d, generator=generator)
    x = x.to(device=device, dtype=torch.float32)
    if method == "ddpm":
        steps = schedule.ddpm_timesteps()
        for t in steps:
            eps = guided_eps(model, x, t, u, r, guidance_scale)
            noise = torch.randn(b, d, generator=generator).to(device) if t > 0 else None
            x = schedule.ddpm_step(x, eps, t, t - 1, noise)
    elif method == "ddim":
        for t in schedule.ddim_timesteps(num_inference_steps):
            eps = guided_eps(model, x, t, u, r, guidance_scale)
            noise = torch.randn(b, d, generator=generator).to(device) if eta > 0 else None
            x = schedule.ddim_step(x, eps, t, schedule.ddim_prev(t, num_inference_steps), eta, noise)
    else:
        raise ValueError(f"unknown sampling method {method!r} (ddpm | ddim)")
    model.train(was_training)
    x = x.float().cpu()
    if mean is not None and std is not None:
        x = x * torch.as_tensor(std, dtype=torch.float32) + torch.as_tensor(mean, dtype=torch.float32)
    return x
