"""Entry point: train the REBECA prior and verifier on a dataset snapshot and write a model artifact.

    cd /work/main && /usr/bin/python3 -m training.rebeca.train --data SNAPSHOT --out ARTIFACT --preset small

Progress goes to stderr (one line per epoch); the last stdout line is ``ARTIFACT <absolute path>``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Dict, NoReturn, Optional


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m training.rebeca.train",
        description="Train the REBECA diffusion prior and verifier; write a model artifact.",
    )
    p.add_argument("--data", required=True, help="dataset snapshot folder (docs/FORMATS.md)")
    p.add_argument("--out", required=True, help="artifact folder to write (replaced atomically)")
    p.add_argument("--preset", default="small", choices=["tiny", "tiny-table", "small", "large", "paper"])
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    p.add_argument("--min-likes", type=int, default=None, help="keep users with >= N likes (paper: 100)")
    p.add_argument("--validation-per-user", type=int, default=None)
    p.add_argument("--test-per-user", type=int, default=None)
    p.add_argument("--split-seed", type=int, default=None, help="held-out split seed (default 42)")
    p.add_argument("--max-epochs", type=int, default=None)
    p.add_argument("--schedule", choices=["linear", "cosine"], default=None)
    p.add_argument("--timesteps", type=int, default=None)
    p.add_argument("--beta-start", type=float, default=None)
    p.add_argument("--beta-end", type=float, default=None)
    p.add_argument("--rows-per-user", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--verifier-dim", type=int, default=None)
    p.add_argument("--guidance-scale", type=float, default=None, help="default guidance written to the manifest")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: all cores for d_model >= 512, else 1: measured faster, "
        "see training/README.md Benchmarks)",
    )
    p.add_argument("--prediction-type", choices=["epsilon", "sample", "v_prediction"], default=None)
    p.add_argument(
        "--condition",
        choices=["table", "taste"],
        default=None,
        help="how the prior knows the user: table (the paper's learned rows) or taste (verifier vectors)",
    )
    p.add_argument(
        "--truth", default=None, help="a taste world folder with truth.json: the health gate records the oracle's view"
    )
    p.add_argument("--no-health", action="store_true", help="skip the health gate (manifest health: skipped)")
    p.add_argument(
        "--health-min-z",
        type=float,
        default=None,
        help="the least permutation z (verifier) of the prior alone that passes the gate",
    )
    p.add_argument("--no-golden", action="store_true", help="skip golden.json")
    return p.parse_args(argv)


def fail(msg: str, code: int = 2) -> NoReturn:
    print(f"error: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


@dataclass
class Fitted:
    """A trained prior and verifier with everything the artifact and the health gate need."""

    preset: Any
    schedule: Any
    snapshot: Any
    prep: Any
    prior: Any  # trainer.PriorResult
    verifier: Any  # verifier.VerifierResult
    mean: Any
    std: Any
    data_range: Dict

    def verifier_params(self) -> Dict:
        return self.verifier.model.numpy_params()


def fit(data: str, preset, device, seed: int = 0, log=None) -> Fitted:
    """Load a snapshot, preprocess it, train the prior and the verifier (raises DataError on bad input)."""
    import numpy as np
    import torch

    from .data import load_snapshot, preprocess, standardization
    from .quality import data_range
    from .schedule import Schedule
    from .trainer import log_stderr, train_prior
    from .verifier import taste_vectors, train_verifier

    log = log or log_stderr
    schedule = Schedule(preset.schedule, preset.timesteps, preset.beta_start, preset.beta_end)
    if schedule.alphas_cumprod[-1] > 1e-2:
        log(
            f"warning: alphas_cumprod[T-1] = {schedule.alphas_cumprod[-1]:.3g}: x_T is not pure noise; "
            "raise --beta-end or --timesteps"
        )
    if preset.prediction_type not in ("epsilon", "sample", "v_prediction"):
        raise ValueError(f"unknown prediction type {preset.prediction_type!r} (epsilon | sample | v_prediction)")
    snap = load_snapshot(data)
    preset = preset.for_dim(snap.dim)
    prep = preprocess(
        snap,
        min_likes=preset.min_likes,
        validation_per_user=preset.validation_per_user,
        test_per_user=preset.test_per_user,
        split_seed=preset.split_seed,
    )
    pp = prep.preprocessing
    log(
        f"snapshot {snap.path}: {len(snap.item_ids)} items (D={snap.dim}), {pp['totalRatings']} ratings, "
        f"{pp['totalUsers']} users; kept {pp['keptUsers']} users with >= {preset.min_likes} likes "
        f"(dropped {pp['droppedRatings']} ratings); torch threads {torch.get_num_threads()}"
    )
    mean, std = standardization(snap.embeddings)
    # the verifier first: a taste-conditioned prior learns from its user vectors
    log(f"verifier: d={preset.verifier_dim}, {len(prep.all_users)} users")
    test_mask = np.zeros(len(prep.like), bool)
    test_mask[prep.split.test] = True
    vres = train_verifier(
        snap.embeddings[snap.item_rows],
        prep.verifier_row,
        prep.like,
        len(prep.all_users),
        preset.verifier_dim,
        test_mask=test_mask,
        lr=preset.verifier_lr,
        max_epochs=preset.verifier_max_epochs,
        patience=preset.verifier_patience,
        weight_decay=preset.verifier_weight_decay,
        seed=seed,
        device=str(device),
        log=log,
    )
    vm = vres.metrics
    log(
        f"verifier: {vres.epochs} epochs, validation AUC {vm['validationAuc']:.4f} acc "
        f"{vm['validationAccuracy']:.4f}, test AUC {vm['testAuc']:.4f} acc {vm['testAccuracy']:.4f}"
    )
    vectors = None
    if preset.condition == "taste":
        vectors = taste_vectors(vres.model.numpy_params(), prep.verifier_rows_of(prep.kept_users))
    prior = train_prior(prep, preset, schedule, mean, std, device, seed=seed, log=log, user_vectors=vectors)
    return Fitted(
        preset=preset,
        schedule=schedule,
        snapshot=snap,
        prep=prep,
        prior=prior,
        verifier=vres,
        mean=mean,
        std=std,
        data_range=data_range(snap.embeddings, mean, std),
    )


def health_check(
    f: Fitted,
    device,
    truth_dir: Optional[str] = None,
    samples_per_user: int = 8,
    steps: int = 50,
    seed: int = 0,
    log=None,
) -> Dict:
    """The health gate: sample for every prior user with the prior alone (the default guidance scale, no
    verifier guidance, one candidate per item), then check that the samples stay on the data and that they
    are personalised. On a taste world (truth.json) the oracle's view is recorded too."""
    import json

    import numpy as np
    import torch

    from .quality import Oracle, in_range, measure, nearest_cosine
    from .sampling import sample

    preset, snap, prep = f.preset, f.snapshot, f.prep
    users = prep.kept_users
    vp = f.verifier_params()
    vrows = prep.verifier_rows_of(users)
    rows = np.repeat(np.arange(len(users)), samples_per_user)
    g = torch.Generator().manual_seed(seed + 99)
    mean64, std64 = f.mean.astype(np.float64), f.std.astype(np.float64)
    raw = sample(
        f.prior.model,
        f.schedule,
        rows.tolist(),
        [1] * len(rows),
        guidance_scale=preset.guidance_scale,
        method="ddim",
        num_inference_steps=min(steps, f.schedule.timesteps),
        generator=g,
        device=device,
        mean=f.mean,
        std=f.std,
        prediction_type=preset.prediction_type,
        clip=(np.asarray(f.data_range["lower"]), np.asarray(f.data_range["upper"])),
    ).numpy()
    ok = in_range(raw, f.data_range, mean64, std64)
    oracle, liked, rated = None, None, None
    if truth_dir:
        with open(os.path.join(truth_dir, "truth.json"), encoding="utf-8") as fh:
            oracle = Oracle(json.load(fh))
        rated, liked = prep.rating_masks(users)
    # the catalog's own items to their nearest other item (on at most 2,000 of them), for reference
    probe = np.random.RandomState(seed).permutation(len(snap.embeddings))[:2000]
    sims = nearest_cosine(snap.embeddings[probe], snap.embeddings, exclude_self=False, exclude_rows=probe)
    m = measure(
        raw,
        rows,
        users,
        snap.embeddings,
        mean64,
        std64,
        vp,
        vrows,
        oracle,
        liked,
        rated,
        permutations=500,
        seed=seed,
        catalog_nn=float(sims.mean()),
    )
    reasons = []
    in_share = float(ok.mean())
    if in_share < 0.9:
        reasons.append(f"only {in_share:.0%} of samples lie in the catalog's range (at least 90% needed)")
    ratio = m.get("normRatio")
    if ratio is None or not 0.8 <= ratio <= 1.25:
        reasons.append(
            f"samples have {ratio if ratio is None else round(ratio, 2)}x the catalog's mean norm (0.8-1.25 needed)"
        )
    fd = m.get("frechet")
    if fd is not None and fd > 1.0:
        reasons.append(f"Frechet distance to the catalog is {fd:.2f} per standardised dimension (at most 1.0)")
    z = (m.get("verifier") or {}).get("z")
    if len(users) > 1 and preset.health_min_z > 0 and (z is None or z < preset.health_min_z):
        reasons.append(
            f"the prior alone personalises weakly: permutation z {z if z is None else round(z, 1)} "
            f"by the verifier (at least {preset.health_min_z} needed)"
        )
    report = {
        "passed": not reasons,
        "reasons": reasons,
        "samplesPerUser": samples_per_user,
        "steps": steps,
        "users": len(users),
        "inRange": in_share,
        **{k: v for k, v in m.items() if k not in ("users", "samples")},
    }
    if log:
        log(
            f"health: {'passed' if report['passed'] else 'FAILED: ' + '; '.join(reasons)} (norm ratio "
            f"{ratio if ratio is None else round(ratio, 2)}, in range {in_share:.0%}, Frechet "
            f"{fd if fd is None else round(fd, 3)}, verifier z {z if z is None else round(z, 1)}"
            + (
                f", oracle z {round(m['oracle']['z'], 1)}, own {m['oracle']['ownMean']:.3f} vs others "
                f"{m['oracle']['othersMean']:.3f}"
                if oracle is not None and m.get("oracle", {}).get("z") is not None
                else ""
            )
            + ")"
        )
    return report


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        fail(
            f"PyTorch is not installed for {sys.executable}. Install torch (pip install torch) or run with "
            "a Python that has it (on the dev machine: /usr/bin/python3).",
            3,
        )
    import torch

    from . import FORMAT_VERSION
    from .data import DataError, splits_json
    from .export import write_artifact
    from .model import count_parameters, image_tokens_for
    from .presets import get_preset
    from .trainer import default_threads, log_stderr, pick_device

    try:
        preset = get_preset(
            args.preset,
            min_likes=args.min_likes,
            validation_per_user=args.validation_per_user,
            test_per_user=args.test_per_user,
            split_seed=args.split_seed,
            max_epochs=args.max_epochs,
            schedule=args.schedule,
            timesteps=args.timesteps,
            beta_start=args.beta_start,
            beta_end=args.beta_end,
            rows_per_user=args.rows_per_user,
            batch_size=args.batch_size,
            lr=args.lr,
            verifier_dim=args.verifier_dim,
            guidance_scale=args.guidance_scale,
            prediction_type=args.prediction_type,
            condition=args.condition,
            health_min_z=args.health_min_z,
        )
        if preset.max_epochs < 1 or preset.timesteps < 2 or preset.rows_per_user < 1 or preset.batch_size < 1:
            raise DataError("--max-epochs, --rows-per-user, --batch-size must be >= 1 and --timesteps >= 2")
        if args.truth and not os.path.isfile(os.path.join(args.truth, "truth.json")):
            raise DataError(f"--truth {args.truth}: no truth.json there")
        device = pick_device(args.device)
        threads = args.threads or default_threads(preset)
        torch.set_num_threads(threads)
        t_start = time.time()
        f = fit(args.data, preset, device, seed=args.seed)
    except (DataError, ValueError, RuntimeError) as e:
        fail(str(e))
    snap, prep, prior, vres, schedule = f.snapshot, f.prep, f.prior, f.verifier, f.schedule
    preset = f.preset  # widened for the embedding width (presets.Preset.for_dim)
    health = (
        health_check(f, device, truth_dir=args.truth, seed=args.seed, log=log_stderr)
        if not args.no_health
        else {"passed": True, "reasons": [], "skipped": True}
    )
    kept = set(prep.kept_users)
    likes = {}
    for uid, like in zip(snap.user_ids, prep.like):
        likes[uid] = likes.get(uid, 0) + int(like)
    pp = dict(prep.preprocessing, droppedUsers={u: likes.get(u, 0) for u in prep.all_users if u not in kept})
    taste = preset.condition == "taste"
    manifest = {
        "formatVersion": FORMAT_VERSION,
        "kind": "rebeca-model",
        "createdAt": None,
        "preset": preset.name,
        "embeddingDim": snap.dim,
        "datasetHash": snap.content_hash,
        "seed": args.seed,
        "architecture": {
            "dModel": preset.d_model,
            "layers": preset.layers,
            "heads": preset.heads,
            "feedForward": preset.feed_forward,
            "userTokens": preset.user_tokens,
            "imageTokens": image_tokens_for(preset, snap.dim),
            "dropout": preset.dropout,
            "parameters": count_parameters(prior.model),
        },
        "schedule": schedule.manifest(preset.prediction_type),
        "conditioning": {"kind": preset.condition, **({"tasteDim": preset.verifier_dim + 1} if taste else {})},
        "guidance": {
            "conditionDropout": preset.condition_dropout,
            "userDropout": preset.user_dropout,
            "ratingDropout": preset.rating_dropout,
            "defaultScale": preset.guidance_scale,
            "verifierScale": preset.verifier_scale,
            "candidates": preset.candidates,
            "maxCosine": preset.max_cosine,
        },
        "users": prep.kept_users,
        "nullUserRow": len(prep.kept_users),
        "ratings": {"dislike": 0, "like": 1, "null": 2},
        "standardization": {"mean": f.mean.astype(float).tolist(), "std": f.std.astype(float).tolist()},
        "dataRange": f.data_range,
        "verifier": {
            "dim": preset.verifier_dim,
            "users": prep.all_users,
            "files": {
                "itemProjection": "verifier_Ma.npy",
                "itemBias": "verifier_mb.npy",
                "userVectors": "verifier_theta.npy",
                "userBias": "verifier_bu.npy",
            },
            "metrics": vres.metrics,
        },
        "preprocessing": pp,
        "metrics": {
            "bestValidationLoss": prior.best_val,
            "epochs": prior.epochs,
            "bestEpoch": prior.best_epoch,
            "trainSeconds": round(prior.seconds, 2),
            "stoppedEarly": prior.stopped_early,
            "finalTrainLoss": prior.history[-1]["trainLoss"] if prior.history else None,
            "firstValidationLoss": prior.history[0]["valLoss"] if prior.history else None,
            "device": str(device),
            "torch": torch.__version__,
        },
        "health": health,
        "training": {
            "rowsPerUser": preset.rows_per_user,
            "batchSize": preset.batch_size,
            "lr": preset.lr,
            "weightDecay": preset.weight_decay,
            "plateauPatience": preset.plateau_patience,
            "plateauFactor": preset.plateau_factor,
            "earlyStopPatience": preset.early_stop_patience,
            "earlyStopMinDelta": preset.early_stop_min_delta,
            "tasteNoise": preset.taste_noise,
            "maxEpochs": preset.max_epochs,
            "validationRepeats": preset.val_repeats,
        },
    }
    try:
        out = write_artifact(
            args.out,
            model=prior.model,
            schedule=schedule,
            verifier_params=f.verifier_params(),
            manifest=manifest,
            history=prior.history,
            splits=splits_json(prep),
            mean=f.mean,
            std=f.std,
            guidance_scale=preset.guidance_scale,
            golden=not args.no_golden,
        )
    except OSError as e:
        fail(f"cannot write the artifact to {args.out}: {e}")
    log_stderr(f"done in {time.time() - t_start:.1f}s")
    print(f"ARTIFACT {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
