"""Noise schedules and single scheduler steps, following diffusers' DDPMScheduler / DDIMScheduler
(epsilon, sample or v prediction, variance "fixed_small", final alphas_cumprod = 1; the clean estimate
may be clamped into the data's range, as the reference code's clip_sample but with learned bounds).

Everything is numpy float64 (the golden vectors are computed here). Arrays may have any shape;
scalars t / prev_t are Python ints.
"""

from __future__ import annotations

import math
from typing import Callable, List, Optional, Tuple

import numpy as np


def make_betas(
    kind: str, timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02, max_beta: float = 0.999
) -> np.ndarray:
    if timesteps < 2:
        raise ValueError("timesteps must be >= 2")
    if kind == "linear":
        return np.linspace(beta_start, beta_end, timesteps, dtype=np.float64)
    if kind == "cosine":  # squaredcos_cap_v2

        def abar(t: float) -> float:
            return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

        return np.array(
            [min(1 - abar((i + 1) / timesteps) / abar(i / timesteps), max_beta) for i in range(timesteps)],
            dtype=np.float64,
        )
    raise ValueError(f"unknown schedule {kind!r} (linear | cosine)")


class Schedule:
    def __init__(self, kind: str, timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02):
        self.kind = kind
        self.timesteps = int(timesteps)
        self.beta_start = float(beta_start)
        self.beta_end = float(beta_end)
        self.betas = make_betas(kind, timesteps, beta_start, beta_end)
        self.alphas = 1.0 - self.betas
        self.alphas_cumprod = np.cumprod(self.alphas)

    def manifest(self, prediction_type: str = "epsilon") -> dict:
        return {
            "kind": self.kind,
            "timesteps": self.timesteps,
            "betaStart": self.beta_start,
            "betaEnd": self.beta_end,
            "predictionType": prediction_type,
        }

    def acp_prev(self, prev_t: int) -> float:
        return float(self.alphas_cumprod[prev_t]) if prev_t >= 0 else 1.0

    # --- forward process ------------------------------------------------------------------------
    def add_noise(self, x0: np.ndarray, eps: np.ndarray, t) -> np.ndarray:
        a = np.asarray(self.alphas_cumprod[np.asarray(t)])
        while a.ndim < x0.ndim:
            a = a[..., None]
        return np.sqrt(a) * x0 + np.sqrt(1 - a) * eps

    # --- model output -> (x0, eps) ------------------------------------------------------------
    def split_output(
        self,
        sample,
        model_output,
        t: int,
        prediction_type: str = "epsilon",
        clip: Optional[Tuple] = None,
        x0_hook: Optional[Callable] = None,
    ):
        """The clean estimate x0 and the noise eps that a model output implies at timestep t, as diffusers'
        schedulers convert them (`epsilon`, `sample` = x0, `v_prediction`). With `clip` = (lower, upper)
        (arrays broadcastable to the sample, standardised space) x0 is clamped into the data's range, then
        `x0_hook(x0)` may move it (verifier guidance) and it is clamped again; eps is then re-derived from
        the final x0 so that the step stays consistent with it (diffusers does the same after clipping)."""
        acp = float(self.alphas_cumprod[t])
        sa, sb = math.sqrt(acp), math.sqrt(1 - acp)
        if prediction_type == "epsilon":
            eps = model_output
            x0 = (sample - sb * eps) / sa
        elif prediction_type == "sample":
            x0 = model_output
            eps = (sample - sa * x0) / sb
        elif prediction_type == "v_prediction":
            x0 = sa * sample - sb * model_output
            eps = sa * model_output + sb * sample
        else:
            raise ValueError(f"unknown prediction type {prediction_type!r} (epsilon | sample | v_prediction)")
        if clip is None and x0_hook is None:
            return x0, eps
        if clip is not None:
            x0 = _clamp(x0, clip[0], clip[1])
        if x0_hook is not None:
            x0 = x0_hook(x0)
            if clip is not None:
                x0 = _clamp(x0, clip[0], clip[1])
        eps = (sample - sa * x0) / sb
        return x0, eps

    # --- reverse steps from (x0, eps) -----------------------------------------------------------
    def ddpm_from(self, sample, x0, t: int, prev_t: int, noise=None):
        """DDPMScheduler.step's posterior (fixed_small) given the clean estimate x0."""
        acp_t = float(self.alphas_cumprod[t])
        acp_prev = self.acp_prev(prev_t)
        beta_prod_t = 1 - acp_t
        beta_prod_prev = 1 - acp_prev
        cur_alpha = acp_t / acp_prev
        cur_beta = 1 - cur_alpha
        c0 = math.sqrt(acp_prev) * cur_beta / beta_prod_t
        ct = math.sqrt(cur_alpha) * beta_prod_prev / beta_prod_t
        mean = c0 * x0 + ct * sample
        if t > 0:
            if noise is None:
                raise ValueError("ddpm_step needs noise for t > 0")
            var = max(beta_prod_prev / beta_prod_t * cur_beta, 1e-20)
            return mean + math.sqrt(var) * noise
        return mean

    def ddim_from(self, x0, eps, t: int, prev_t: int, eta: float = 0.0, noise=None):
        """DDIMScheduler.step given the clean estimate x0 and the noise eps."""
        acp_t = float(self.alphas_cumprod[t])
        acp_prev = self.acp_prev(prev_t)
        variance = ((1 - acp_prev) / (1 - acp_t)) * (1 - acp_t / acp_prev)
        std = eta * math.sqrt(max(variance, 0.0))
        direction = math.sqrt(max(1 - acp_prev - std**2, 0.0)) * eps
        out = math.sqrt(acp_prev) * x0 + direction
        if eta > 0:
            if noise is None:
                raise ValueError("ddim_step needs noise when eta > 0")
            out = out + std * noise
        return out

    def ddpm_step(self, sample, eps, t: int, prev_t: Optional[int] = None, noise=None):
        """DDPMScheduler.step (epsilon, fixed_small, no clipping). prev_t defaults to t - 1.
        Noise is added only when t > 0 (then `noise` is required)."""
        if prev_t is None:
            prev_t = t - 1
        x0, _ = self.split_output(sample, eps, t)
        return self.ddpm_from(sample, x0, t, prev_t, noise)

    def ddim_step(self, sample, eps, t: int, prev_t: int, eta: float = 0.0, noise=None):
        """DDIMScheduler.step (epsilon, no clipping, set_alpha_to_one=True)."""
        x0, eps = self.split_output(sample, eps, t)
        return self.ddim_from(x0, eps, t, prev_t, eta, noise)

    # --- timestep lists -------------------------------------------------------------------------
    def ddpm_timesteps(self) -> List[int]:
        return list(range(self.timesteps - 1, -1, -1))

    def ddim_timesteps(self, num_inference_steps: int) -> List[int]:
        """diffusers' default "leading" spacing (steps_offset 0); prev_t = t - T // n."""
        if not 1 <= num_inference_steps <= self.timesteps:
            raise ValueError("num_inference_steps must be in 1..T")
        ratio = self.timesteps // num_inference_steps
        return [int(x) for x in (np.arange(num_inference_steps) * ratio).round()[::-1]]

    def ddim_prev(self, t: int, num_inference_steps: int) -> int:
        return t - self.timesteps // num_inference_steps


def _clamp(x, lower, upper):
    """Elementwise clamp for numpy arrays and torch tensors alike (bounds broadcast over rows)."""
    if isinstance(x, np.ndarray):
        return np.minimum(np.maximum(x, lower), upper)
    return x.clamp(min=lower, max=upper)
