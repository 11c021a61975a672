"""Noise schedules and single scheduler steps, following diffusers' DDPMScheduler / DDIMScheduler
(epsilon prediction, variance "fixed_small", no sample clipping, final alphas_cumprod = 1).

Everything is numpy float64 (the golden vectors are computed here). Arrays may have any shape;
scalars t / prev_t are Python ints.
"""
from __future__ import annotations

import math
from typing import List, Optional

import numpy as np


def make_betas(kind: str, timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02,
               max_beta: float = 0.999) -> np.ndarray:
    if timesteps < 2:
        raise ValueError("timesteps must be >= 2")
    if kind == "linear":
        return np.linspace(beta_start, beta_end, timesteps, dtype=np.float64)
    if kind == "cosine":  # squaredcos_cap_v2
        def abar(t: float) -> float:
            return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        return np.array([min(1 - abar((i + 1) / timesteps) / abar(i / timesteps), max_beta)
                         for i in range(timesteps)], dtype=np.float64)
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

    def manifest(self) -> dict:
        return {"kind": self.kind, "timesteps": self.timesteps, "betaStart": self.beta_start,
                "betaEnd": self.beta_end, "predictionType": "epsilon"}

    def acp_prev(self, prev_t: int) -> float:
        return float(self.alphas_cumprod[prev_t]) if prev_t >= 0 else 1.0

    # --- forward process ------------------------------------------------------------------------
    def add_noise(self, x0: np.ndarray, eps: np.ndarray, t) -> np.ndarray:
        a = np.asarray(self.alphas_cumprod[np.asarray(t)])
        while a.ndim < x0.ndim:
            a = a[..., None]
        return np.sqrt(a) * x0 + np.sqrt(1 - a) * eps

    # --- reverse steps --------------------------------------------------------------------------
    def ddpm_step(self, sample: np.ndarray, eps: np.ndarray, t: int, prev_t: Optional[int] = None,
                  noise: Optional[np.ndarray] = None) -> np.ndarray:
        """DDPMScheduler.step (fixed_small, no clipping). prev_t defaults to t - 1.
        Noise is added only when t > 0 (then `noise` is required)."""
        if prev_t is None:
            prev_t = t - 1
        acp_t = float(self.alphas_cumprod[t])
        acp_prev = self.acp_prev(prev_t)
        beta_prod_t = 1 - acp_t
        beta_prod_prev = 1 - acp_prev
        cur_alpha = acp_t / acp_prev
        cur_beta = 1 - cur_alpha
        x0 = (sample - math.sqrt(beta_prod_t) * eps) / math.sqrt(acp_t)
        c0 = math.sqrt(acp_prev) * cur_beta / beta_prod_t
        ct = math.sqrt(cur_alpha) * beta_prod_prev / beta_prod_t
        mean = c0 * x0 + ct * sample
        if t > 0:
            if noise is None:
                raise ValueError("ddpm_step needs noise for t > 0")
            var = max(beta_prod_prev / beta_prod_t * cur_beta, 1e-20)
            return mean + math.sqrt(var) * noise
        return mean

    def ddim_step(self, sample: np.ndarray, eps: np.ndarray, t: int, prev_t: int, eta: float = 0.0,
                  noise: Optional[np.ndarray] = None) -> np.ndarray:
        """DDIMScheduler.step (epsilon, no clipping, set_alpha_to_one=True)."""
        acp_t = float(self.alphas_cumprod[t])
        acp_prev = self.acp_prev(prev_t)
        beta_prod_t = 1 - acp_t
        beta_prod_prev = 1 - acp_prev
        x0 = (sample - math.sqrt(beta_prod_t) * eps) / math.sqrt(acp_t)
        variance = (beta_prod_prev / beta_prod_t) * (1 - acp_t / acp_prev)
        std = eta * math.sqrt(max(variance, 0.0))
        direction = math.sqrt(max(1 - acp_prev - std ** 2, 0.0)) * eps
        out = math.sqrt(acp_prev) * x0 + direction
        if eta > 0:
            if noise is None:
                raise ValueError("ddim_step needs noise when eta > 0")
            out = out + std * noise
        return out

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
