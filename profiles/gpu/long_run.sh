#!/usr/bin/env bash
# The CPU default's recipe trained long on a lent GPU: does it keep learning past the main job's 3,200 steps, and does
# the region effect show once it has? Sizes the steps by measurement (size_steps.py: EXPERIMENTS × SEEDS trainings
# side by side within TRAIN_BUDGET seconds), then runs run.sh on their evaluations (test sets A, B, C) and the
# reference rows, and copies back the seed-0 colourings and the first experiment's seed-0 generator.
# At 64² a training is launch-bound on an H200 (measured 2026-12-04): 2 side by side run 0.070 s a step each
# (28.6 steps/s together), 9 run 0.171 s (52.6 together), so nine trainings get fewer steps in a lease than the
# CPU main job's 3,200. The default is therefore two trainings, `full` and `no_region_maps` on seed 0:
#   TRAIN_BUDGET=430 DEADLINE=510 bash profiles/gpu/long_run.sh   (on the GPU machine, .whl carried; ~5,500 steps)
#   DEVICE=cpu CONFIG=.test/config/config.yaml TRAIN_BUDGET=60 MAX_STEPS=20 CORES=2 SEEDS="0 1" \
#     bash profiles/gpu/long_run.sh                                 (the CPU test at tiny size, 3 min)
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! python3 -c "import snakemake, pytorch_fid, jsonschema" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site:${PYTHONPATH:-}"
fi
export OUT=${OUT:-results/gpu-run}
mkdir -p "$OUT"
CONFIG=${CONFIG:-config/config.yaml}
EXPERIMENTS=${EXPERIMENTS:-full no_region_maps}
SEEDS=${SEEDS:-0}
read -ra experiments <<< "$EXPERIMENTS"
read -ra seeds <<< "$SEEDS"
trainings=$(( ${#experiments[@]} * ${#seeds[@]} ))
export GPU_SLOTS=${GPU_SLOTS:-$(( trainings + 1 ))}  # every training on the GPU at once, and one more job
steps=$(python3 profiles/gpu/size_steps.py --config "$CONFIG" --device "${DEVICE:-cuda}" --trainings "$trainings" \
  --concurrency "$trainings" --budget "${TRAIN_BUDGET:-300}" --overhead "${OVERHEAD:-60}" \
  --max-steps "${MAX_STEPS:-30000}" | tee "$OUT/size_steps.txt" | tail -n 1)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >> "$OUT/size_steps.txt" 2>&1 || true
targets=""
for experiment in "${experiments[@]}"; do
  for seed in "${seeds[@]}"; do
    for testset in A B C; do
      targets="$targets results/eval/$experiment/seed$seed/$testset/metrics.json"
    done
  done
done
for testset in A B C; do
  for reference in constant nearest; do
    targets="$targets results/eval/reference_$reference/$testset/metrics.json"
  done
done
status=0
CONFIG=$CONFIG STEPS=$steps TARGET="$targets" DEADLINE=${DEADLINE:-470} bash profiles/gpu/run.sh || status=$?
find results/eval -path '*/seed0/*' -name colorized.npz -print0 | tar -cf "$OUT/colorized_seed0.tar" --null -T - || true
generator="results/train/${experiments[0]}/seed${seeds[0]}/generator.pt"
[ -f "$generator" ] && cp "$generator" "$OUT/generator_${experiments[0]}_seed${seeds[0]}.pt"
rm -f "$OUT/train_seconds.txt"  # in results.tar.gz (benchmarks/); $OUT brings back 8 files at most
exit "$status"
