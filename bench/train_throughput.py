#!/usr/bin/env python3
"""Training throughput of the REBECA prior per preset (rows/second), and optionally the time to early
stopping of the `small` preset on a world/snapshot folder.

    /usr/bin/python3 bench/train_throughput.py [--presets tiny,small,paper] [--threads 1,2] [--steps 10]
                                               [--world DIR]   # also: full `small` training run, timed

One "step" = forward + backward + AdamW update on a batch of 64 (the training batch), cond dropout on.
Median of --steps timed steps after --warmup untimed ones. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# (embedding dim, users) per preset: paper = FLICKR-AES (D 1024, 94 kept users); small = demo world; tiny = fixture
SHAPES = {"tiny": (16, 12), "small": (64, 24), "paper": (1024, 94)}


def bench_preset(name: str, threads: int, steps: int, warmup: int, device: str) -> dict:
    import torch
    import torch.nn.functional as F
    from training.rebeca.model import build_prior, count_parameters
    from training.rebeca.presets import get_preset

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    D, U = SHAPES[name]
    p = get_preset(name).for_dim(D)
    dev = torch.device(device)
    # a taste-conditioned prior reads the verifier's [theta, b] of its users (d + 1 values each)
    taste_dim = p.verifier_dim + 1 if p.condition == "taste" else 0
    m = build_prior(p, D, U, taste_dim=taste_dim).to(dev).train()
    opt = torch.optim.AdamW(m.parameters(), lr=p.lr, weight_decay=p.weight_decay)
    B = p.batch_size
    times = []
    for i in range(warmup + steps):
        x = torch.randn(B, D, device=dev)
        t = torch.randint(0, p.timesteps, (B,), device=dev)
        u = torch.randint(0, U + 1, (B,), device=dev)
        r = torch.randint(0, 3, (B,), device=dev)
        eps = torch.randn(B, D, device=dev)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        loss = F.mse_loss(m(x, t, u, r), eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    return {
        "preset": name,
        "threads": threads,
        "params": count_parameters(m),
        "D": D,
        "batch": B,
        "step_ms": med * 1000,
        "rows_per_s": B / med,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", default="tiny,small,paper")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--world", default=None, help="time a full `small` training run on this folder")
    args = ap.parse_args()
    import torch

    print(
        f"torch {torch.__version__}, {platform.platform()}, {os.cpu_count()} CPUs, device {args.device}",
        file=sys.stderr,
    )
    rows = []
    for name in args.presets.split(","):
        for th in [int(x) for x in args.threads.split(",")]:
            r = bench_preset(
                name,
                th,
                args.steps if name != "paper" else max(3, args.steps // 2),
                args.warmup if name != "paper" else 2,
                args.device,
            )
            print(f"{r}", file=sys.stderr)
            rows.append(r)
    print("| preset | parameters | D | threads | batch | median step (ms) | rows/s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['preset']} | {r['params']:,} | {r['D']} | {r['threads']} | {r['batch']} | "
            f"{r['step_ms']:.1f} | {r['rows_per_s']:,.0f} |"
        )
    if args.world:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.time()
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "training.rebeca.train",
                    "--data",
                    args.world,
                    "--out",
                    os.path.join(tmp, "model"),
                    "--preset",
                    "small",
                    "--device",
                    args.device,
                    "--no-golden",
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            wall = time.time() - t0
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return proc.returncode
            import json

            m = json.load(open(os.path.join(tmp, "model", "manifest.json")))
            mm = m["metrics"]
            print()
            print(
                "| run | epochs (best) | prior training (s) | whole command (s) | best val loss | verifier test AUC |"
            )
            print("|---|---|---|---|---|---|")
            print(
                f"| small on {os.path.basename(os.path.abspath(args.world))} | {mm['epochs']} ({mm['bestEpoch']}) | "
                f"{mm['trainSeconds']:.0f} | {wall:.0f} | {mm['bestValidationLoss']:.4f} | "
                f"{m['verifier']['metrics']['testAuc']:.3f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
