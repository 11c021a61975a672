"""Training loop of the prior (epsilon objective, classifier-free guidance dropout, equal rows per user
per epoch, AdamW, ReduceLROnPlateau, early stopping, best-validation checkpoint)."""

from __future__ import annotations

import copy
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from .data import Prepared
from .model import RATING_NULL, RebecaPrior, build_prior, count_parameters
from .presets import Preset
from .schedule import Schedule


def log_stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def default_threads(preset: Preset) -> int:
    """All cores for wide models; one thread for small ones. On a shared 2-core machine torch's
    intra-op threads spin-wait on small matmuls: the `small` preset ran 7x slower with 2 threads than
    with 1 (see training/README.md, Benchmarks)."""
    import os

    return (os.cpu_count() or 1) if preset.d_model >= 512 else 1


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda requested but torch.cuda.is_available() is False")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"--device must be cpu, cuda or auto (got {name!r})")
    return torch.device(name)


@dataclass
class PriorResult:
    model: RebecaPrior
    history: List[Dict] = field(default_factory=list)
    best_val: float = float("inf")
    best_epoch: int = 0
    epochs: int = 0
    seconds: float = 0.0
    stopped_early: bool = False


def _fmt_s(s: float) -> str:
    if not math.isfinite(s):
        return "?"
    return f"{s:.0f}s" if s < 600 else f"{s / 60:.1f}min"


