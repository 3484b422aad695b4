#!/usr/bin/env bash
# The one prepared command for a lent GPU machine (README, "GPUs"): install the carried wheels if Snakemake is
# missing, run the claims target of config/gpu.yaml with MLflow off, and copy the tables (and the timings) to $OUT.
# GPU_SLOTS trainings share the one GPU at a time (the models are small; default 6).
#   CONFIG=config/gpu.yaml TARGET=results/claims.csv CORES=16 bash profiles/gpu/run.sh
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
start=$(date +%s)
# the target goes first: --configfile and --resources take every word after them
python3 -m snakemake "$TARGET" --cores "${CORES:-16}" --configfile "$CONFIG" --resources gpu="${GPU_SLOTS:-6}" 2>&1 | tail -n 40
echo "wall seconds: $(( $(date +%s) - start ))" | tee "$OUT/wall.txt"
for file in results/claims.csv results/claims.md results/table*.md; do
  [ -f "$file" ] && cp "$file" "$OUT/"
done
tail -q -n +2 benchmarks/train_model/*.tsv 2>/dev/null | awk '{print $1}' > "$OUT/train_seconds.txt" || true
