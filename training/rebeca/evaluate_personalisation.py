"""Personalisation evaluation of a trained artifact on a synthetic world with ground truth.

For each prior user, sample n embeddings (rating = like, guidance on) and score every sample under
every user with (a) the artifact's verifier and (b) the world's oracle (truth.json, "oracle" block).

Reported per judge (verifier, oracle):
- statistic S = mean over users of the mean score of the user's own samples (the paper's Algorithm 1);
- permutation test: 1000 shuffles of the sample -> user assignment; p = (k + 1) / (1000 + 1) with k
  shuffled statistics >= S; gap = S - mean(shuffled), z = gap / std(shuffled);
- own-vs-others gap: mean over users of [mean score of own samples - mean score of samples generated for
  the other users] (a deterministic version of the permutation gap);
- reference levels: the user's mean score over the whole catalog and over the items they liked.

    /usr/bin/python3 -m training.rebeca.evaluate_personalisation --model models/demo --world WORLD_DIR \
        [--n 25] [--guidance W] [--method ddim|ddpm] [--steps 50] [--permutations 1000] [--seed 0] [--out report.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from .quality import Oracle, permutation_test, verifier_matrix


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m training.rebeca.evaluate_personalisation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--model", required=True, help="model artifact folder")
    ap.add_argument(
        "--world", required=True, help="world folder with truth.json, items.csv, embeddings.npy, ratings.csv"
    )
    ap.add_argument("--n", type=int, default=25, help="samples per user (paper: 25)")
    ap.add_argument("--guidance", type=float, default=None, help="guidance scale (default: manifest defaultScale)")
    ap.add_argument("--method", choices=["ddim", "ddpm"], default="ddim")
    ap.add_argument("--steps", type=int, default=50, help="DDIM steps")
    ap.add_argument("--eta", type=float, default=0.0)
    ap.add_argument("--permutations", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="write the JSON report here (default: stdout)")
    args = ap.parse_args(argv)
    try:
        import torch
    except ImportError:
        print(f"error: PyTorch is not installed for {sys.executable}", file=sys.stderr)
        return 3
    from .data import load_snapshot
    from .export import load_artifact
    from .sampling import sample

    torch.set_num_threads(1)
    tpath = os.path.join(args.world, "truth.json")
    if not os.path.isfile(tpath):
        print(f"error: {tpath} not found (a synthetic world with ground truth is required)", file=sys.stderr)
        return 2
    truth = json.load(open(tpath, encoding="utf-8"))
    oracle = Oracle(truth)
    m, model, sched, vp = load_artifact(args.model)
    w = m["guidance"]["defaultScale"] if args.guidance is None else args.guidance
    users = m["users"]
    mean = np.asarray(m["standardization"]["mean"], np.float32)
    std = np.asarray(m["standardization"]["std"], np.float32)
    t0 = time.time()
    g = torch.Generator().manual_seed(args.seed)
    rows = np.repeat(np.arange(len(users)), args.n)
    clip = None
    if m.get("dataRange"):
        clip = (np.asarray(m["dataRange"]["lower"]), np.asarray(m["dataRange"]["upper"]))
    emb = sample(
        model,
        sched,
        rows.tolist(),
        [1] * len(rows),
        guidance_scale=w,
        method=args.method,
        num_inference_steps=args.steps,
        eta=args.eta,
        generator=g,
        mean=mean,
        std=std,
        prediction_type=m["schedule"]["predictionType"],
        clip=clip,
    ).numpy()
    sample_s = time.time() - t0
    vrows = [m["verifier"]["users"].index(u) for u in users]
    rng = np.random.RandomState(args.seed)
    S_v = verifier_matrix(vp, vrows, emb)
    S_o = oracle.prob(users, emb)
    report = {
        "model": os.path.abspath(args.model),
        "world": os.path.abspath(args.world),
        "users": len(users),
        "samplesPerUser": args.n,
        "guidanceScale": w,
        "method": args.method,
        "steps": args.steps if args.method == "ddim" else sched.timesteps,
        "eta": args.eta,
        "seed": args.seed,
        "samplingSeconds": round(sample_s, 2),
        "verifier": permutation_test(S_v, rows, args.permutations, rng),
        "oracle": permutation_test(S_o, rows, args.permutations, rng),
    }
    # reference levels over the catalog
    snap = load_snapshot(args.world)
    cat_o = oracle.prob(users, snap.embeddings)
    cat_v = verifier_matrix(vp, vrows, snap.embeddings)
    liked = np.zeros_like(cat_o, dtype=bool)
    uindex = {u: k for k, u in enumerate(users)}
    for u, r, s in zip(snap.user_ids, snap.item_rows, snap.scores):
        if u in uindex and s >= 4:
            liked[uindex[u], r] = True
    report["reference"] = {
        "oracleCatalogMean": float(cat_o.mean()),
        "verifierCatalogMean": float(cat_v.mean()),
        "oracleLikedItemsMean": float(cat_o[liked].mean()),
        "verifierLikedItemsMean": float(cat_v[liked].mean()),
        "oracleTop25CatalogMean": float(np.sort(cat_o, axis=1)[:, -25:].mean()),
    }
    text = json.dumps(report, indent=2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)
    for judge in ("verifier", "oracle"):
        r = report[judge]
        print(
            f"{judge}: S = {r['statistic']:.4f}, permutation mean {r['permutationMean']:.4f} "
            f"(gap {r['gap']:+.4f}, z {r['z'] if r['z'] is None else round(r['z'], 1)}, p = {r['pValue']:.4f}); "
            f"own-vs-others gap {r['ownVsOthersGap']:+.4f}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
