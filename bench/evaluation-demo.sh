#!/usr/bin/env bash
# The evaluations of issue 12 on the demo world at the reference code's sizes (24 users x 25 embeddings,
# DDIM 50 steps, 1000 permutations), run through a gateway as an analyst would: `npm start` on a fresh
# DATA_DIR (the demo world and models/demo), then `evaluate --gateway`. Output: bench/results/evaluation-demo.txt
set -euo pipefail
cd "$(dirname "$0")/.."
port="${PORT:-4391}"
data="$(mktemp -d)"
out="bench/results/evaluation-demo.txt"
DATA_DIR="$data" PORT="$port" LOG_LEVEL=warn npm start >"$data/serve.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 240); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 1
done
url="http://127.0.0.1:$port/graphql"
{
  echo "# evaluation-demo: $(date -u +%FT%TZ), $(nproc) cores, models/demo on the demo world"
  for kind in personalisation distribution precision_recall topic_precision ablation guidance_sweep; do
    echo
    echo "## $kind"
    start=$(date +%s)
    npm run --silent cli -- evaluate --kind "$kind" --gateway "$url" "$@"
    echo "  wall: $(( $(date +%s) - start )) s"
  done
} | tee "$out"
