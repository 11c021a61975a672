#!/usr/bin/env bash
# Regenerates tests/fixtures/tiny-model/: the synthetic tiny world (training/rebeca/synthetic.py, seed 7,
# D = 16, 12 + 2 users) trained with the `tiny` preset, seed 0, on the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-/usr/bin/python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PY" -m training.rebeca.synthetic "$tmp/snapshot" >/dev/null
"$PY" -m training.rebeca.train --data "$tmp/snapshot" --out tests/fixtures/tiny-model \
  --preset tiny --seed 0 --device cpu --threads 1