def train_prior(
    prep: Prepared,
    preset: Preset,
    schedule: Schedule,
    mean: np.ndarray,
    std: np.ndarray,
    device: torch.device,
    seed: int = 0,
    max_epochs: Optional[int] = None,
    log: Callable[[str], None] = log_stderr,
    user_vectors: Optional[np.ndarray] = None,
) -> PriorResult:
    """Train the prior. `user_vectors` [U, k]: each kept user's taste vector (required when the preset
    conditions on taste)."""
    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    snap = prep.snapshot
    D = snap.dim
    n_users = len(prep.kept_users)
    Z = torch.as_tensor((snap.embeddings - mean) / std, dtype=torch.float32, device=device)
    acp = torch.as_tensor(schedule.alphas_cumprod, dtype=torch.float32, device=device)
    T = schedule.timesteps

    tr = prep.split.train
    tr_users = prep.user_row[tr]
    order = np.argsort(tr_users, kind="stable")
    tr_sorted = tr[order]
    counts = np.bincount(tr_users, minlength=n_users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    item_rows_t = torch.as_tensor(snap.item_rows, dtype=torch.long, device=device)
    user_rows_t = torch.as_tensor(prep.user_row, dtype=torch.long, device=device)
    like_t = torch.as_tensor(prep.like, dtype=torch.long, device=device)

    # fixed validation draws: each validation row val_repeats times with fixed t and noise
    va = np.repeat(prep.split.validation, preset.val_repeats)
    g = torch.Generator().manual_seed(seed + 1)
    va_t = torch.randint(0, T, (len(va),), generator=g).to(device)
    va_eps = torch.randn(len(va), D, generator=g).to(device)
    va_idx = torch.as_tensor(va, dtype=torch.long, device=device)

    taste = preset.condition == "taste"
    if taste and (user_vectors is None or len(user_vectors) != n_users):
        raise ValueError("a taste-conditioned prior needs one taste vector per kept user")
    model = build_prior(preset, D, n_users, taste_dim=user_vectors.shape[1] if user_vectors is not None else 0)
    model = model.to(device)
    if taste and user_vectors is not None:
        vec = torch.as_tensor(user_vectors, dtype=torch.float32, device=device)
        model.user_vectors[:n_users] = vec
        model.taste_mean.copy_(vec.mean(0))
        model.taste_std.copy_(vec.std(0).clamp_min(1e-6) if n_users > 1 else torch.ones_like(vec[0]))
    opt = torch.optim.AdamW(model.parameters(), lr=preset.lr, weight_decay=preset.weight_decay)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="min", factor=preset.plateau_factor, patience=preset.plateau_patience
    )
    max_epochs = max_epochs or preset.max_epochs
    null_row = model.null_user_row

    def noisy(idx: torch.Tensor, t: torch.Tensor, eps: torch.Tensor):
        """(x_t, the prediction target) for rating rows idx at timesteps t with noise eps."""
        x0 = Z[item_rows_t[idx]]
        a = acp[t][:, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        if preset.prediction_type == "epsilon":
            return xt, eps
        if preset.prediction_type == "sample":
            return xt, x0
        return xt, a.sqrt() * eps - (1 - a).sqrt() * x0  # v_prediction

    @torch.no_grad()
    def validate() -> float:
        model.eval()
        total, n = 0.0, 0
        for s in range(0, len(va), 1024):
            idx, t, eps = va_idx[s : s + 1024], va_t[s : s + 1024], va_eps[s : s + 1024]
            xt, target = noisy(idx, t, eps)
            pred = model(xt, t, user_rows_t[idx], like_t[idx])
            total += float(F.mse_loss(pred, target, reduction="sum"))
            n += pred.numel()
        return total / max(n, 1)

    res = PriorResult(model=model)
    best_state = copy.deepcopy(model.state_dict())
    bad = 0
    t0 = time.time()
    log(
        f"prior: {count_parameters(model):,} parameters, {n_users} users, D={D}, "
        f"{len(tr)} train / {len(prep.split.validation)} validation rows, device {device}, "
        f"schedule {schedule.kind} T={T}"
    )
    for epoch in range(1, max_epochs + 1):
        model.train()
        # equal rows per user, sampled with replacement
        pick = (
            starts[:, None] + (rng.random_sample((n_users, preset.rows_per_user)) * counts[:, None]).astype(np.int64)
        ).reshape(-1)
        rows = tr_sorted[pick]
        rows = rows[rng.permutation(len(rows))]
        rows_t = torch.as_tensor(rows, dtype=torch.long, device=device)
        tot, nb = 0.0, 0
        for s in range(0, len(rows_t), preset.batch_size):
            idx = rows_t[s : s + preset.batch_size]
            b = len(idx)
            t = torch.randint(0, T, (b,), device=device)
            eps = torch.randn(b, D, device=device)
            u = user_rows_t[idx]
            r = like_t[idx]
            # classifier-free guidance: both conditions dropped together, and each on its own
            both = torch.rand(b, device=device) < preset.condition_dropout
            drop_u = both | (torch.rand(b, device=device) < preset.user_dropout)
            drop_r = both | (torch.rand(b, device=device) < preset.rating_dropout)
            u = torch.where(drop_u, torch.full_like(u, null_row), u)
            r = torch.where(drop_r, torch.full_like(r, RATING_NULL), r)
            xt, target = noisy(idx, t, eps)
            if taste:
                vec = model.user_vectors[user_rows_t[idx]]
                vec = vec + preset.taste_noise * model.taste_std * torch.randn_like(vec)
                tokens = model.taste_tokens(vec, (~drop_u).to(xt.dtype))
                pred = model.forward_tokens(xt, t, tokens, r)
            else:
                pred = model(xt, t, u, r)
            loss = F.mse_loss(pred, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot += float(loss) * b
            nb += b
        train_loss = tot / max(nb, 1)
        val_loss = validate()
        lr = opt.param_groups[0]["lr"]
        plateau.step(val_loss)
        elapsed = time.time() - t0
        improved = val_loss < res.best_val
        significant = val_loss < res.best_val * (1 - preset.early_stop_min_delta) if epoch > 1 else True
        if significant:
            bad = 0
        else:
            bad += 1
        if improved:
            res.best_val, res.best_epoch = val_loss, epoch
            best_state = copy.deepcopy(model.state_dict())
        res.history.append({"epoch": epoch, "trainLoss": train_loss, "valLoss": val_loss, "lr": lr, "elapsed": elapsed})
        # ETA: the worse of (max epochs) and (early stop if nothing improves from now)
        per = elapsed / epoch
        left = min(max_epochs - epoch, preset.early_stop_patience - bad)
        log(
            f"epoch {epoch}/{max_epochs} train_loss {train_loss:.5f} val_loss {val_loss:.5f} "
            f"lr {lr:.2e} elapsed {_fmt_s(elapsed)} eta<= {_fmt_s(per * (max_epochs - epoch))} "
            f"(stop in >= {_fmt_s(per * left)}){' *' if improved else ''}"
        )
        res.epochs = epoch
        if bad >= preset.early_stop_patience:
            res.stopped_early = True
            log(f"early stopping at epoch {epoch}: best val_loss {res.best_val:.5f} at epoch {res.best_epoch}")
            break
    model.load_state_dict(best_state)
    model.eval()
    res.seconds = time.time() - t0
    return res
