#!/usr/bin/env bash
# The one prepared command for a lent GPU machine (README, "GPUs"): install the carried wheels if Snakemake is
# missing, run the claims target of config/gpu.yaml with MLflow off, and copy the tables, the timings and a tarball
# of the small results (metrics, learning curves, logs, benchmarks) to $OUT, also when the deadline stops it.
#   CONFIG=config/gpu.yaml TARGET=results/claims.csv CORES=16 GPU_SLOTS=8 bash profiles/gpu/run.sh
# GPU_SLOTS jobs share the one GPU at a time (trainings, evaluations, the learned region net and its maps). At 256²
# a training holds 7.6-8.2 GiB and an evaluation 11.3-11.7 GiB of an H200's 140 (measured): 16 ran out of memory.
# STEPS=N runs the config with train.steps N (e.g. from profiles/gpu/size_steps.py), the claims' runs too (claims.steps
# null: they share the tables' N-step runs); DEADLINE=S stops Snakemake
# after S seconds (it removes the outputs of the jobs it stops), so that what finished still comes back.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! python3 -c "import snakemake, pytorch_fid, jsonschema" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site:${PYTHONPATH:-}"
fi
export PYTHONPATH="$PWD:${PYTHONPATH:-}" RASC_TRACKING=off PYTHONUNBUFFERED=1
CONFIG=${CONFIG:-config/gpu.yaml}
TARGET=${TARGET:-results/claims.csv}
OUT=${OUT:-results/gpu-run}
mkdir -p "$OUT"
if [ -n "${STEPS:-}" ]; then
  derived="$OUT/config.yaml"
  python3 - "$CONFIG" "$STEPS" "$derived" <<'PY'
import sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
config["train"]["steps"] = int(sys.argv[2])
config.setdefault("claims", {})["steps"] = None
yaml.safe_dump(config, open(sys.argv[3], "w"), sort_keys=False)
PY
  CONFIG=$derived
fi
start=$(date +%s)
# the targets go first (TARGET may name several, space-separated): --configfile and --resources take every word
# after them
status=0
# shellcheck disable=SC2086
timeout --signal=INT --kill-after=30 "${DEADLINE:-36000}" python3 -m snakemake $TARGET --cores "${CORES:-16}" \
  --keep-going --configfile "$CONFIG" --resources gpu="${GPU_SLOTS:-8}" > "$OUT/snakemake.log" 2>&1 || status=$?
tail -n 25 "$OUT/snakemake.log"
echo "wall seconds: $(( $(date +%s) - start )) (snakemake exit status $status)" | tee "$OUT/wall.txt"
for file in results/claims.csv results/claims.md; do
  [ -f "$file" ] && cp "$file" "$OUT/"
done
tail -q -n +2 benchmarks/train_model/*.tsv benchmarks/train_claims_model/*.tsv 2>/dev/null | awk '{print $1}' > "$OUT/train_seconds.txt" || true
find results benchmarks logs \( -name '*.json' -o -name '*.jsonl' -o -name '*.csv' -o -name '*.md' -o -name '*.tsv' \
  -o -name '*.log' \) -not -path "$OUT/*" -print0 2>/dev/null | tar -czf "$OUT/results.tar.gz" --null -T - || true
exit "$status"
