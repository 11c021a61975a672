"""Generation quality on a taste world, judged by the world's oracle: trains a prior (or loads an artifact)
and measures its generated items under several sampling options.

    /usr/bin/python3 bench/generation_quality.py --world WORLD_DIR [--preset small] [--max-epochs 60]
        [--set prediction_type=sample --set schedule=cosine ...] [--variants default,noclip,...]
        [--n 8] [--out report.json]

Every variant samples `n` kept items per prior user (DDIM, `--steps`), then reports (quality.measure):
norm ratio, nearest-catalog cosine, Frechet distance, the permutation z by verifier and by oracle, the
oracle like-rate of own and other users' items, the users' liked items, the catalog top 10 by the
verifier and the blended top 10. Variants (comma-separated) name sampling options:
  w<scale>        classifier-free guidance scale (e.g. w3, w5)
  vg<scale>       verifier guidance scale (vg0 = off)
  k<candidates>   candidates drawn per kept item, the best kept by verifier score under the diversity floor
  noclip          no clamp of the clean estimate
e.g. `--variants w5-vg0-k1-noclip,w5-vg0-k1,w5-vg0.3-k1,w5-vg0-k4,w5-vg0.3-k4`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Dict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402


def parse_variant(name: str, defaults: Dict[str, Any]) -> Dict[str, Any]:
    v: Dict[str, Any] = dict(defaults, name=name)
    for part in name.split("-"):
        if part == "noclip":
            v["clip"] = False
        elif part.startswith("vg"):
            v["verifier_scale"] = float(part[2:])
        elif part.startswith("w"):
            v["guidance"] = float(part[1:])
        elif part.startswith("k"):
            v["candidates"] = int(part[1:])
        elif part.startswith("cos"):
            v["max_cosine"] = float(part[3:])
        elif part == "default":
            pass
        else:
            raise ValueError(f"unknown variant part {part!r}")
    return v


def coerce(value: str):
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--world", required=True)
    ap.add_argument("--preset", default="small")
    ap.add_argument("--set", action="append", default=[], help="preset field=value (repeatable)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--variants", default="w5-vg0-k1")
    ap.add_argument("--n", type=int, default=8, help="kept items per user")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--max-cosine", type=float, default=0.9)
    ap.add_argument("--permutations", type=int, default=500)
    ap.add_argument("--out", default=None)
    ap.add_argument("--label", default=None)
    ap.add_argument("--dump", action="store_true", help="keep per-item figures in the report")
    args = ap.parse_args(argv)

    import torch
    from training.rebeca.presets import get_preset
    from training.rebeca.quality import Oracle, in_range, measure, nearest_cosine, verifier_matrix
    from training.rebeca.sampling import sample, select_diverse, verifier_guidance
    from training.rebeca.train import fit
    from training.rebeca.trainer import pick_device
    from training.rebeca.verifier import taste_vectors

    torch.set_num_threads(args.threads)
    overrides = {}
    for s in args.set:
        k, v = s.split("=", 1)
        overrides[k] = coerce(v)
    preset = get_preset(args.preset, **overrides)
    device = pick_device(args.device)
    t0 = time.time()
    logs = []
    f = fit(args.world, preset, device, seed=args.seed, log=lambda m: logs.append(m))
    train_s = time.time() - t0
    print(f"trained in {train_s:.0f}s: {logs[-1]}; prior {logs[-3] if len(logs) > 2 else ''}", file=sys.stderr)
    truth = json.load(open(os.path.join(args.world, "truth.json")))
    oracle = Oracle(truth)
    snap, prep, vp = f.snapshot, f.prep, f.verifier_params()
    taste = preset.condition == "taste"
    # who is measured: the users the prior was trained with, and (a taste-conditioned prior generates for
    # anyone with a verifier vector) the users the min-likes rule kept out of its training
    kept_set = set(prep.kept_users)
    groups = {"trained": list(prep.kept_users)}
    dropped = [u for u in prep.all_users if u not in kept_set]
    if taste and dropped:
        groups["belowMinLikes"] = dropped
    cat_nn = float(nearest_cosine(snap.embeddings, snap.embeddings, exclude_self=True).mean())
    mean, std = f.mean.astype(np.float64), f.std.astype(np.float64)
    lo, hi = np.asarray(f.data_range["lower"]), np.asarray(f.data_range["upper"])
    defaults = {
        "guidance": preset.guidance_scale,
        "verifier_scale": 0.0,
        "candidates": 1,
        "clip": True,
        "max_cosine": args.max_cosine,
    }
    results = []
    model = f.prior.model.to(device)
    for group, users in groups.items():
        U = len(users)
        vrows = prep.verifier_rows_of(users)
        rated, liked = prep.rating_masks(users)
        vectors_of_user = taste_vectors(vp, vrows) if taste else None
        for name in args.variants.split(","):
            v = parse_variant(name, defaults)
            t1 = time.time()
            k = v["candidates"]
            rows = np.repeat(np.arange(U), args.n * k)
            g = torch.Generator().manual_seed(args.seed + 17)
            vg = (
                verifier_guidance(vp, [vrows[r] for r in rows], mean, std, v["verifier_scale"], device)
                if v["verifier_scale"] > 0
                else None
            )
            # table priors take prior rows (trained users only); taste priors the users' verifier vectors
            prior_rows = [prep.kept_users.index(users[r]) if not taste else 0 for r in rows]
            raw = (
                sample(
                    model,
                    f.schedule,
                    prior_rows,
                    [1] * len(rows),
                    guidance_scale=v["guidance"],
                    method="ddim",
                    num_inference_steps=args.steps,
                    generator=g,
                    device=device,
                    mean=f.mean,
                    std=f.std,
                    prediction_type=preset.prediction_type,
                    clip=(lo, hi) if v["clip"] else None,
                    verifier=vg,
                    user_vectors=vectors_of_user[rows] if vectors_of_user is not None else None,
                )
                .numpy()
                .astype(np.float64)
            )
            ok = in_range(raw, f.data_range, mean, std)
            keep_idx, owner = [], []
            for u in range(U):
                idx = np.flatnonzero(rows == u)
                sc = verifier_matrix(vp, [vrows[u]], raw[idx])[0]
                zs = (raw[idx] - mean) / std
                picked = (
                    select_diverse(sc, zs, args.n, v["max_cosine"], eligible=ok[idx])
                    if k > 1
                    else list(range(len(idx)))
                )
                keep_idx += [int(idx[p]) for p in picked]
                owner += [u] * len(picked)
            kept = raw[keep_idx]
            if len(kept) == 0:
                print(
                    f"{args.label or ''} {group} {name:20s} no sample in the data's range "
                    f"({ok.mean():.2f} of candidates)",
                    flush=True,
                )
                results.append({"group": group, "variant": v, "inRange": float(ok.mean()), "samples": 0})
                continue
            m = measure(
                kept,
                np.asarray(owner, dtype=np.int64),
                users,
                snap.embeddings,
                mean,
                std,
                vp,
                vrows,
                oracle,
                liked,
                rated,
                permutations=args.permutations,
                seed=args.seed,
                catalog_nn=cat_nn,
                margins=(0.0, 0.5, 1.0, 2.0),
            )
            m["group"] = group
            m["inRange"] = float(ok.mean())
            m["variant"] = v
            m["seconds"] = round(time.time() - t1, 1)
            results.append(m)
            o = m.get("oracle", {})
            r = m.get("reference", {})
            bm = r.get("blendByMargin", {})
            blends = " ".join(f"m{mk}:{bv['blendedTop10']:.3f}/{bv['generatedInTop10']:.1f}" for mk, bv in bm.items())
            print(
                f"{args.label or ''} {group:13s} {name:18s} n {U:3d} norm {m.get('normRatio', float('nan')):.2f} "
                f"nn {m.get('nearestCatalogCosine', float('nan')):.3f}/{cat_nn:.3f} "
                f"fd {m.get('frechet', float('nan')):.3f} "
                f"in {m['inRange']:.2f} zV {m['verifier']['z'] or float('nan'):.1f} "
                f"zO {o.get('z') or float('nan'):.1f} own {o.get('ownMean', float('nan')):.3f} "
                f"other {o.get('othersMean', float('nan')):.3f} liked {r.get('likedItems', float('nan')):.3f} "
                f"top10 {r.get('catalogTop10ByVerifier', float('nan')):.3f} blend {blends} "
                f"div {m.get('withinUserCosine') or float('nan'):.2f}",
                flush=True,
            )
    report = {
        "world": os.path.abspath(args.world),
        "preset": f.preset.to_dict(),
        "trainSeconds": train_s,
        "bestValidationLoss": f.prior.best_val,
        "epochs": f.prior.epochs,
        "keptUsers": len(prep.kept_users),
        "droppedUsers": len(dropped),
        "verifierMetrics": f.verifier.metrics,
        "catalogNearestCosine": cat_nn,
        "results": results,
    }
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(report, fh, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
