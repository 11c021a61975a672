#!/usr/bin/env bash
# The generation-quality matrix of BENCHMARKS.md ("Generation quality"): every preset and option measured
# against the taste worlds' oracle, in parallel processes (one GPU is plenty; on CPU lower the epochs).
#   bench/generation-quality-matrix.sh WORLDS_DIR OUT_DIR [EPOCHS_SCALE]
# WORLDS_DIR holds w64, w256, w1024 (npm run cli -- world generate --preset flickr --users 60 --items 3000
# --dim D --seed S; the committed figures use seeds 41, 42, 43, worlds no setting was tuned on).
set -uo pipefail
worlds="$1"; out="$2"; scale="${3:-1}"
mkdir -p "$out"
py="${PYTHON:-python3}"
epochs() { echo $(( $1 * scale )); }
run() {  # name world preset epochs variants [--set k=v ...]
  local name="$1" world="$2" preset="$3" ep="$4" variants="$5"; shift 5
  timeout "${RUN_TIMEOUT:-400}" "$py" bench/generation_quality.py --world "$worlds/$world" --preset "$preset" \
    --set max_epochs="$(epochs "$ep")" --set min_likes=40 --threads 2 --n 8 --permutations 500 \
    --variants "$variants" --label "$name" --out "$out/$name.json" "$@" >"$out/$name.log" 2>"$out/$name.err" &
}
measured="w2,w3,w4,w3-k4,w3-vg0.2-k4,w3-k8,w3-noclip"
run small64 w64 small 150 "$measured"
run small256 w256 small 150 "$measured"
run small1024 w1024 small 150 "$measured"
run large1024 w1024 large 100 "w2,w3,w4,w3-k4,w3-vg0.2-k4,w3-k8"
run paper1024 w1024 paper 60 "w10-noclip,w10,w10-k8,w3,w3-k8"
run table256 w256 small 150 "w2,w3,w4,w3-k4" --set condition=table
run before256 w256 small 150 "w5-noclip,w5,w5-k4" --set condition=table --set prediction_type=epsilon \
  --set schedule=linear --set condition_dropout=0.1 --set user_dropout=0 --set rating_dropout=0
run linear256 w256 small 150 "w2,w3,w3-k4" --set schedule=linear
run eps256 w256 small 150 "w2,w3,w3-k4" --set prediction_type=epsilon
run v256 w256 small 150 "w2,w3,w3-k4" --set prediction_type=v_prediction
wait
cat "$out"/*.log > "$out/summary.txt"
tail -n 3 "$out"/*.err >> "$out/summary.txt"
