"""Logistic matrix-factorisation verifier ("IRT" in the reference code):

    P(like | u, e) = sigmoid(theta_u . (Ma^T e) + b_u + mb . e)

on raw (un-standardised) embeddings. Full-batch Adam, BCE weighted by inverse user frequency,
10% validation split for early stopping (patience 30), best-validation parameters kept.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn as nn


class Verifier(nn.Module):
    def __init__(self, embedding_dim: int, num_users: int, dim: int):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.Ma = nn.Parameter(torch.randn(embedding_dim, dim, generator=g) / np.sqrt(embedding_dim))
        self.mb = nn.Parameter(torch.zeros(embedding_dim))
        self.theta = nn.Parameter(torch.randn(num_users, dim, generator=g) * 0.1)
        self.bu = nn.Parameter(torch.zeros(num_users))

    def logits(self, users: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        proj = emb @ self.Ma  # [B, d]
        return (self.theta[users] * proj).sum(-1) + self.bu[users] + emb @ self.mb

    def forward(self, users, emb):
        return torch.sigmoid(self.logits(users, emb))

    def numpy_params(self) -> Dict[str, np.ndarray]:
        return {k: getattr(self, k).detach().cpu().numpy().astype(np.float32) for k in ("Ma", "mb", "theta", "bu")}


def verifier_prob(params: Dict[str, np.ndarray], user_row: int, emb: np.ndarray) -> np.ndarray:
    """float64 reference of P(like) for one verifier user row and embeddings [.., D]."""
    e = np.asarray(emb, dtype=np.float64)
    ma, mb = params["Ma"].astype(np.float64), params["mb"].astype(np.float64)
    th, bu = params["theta"][user_row].astype(np.float64), float(params["bu"][user_row])
    z = (e @ ma) @ th + bu + e @ mb
    return 1.0 / (1.0 + np.exp(-z))


def taste_vectors(params: Dict[str, np.ndarray], rows) -> np.ndarray:
    """The users' taste vectors `[theta_u, b_u]` (what a taste-conditioned prior reads), [len(rows), d + 1]."""
    rows = list(rows)
    return np.concatenate([params["theta"][rows], params["bu"][rows, None]], axis=1)


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC via the rank-sum formula (ties get average ranks). NaN if one class is absent."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    s = scores[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1
        i = j + 1
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@dataclass
class VerifierResult:
    model: Verifier
    metrics: Dict[str, float]
    epochs: int


def train_verifier(
    emb: np.ndarray,
    users: np.ndarray,
    labels: np.ndarray,
    num_users: int,
    dim: int,
    test_mask: Optional[np.ndarray] = None,
    lr: float = 1e-2,
    max_epochs: int = 3000,
    patience: int = 30,
    weight_decay: float = 0.0,
    val_fraction: float = 0.1,
    seed: int = 0,
    device: str = "cpu",
    log=None,
) -> VerifierResult:
    """emb [R, D] raw embeddings of the rated items, users [R] verifier rows, labels [R] 0/1.
    Rows with test_mask are held out entirely (test metrics); the rest split 90/10 train/validation."""
    torch.manual_seed(seed)
    n = len(labels)
    test_mask = np.zeros(n, bool) if test_mask is None else np.asarray(test_mask, bool)
    rest = np.flatnonzero(~test_mask)
    rng = np.random.RandomState(seed)
    perm = rest[rng.permutation(len(rest))]
    n_val = max(1, int(round(val_fraction * len(perm))))
    val_idx, tr_idx, te_idx = perm[:n_val], perm[n_val:], np.flatnonzero(test_mask)

    dev = torch.device(device)
    E = torch.as_tensor(emb, dtype=torch.float32, device=dev)
    U = torch.as_tensor(users, dtype=torch.long, device=dev)
    Y = torch.as_tensor(labels, dtype=torch.float32, device=dev)
    # inverse user frequency weights (computed on the training rows), normalised to mean 1
    counts = np.bincount(users[tr_idx], minlength=num_users).astype(np.float64)
    w_user = np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0)
    W = torch.as_tensor(w_user, dtype=torch.float32, device=dev)[U]
    W = W / W[torch.as_tensor(tr_idx, device=dev)].mean()

    model = Verifier(emb.shape[1], num_users, dim).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    bce = nn.BCEWithLogitsLoss(reduction="none")
    tr = torch.as_tensor(tr_idx, device=dev)
    va = torch.as_tensor(val_idx, device=dev)

    def wloss(idx):
        z = model.logits(U[idx], E[idx])
        return (bce(z, Y[idx]) * W[idx]).sum() / W[idx].sum()

    best, best_state, bad, epoch = float("inf"), None, 0, 0
    t0 = time.time()
    for epoch in range(1, max_epochs + 1):
        model.train()
        opt.zero_grad()
        loss = wloss(tr)
        loss.backward()
        opt.step()
        with torch.no_grad():
            v = float(wloss(va))
        if v < best - 1e-6:
            best, best_state, bad = v, copy.deepcopy(model.state_dict()), 0
        else:
            bad += 1
            if bad >= patience:
                break
        if log and (epoch % 100 == 0):
            log(f"verifier epoch {epoch} train_loss {float(loss):.4f} val_loss {v:.4f} elapsed {time.time() - t0:.1f}s")
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()

    def metrics(idx):
        if len(idx) == 0:
            return float("nan"), float("nan")
        with torch.no_grad():
            p = model(U[idx], E[idx]).cpu().numpy()
        y = labels[idx]
        return auc(y, p), float(((p >= 0.5).astype(int) == y).mean())

    va_auc, va_acc = metrics(val_idx)
    te_auc, te_acc = metrics(te_idx)
    tr_auc, _ = metrics(tr_idx)
    m = {
        "validationAuc": va_auc,
        "validationAccuracy": va_acc,
        "testAuc": te_auc,
        "testAccuracy": te_acc,
        "trainAuc": tr_auc,
        "bestValidationLoss": best,
        "epochs": epoch,
        "trainRows": int(len(tr_idx)),
        "validationRows": int(len(val_idx)),
        "testRows": int(len(te_idx)),
    }
    return VerifierResult(model=model.cpu(), metrics=m, epochs=epoch)
