"""Entry point: train the REBECA prior and verifier on a dataset snapshot and write a model artifact.

    cd /work/main && /usr/bin/python3 -m training.rebeca.train --data SNAPSHOT --out ARTIFACT --preset small

Progress goes to stderr (one line per epoch); the last stdout line is ``ARTIFACT <absolute path>``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.rebeca.train",
                                description="Train the REBECA diffusion prior and verifier; write a model artifact.")
    p.add_argument("--data", required=True, help="dataset snapshot folder (docs/FORMATS.md)")
    p.add_argument("--out", required=True, help="artifact folder to write (replaced atomically)")
    p.add_argument("--preset", default="small", choices=["tiny", "small", "paper"])
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
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: all cores for d_model >= 512, else 1: measured faster, "
                        "see training/README.md Benchmarks)")
    p.add_argument("--no-golden", action="store_true", help="skip golden.json")
    return p.parse_args(argv)


def fail(msg: str, code: int = 2) -> "NoReturn":  # type: ignore[name-defined]
    print(f"error: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        fail(f"PyTorch is not installed for {sys.executable}. Install torch (pip install torch) or run with "
             "a Python that has it (on the dev machine: /usr/bin/python3).", 3)
    import torch
    import numpy as np

    from .data import DataError, load_snapshot, preprocess, splits_json, standardization
    from .export import write_artifact
    from .model import count_parameters
    from .presets import get_preset
    from .schedule import Schedule
    from .trainer import default_threads, log_stderr, pick_device, train_prior
    from .verifier import train_verifier
    from . import FORMAT_VERSION

    try:
        preset = get_preset(args.preset, min_likes=args.min_likes, validation_per_user=args.validation_per_user,
                            test_per_user=args.test_per_user, split_seed=args.split_seed,
                            max_epochs=args.max_epochs, schedule=args.schedule, timesteps=args.timesteps,
                            beta_start=args.beta_start, beta_end=args.beta_end,
                            rows_per_user=args.rows_per_user, batch_size=args.batch_size, lr=args.lr,
                            verifier_dim=args.verifier_dim, guidance_scale=args.guidance_scale)
        if preset.max_epochs < 1 or preset.timesteps < 2 or preset.rows_per_user < 1 or preset.batch_size < 1:
            raise DataError("--max-epochs, --rows-per-user, --batch-size must be >= 1 and --timesteps >= 2")
        device = pick_device(args.device)
        threads = args.threads or default_threads(preset)
        torch.set_num_threads(threads)
        schedule = Schedule(preset.schedule, preset.timesteps, preset.beta_start, preset.beta_end)
        if schedule.alphas_cumprod[-1] > 1e-2:
            log_stderr(f"warning: alphas_cumprod[T-1] = {schedule.alphas_cumprod[-1]:.3g}: x_T is not pure noise; "
                       "raise --beta-end or --timesteps")
        t_start = time.time()
        snap = load_snapshot(args.data)
        prep = preprocess(snap, min_likes=preset.min_likes, validation_per_user=preset.validation_per_user,
                          test_per_user=preset.test_per_user, split_seed=preset.split_seed)
    except (DataError, ValueError, RuntimeError) as e:
        fail(str(e))
    pp = prep.preprocessing
    log_stderr(f"snapshot {snap.path}: {len(snap.item_ids)} items (D={snap.dim}), {pp['totalRatings']} ratings, "
               f"{pp['totalUsers']} users; kept {pp['keptUsers']} users with >= {preset.min_likes} likes "
               f"(dropped {pp['droppedRatings']} ratings); torch threads {torch.get_num_threads()}")
    mean, std = standardization(snap.embeddings)
    prior = train_prior(prep, preset, schedule, mean, std, device, seed=args.seed)

    log_stderr(f"verifier: d={preset.verifier_dim}, {len(prep.all_users)} users")
    test_mask = np.zeros(len(prep.like), bool)
    test_mask[prep.split.test] = True
    vres = train_verifier(snap.embeddings[snap.item_rows], prep.verifier_row, prep.like, len(prep.all_users),
                          preset.verifier_dim, test_mask=test_mask, lr=preset.verifier_lr,
                          max_epochs=preset.verifier_max_epochs, patience=preset.verifier_patience,
                          weight_decay=preset.verifier_weight_decay, seed=args.seed, device=str(device),
                          log=log_stderr)
    vm = vres.metrics
    log_stderr(f"verifier: {vres.epochs} epochs, validation AUC {vm['validationAuc']:.4f} acc "
               f"{vm['validationAccuracy']:.4f}, test AUC {vm['testAuc']:.4f} acc {vm['testAccuracy']:.4f}")

    manifest = {
        "formatVersion": FORMAT_VERSION,
        "kind": "rebeca-model",
        "createdAt": None,
        "preset": preset.name,
        "embeddingDim": snap.dim,
        "datasetHash": snap.content_hash,
        "seed": args.seed,
        "architecture": {"dModel": preset.d_model, "layers": preset.layers, "heads": preset.heads,
                         "feedForward": preset.feed_forward, "userTokens": preset.user_tokens,
                         "imageTokens": preset.image_tokens, "dropout": preset.dropout,
                         "parameters": count_parameters(prior.model)},
        "schedule": schedule.manifest(),
        "guidance": {"conditionDropout": preset.condition_dropout, "defaultScale": preset.guidance_scale},
        "users": prep.kept_users,
        "nullUserRow": len(prep.kept_users),
        "ratings": {"dislike": 0, "like": 1, "null": 2},
        "standardization": {"mean": mean.astype(float).tolist(), "std": std.astype(float).tolist()},
        "verifier": {"dim": preset.verifier_dim, "users": prep.all_users,
                     "files": {"itemProjection": "verifier_Ma.npy", "itemBias": "verifier_mb.npy",
                               "userVectors": "verifier_theta.npy", "userBias": "verifier_bu.npy"},
                     "metrics": vm},
        "preprocessing": pp,
        "metrics": {"bestValidationLoss": prior.best_val, "epochs": prior.epochs, "bestEpoch": prior.best_epoch,
                    "trainSeconds": round(prior.seconds, 2), "stoppedEarly": prior.stopped_early,
                    "finalTrainLoss": prior.history[-1]["trainLoss"] if prior.history else None,
                    "firstValidationLoss": prior.history[0]["valLoss"] if prior.history else None,
                    "device": str(device), "torch": torch.__version__},
        "training": {"rowsPerUser": preset.rows_per_user, "batchSize": preset.batch_size, "lr": preset.lr,
                     "weightDecay": preset.weight_decay, "plateauPatience": preset.plateau_patience,
                     "plateauFactor": preset.plateau_factor, "earlyStopPatience": preset.early_stop_patience,
                     "earlyStopMinDelta": preset.early_stop_min_delta,
                     "maxEpochs": preset.max_epochs, "validationRepeats": preset.val_repeats},
    }
    try:
        out = write_artifact(args.out, model=prior.model, schedule=schedule, verifier_params=vres.model.numpy_params(),
                             manifest=manifest, history=prior.history, splits=splits_json(prep), mean=mean, std=std,
                             guidance_scale=preset.guidance_scale, golden=not args.no_golden)
    except OSError as e:
        fail(f"cannot write the artifact to {args.out}: {e}")
    log_stderr(f"done in {time.time() - t_start:.1f}s")
    print(f"ARTIFACT {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
