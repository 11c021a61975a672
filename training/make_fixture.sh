#!/usr/bin/env bash
# Regenerates the tiny fixtures from the synthetic tiny world (training/rebeca/synthetic.py, seed 7, D = 16,
# 12 + 2 users), seed 0, on the CPU: tests/fixtures/tiny-model (the `tiny` preset: taste-conditioned) and
# tests/fixtures/tiny-table-model (`tiny-table`: the paper's table-conditioned prior at the same size).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-/usr/bin/python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PY" -m training.rebeca.synthetic "$tmp/snapshot" >/dev/null
"$PY" -m training.rebeca.train --data "$tmp/snapshot" --out tests/fixtures/tiny-model \
  --preset tiny --seed 0 --device cpu --threads 1
"$PY" -m training.rebeca.train --data "$tmp/snapshot" --out tests/fixtures/tiny-table-model \
  --preset tiny-table --seed 0 --device cpu --threads 1
