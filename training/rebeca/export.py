"""Artifact export: prior.onnx, verifier .npy files, manifest.json, golden.json, splits.json, loss.svg,
prior.pt. The artifact is assembled in a temporary sibling folder and renamed into place."""

from __future__ import annotations

import datetime as _dt
import inspect
import json
import math
import os
import shutil
import tempfile
from typing import Any, Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn

from . import FORMAT_VERSION
from .model import RATING_DISLIKE, RATING_LIKE, RATING_NULL, RebecaPrior
from .schedule import Schedule
from .verifier import verifier_prob

ONNX_OPSET = 17


def _finite(x):
    """JSON-safe floats (NaN -> None)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _clean(obj):
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating,)):
        return _finite(float(obj))
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, float):
        return _finite(obj)
    return obj


def write_json(path: str, obj, indent: Optional[int] = 2) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(_clean(obj), f, indent=indent, allow_nan=False)
        f.write("\n")


class _TastePrior(nn.Module):
    """The ONNX face of a taste-conditioned prior: the user enters as a vector and a presence flag."""

    def __init__(self, prior: RebecaPrior):
        super().__init__()
        self.prior = prior

    def forward(self, noisy_embedding, timestep, user_vector, user_present, rating):
        tokens = self.prior.taste_tokens(user_vector, user_present)
        return self.prior.forward_tokens(noisy_embedding, timestep, tokens, rating)


def export_onnx(model: RebecaPrior, path: str) -> None:
    """prior.onnx: inputs noisy_embedding, timestep, the user (user_row for a table-conditioned prior;
    user_vector + user_present for a taste-conditioned one) and rating; output predicted_noise (what the
    manifest's predictionType names: noise, sample or v)."""
    model = model.cpu().eval()
    D = model.embedding_dim
    batch = {0: "batch"}
    if model.condition == "table":
        module: nn.Module = model
        args = (
            torch.zeros(2, D),
            torch.tensor([0, 1], dtype=torch.long),
            torch.tensor([0, model.null_user_row], dtype=torch.long),
            torch.tensor([RATING_LIKE, RATING_NULL], dtype=torch.long),
        )
        names = ["noisy_embedding", "timestep", "user_row", "rating"]
    else:
        module = _TastePrior(model)
        args = (
            torch.zeros(2, D),
            torch.tensor([0, 1], dtype=torch.long),
            torch.zeros(2, model.taste_dim),
            torch.tensor([1.0, 0.0]),
            torch.tensor([RATING_LIKE, RATING_NULL], dtype=torch.long),
        )
        names = ["noisy_embedding", "timestep", "user_vector", "user_present", "rating"]
    kwargs: Dict[str, Any] = dict(
        input_names=names,
        output_names=["predicted_noise"],
        dynamic_axes={**{n: batch for n in names}, "predicted_noise": batch},
        opset_version=ONNX_OPSET,
        do_constant_folding=True,
    )
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # torch >= 2.5: keep the TorchScript exporter (dynamic_axes semantics)
    with torch.no_grad():
        torch.onnx.export(module, args, path, **kwargs)


def plot_losses(history: List[Dict], path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "rebeca"  # deterministic ids in the SVG
    ep = [h["epoch"] for h in history]
    fig: Any
    ax: Any
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(ep, [h["trainLoss"] for h in history], label="train")
    ax.plot(ep, [h["valLoss"] for h in history], label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE of the prediction")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None} if path.endswith(".svg") else None)
    plt.close(fig)


def _r(a, nd=None) -> list:
    a = np.asarray(a, dtype=np.float64)
    return a.tolist()


def make_golden(
    model: RebecaPrior,
    schedule: Schedule,
    verifier_params: Dict[str, np.ndarray],
    mean: np.ndarray,
    std: np.ndarray,
    guidance_scale: float,
    prediction_type: str = "epsilon",
    data_range: Optional[Dict] = None,
    verifier_rows: Optional[List[int]] = None,
    verifier_scale: float = 0.0,
    seed: int = 1234,
) -> Dict:
    """Reference values; layout documented in training/README.md ("golden.json"). verifier_rows: the
    verifier row of each prior user (the taste vector of a taste-conditioned prior's users)."""
    from .sampling import sample, verifier_guidance

    model = model.cpu().eval()
    rng = np.random.RandomState(seed)
    D = model.embedding_dim
    T = schedule.timesteps
    nu = model.num_users
    # --- prior forward: 4 rows mixing real users, the null row, ratings 0/1/2, several timesteps
    x = rng.randn(4, D).astype(np.float32)
    ts = np.array([0, T // 3, (2 * T) // 3, T - 1], dtype=np.int64)
    users = np.array([0, nu - 1, nu, min(1, nu - 1)], dtype=np.int64)
    ratings = np.array([RATING_LIKE, RATING_DISLIKE, RATING_NULL, RATING_NULL], dtype=np.int64)
    with torch.no_grad():
        out = model(
            torch.from_numpy(x), torch.from_numpy(ts), torch.from_numpy(users), torch.from_numpy(ratings)
        ).numpy()
    prior_inputs = {"noisyEmbedding": _r(x), "timestep": ts.tolist(), "rating": ratings.tolist()}
    if model.condition == "table":
        prior_inputs["userRow"] = users.tolist()
    else:
        vectors = model.user_vectors[torch.from_numpy(users)].numpy()
        prior_inputs["userVector"] = _r(vectors)
        prior_inputs["userPresent"] = [0.0 if u == nu else 1.0 for u in users]

    # --- scheduler steps (float64)
    def vec():
        return rng.randn(D)

    ddpm = []
    for t in [T - 1, T // 2, 1, 0]:
        s, e, n = vec(), vec(), vec()
        ddpm.append(
            {
                "t": t,
                "prevT": t - 1,
                "sample": _r(s),
                "eps": _r(e),
                "noise": _r(n) if t > 0 else None,
                "prevSample": _r(schedule.ddpm_step(s, e, t, t - 1, n if t > 0 else None)),
            }
        )
    ddim = []
    n_inf = max(2, min(10, T // 10))
    ratio = T // n_inf
    for t, prev, eta in [
        (T - ratio, T - 2 * ratio, 0.0),
        (T // 2, T // 2 - ratio, 0.5),
        (ratio, 0, 1.0),
        (0, -ratio, 0.0),
    ]:
        s, e, n = vec(), vec(), vec()
        ddim.append(
            {
                "t": t,
                "prevT": prev,
                "eta": eta,
                "sample": _r(s),
                "eps": _r(e),
                "noise": _r(n) if eta > 0 else None,
                "prevSample": _r(schedule.ddim_step(s, e, t, prev, eta, n if eta > 0 else None)),
            }
        )
    ddim_ts = [{"numInferenceSteps": k, "timesteps": schedule.ddim_timesteps(k)} for k in sorted({n_inf, min(50, T)})]
    # --- model output -> (x0, eps) for every prediction type, clamped into a range
    lower, upper = -np.abs(rng.randn(D)) - 0.5, np.abs(rng.randn(D)) + 0.5
    conversions = []
    for kind in ("epsilon", "sample", "v_prediction"):
        for t in (T - 1, T // 2, 1):
            s, o = vec() * 2, vec() * 2
            x0, eps = schedule.split_output(s, o, t, kind)
            cx0, ceps = schedule.split_output(s, o, t, kind, clip=(lower, upper))
            conversions.append(
                {
                    "predictionType": kind,
                    "t": t,
                    "sample": _r(s),
                    "output": _r(o),
                    "x0": _r(x0),
                    "eps": _r(eps),
                    "clampedX0": _r(cx0),
                    "clampedEps": _r(ceps),
                }
            )
    # --- end-to-end guided DDIM sample (eta 0) from fixed initial noise, through the PyTorch model, with
    # the model's prediction type, the clamp into the data's range and verifier guidance
    x_T = rng.randn(2, D).astype(np.float32)
    su, sr = [0, nu - 1], [RATING_LIKE, RATING_LIKE]
    vrows = [verifier_rows[u] for u in su] if verifier_rows is not None else [0, 0]
    clip = (np.asarray(data_range["lower"]), np.asarray(data_range["upper"])) if data_range else None
    vg = verifier_guidance(verifier_params, vrows, mean, std, verifier_scale) if verifier_scale > 0 else None
    std_out = sample(
        model,
        schedule,
        su,
        sr,
        guidance_scale=guidance_scale,
        method="ddim",
        num_inference_steps=n_inf,
        eta=0.0,
        initial_noise=torch.from_numpy(x_T),
        device=torch.device("cpu"),
        prediction_type=prediction_type,
        clip=clip,
        verifier=vg,
    ).numpy()
    raw_out = std_out.astype(np.float64) * std.astype(np.float64) + mean.astype(np.float64)
    guided = {
        "method": "ddim",
        "numInferenceSteps": n_inf,
        "eta": 0.0,
        "timesteps": schedule.ddim_timesteps(n_inf),
        "guidanceScale": guidance_scale,
        "predictionType": prediction_type,
        "clip": clip is not None,
        "verifierScale": verifier_scale,
        "verifierRow": vrows,
        "rating": sr,
        "initialNoise": _r(x_T),
        "standardized": _r(std_out),
        "raw": _r(raw_out),
    }
    if model.condition == "table":
        guided["userRow"] = su
    else:
        guided["userVector"] = _r(model.user_vectors[torch.tensor(su)].numpy())
    # --- verifier
    U = verifier_params["theta"].shape[0]
    vpairs = []
    for _k, u in enumerate(sorted({0, U // 2, U - 1})):
        e = rng.randn(D).astype(np.float32) * std + mean
        vpairs.append(
            {
                "userRow": int(u),
                "embedding": _r(e),
                "probability": float(verifier_prob(verifier_params, int(u), e.astype(np.float64))),
            }
        )
    return {
        "formatVersion": FORMAT_VERSION,
        "tolerances": {"prior": 1e-4, "scheduler": 1e-6, "verifier": 1e-6, "guidedSample": 1e-3},
        "schedule": {
            **schedule.manifest(prediction_type),
            "betas": _r(schedule.betas),
            "alphasCumprod": _r(schedule.alphas_cumprod),
        },
        "prior": {"inputs": prior_inputs, "outputs": {"predictedNoise": _r(out)}},
        "ddpmSteps": ddpm,
        "ddimSteps": ddim,
        "ddimTimesteps": ddim_ts,
        "conversions": {"lower": _r(lower), "upper": _r(upper), "cases": conversions},
        "guidedSample": guided,
        "verifier": vpairs,
    }


def write_artifact(
    out_dir: str,
    *,
    model: RebecaPrior,
    schedule: Schedule,
    verifier_params: Dict[str, np.ndarray],
    manifest: Dict,
    history: List[Dict],
    splits: Dict,
    mean: np.ndarray,
    std: np.ndarray,
    guidance_scale: float,
    golden: bool = True,
    extra_files: Optional[Dict] = None,
) -> str:
    """Writes everything into a temporary sibling folder, then renames it to out_dir (replacing an
    existing artifact only once the new one is complete). Returns the absolute path."""
    out_dir = os.path.abspath(out_dir)
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="." + os.path.basename(out_dir) + ".tmp-", dir=parent)
    try:
        export_onnx(model, os.path.join(tmp, "prior.onnx"))
        torch.save({"state_dict": model.cpu().state_dict()}, os.path.join(tmp, "prior.pt"))
        names = {
            "Ma": "verifier_Ma.npy",
            "mb": "verifier_mb.npy",
            "theta": "verifier_theta.npy",
            "bu": "verifier_bu.npy",
        }
        for k, fn in names.items():
            np.save(os.path.join(tmp, fn), np.ascontiguousarray(verifier_params[k], dtype="<f4"))
        write_json(os.path.join(tmp, "splits.json"), splits, indent=None)
        write_json(os.path.join(tmp, "history.json"), history, indent=None)
        plot_losses(history, os.path.join(tmp, "loss.svg"), f"REBECA prior ({manifest.get('preset')}) loss")
        if golden:
            users = manifest.get("users", [])
            vusers = manifest.get("verifier", {}).get("users", [])
            vrows = [vusers.index(u) if u in vusers else 0 for u in users]
            g = make_golden(
                model,
                schedule,
                verifier_params,
                mean,
                std,
                guidance_scale,
                prediction_type=manifest["schedule"]["predictionType"],
                data_range=manifest.get("dataRange"),
                verifier_rows=vrows,
                verifier_scale=float(manifest["guidance"].get("verifierScale") or 0.0),
            )
            write_json(os.path.join(tmp, "golden.json"), g, indent=None)
        for name, content in (extra_files or {}).items():
            write_json(os.path.join(tmp, name), content)
        manifest = dict(manifest)
        manifest["createdAt"] = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        write_json(os.path.join(tmp, "manifest.json"), manifest)
        os.chmod(tmp, 0o755)
        if os.path.exists(out_dir):
            old = tempfile.mkdtemp(prefix="." + os.path.basename(out_dir) + ".old-", dir=parent)
            os.rmdir(old)
            os.rename(out_dir, old)
            os.rename(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def load_artifact(path: str):
    """(manifest, prior model (eval, CPU), Schedule, verifier params) from an artifact folder."""
    from .model import RebecaPrior

    with open(os.path.join(path, "manifest.json"), encoding="utf-8") as f:
        m = json.load(f)
    a = m["architecture"]
    condition = (m.get("conditioning") or {}).get("kind", "table")
    model = RebecaPrior(
        embedding_dim=m["embeddingDim"],
        num_users=m["nullUserRow"],
        d_model=a["dModel"],
        layers=a["layers"],
        heads=a["heads"],
        feed_forward=a["feedForward"],
        user_tokens=a["userTokens"],
        image_tokens=a.get("imageTokens", 1),
        dropout=a["dropout"],
        condition=condition,
        taste_dim=(m.get("conditioning") or {}).get("tasteDim", 0),
    )
    state = torch.load(os.path.join(path, "prior.pt"), map_location="cpu")
    model.load_state_dict(state["state_dict"])
    model.eval()
    s = m["schedule"]
    sched = Schedule(s["kind"], s["timesteps"], s.get("betaStart", 1e-4), s.get("betaEnd", 0.02))
    files = m["verifier"]["files"]
    vp = {
        "Ma": np.load(os.path.join(path, files["itemProjection"])),
        "mb": np.load(os.path.join(path, files["itemBias"])),
        "theta": np.load(os.path.join(path, files["userVectors"])),
        "bu": np.load(os.path.join(path, files["userBias"])),
    }
    return m, model, sched, vp
