#!/usr/bin/env bash
# The CPU default's recipe trained long on a lent GPU: does it keep learning past the main job's 3,200 steps, and does
# the region effect show once it has? Sizes the steps by measurement (size_steps.py: EXPERIMENTS × SEEDS trainings
# side by side within TRAIN_BUDGET seconds), then runs run.sh on their evaluations (test sets A, B, C) and the
# reference rows, and copies back the seed-0 colourings and the first experiment's seed-0 run folder.
# At 64² a training is launch-bound on an H200 (measured 2026-12-04): 2 side by side run 0.070 s a step each
# (28.6 steps/s together), 9 run 0.171 s (52.6 together), so nine trainings get fewer steps in a lease than the
# CPU main job's 3,200. The default is therefore two trainings, `full` and `no_region_maps` on seed 0:
#   TRAIN_BUDGET=430 DEADLINE=510 bash profiles/gpu/long_run.sh   (on the GPU machine, .whl carried; ~5,500 steps)
#   DEVICE=cpu CONFIG=.test/config/config.yaml TRAIN_BUDGET=60 MAX_STEPS=20 CORES=2 SEEDS="0 1" \
#     bash profiles/gpu/long_run.sh                                 (the CPU test at tiny size, 3 min)
# RESUME=folder continues the trainings whose run folders it holds (<experiment>/seed<k>/ with snapshots/last.pt,
# e.g. a CPU training of the same config, or the snapshot an earlier lease brought back) for the measured steps
# more. The first training's snapshot comes back in parts under 16 MiB (a returned file's limit):
#   cat snapshot_full_seed0.part* > .resume/full/seed0/snapshots/last.pt   (here; .resume ignored, then carried)
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
if [ -n "${RESUME:-}" ]; then
  for experiment in "${experiments[@]}"; do
    for seed in "${seeds[@]}"; do  # a training without a snapshot would run from step 0 for the resumed steps and more
      if [ ! -f "$RESUME/$experiment/seed$seed/snapshots/last.pt" ]; then
        echo "RESUME: no $RESUME/$experiment/seed$seed/snapshots/last.pt; name only the resumed trainings in" \
          "EXPERIMENTS and SEEDS" >&2
        exit 2
      fi
    done
  done
fi
export GPU_SLOTS=${GPU_SLOTS:-$(( trainings + 1 ))}  # every training on the GPU at once, and one more job
steps=$(python3 profiles/gpu/size_steps.py --config "$CONFIG" --device "${DEVICE:-cuda}" --trainings "$trainings" \
  --concurrency "$trainings" --budget "${TRAIN_BUDGET:-300}" --overhead "${OVERHEAD:-60}" \
  --max-steps "${MAX_STEPS:-30000}" | tee "$OUT/size_steps.txt" | tail -n 1)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >> "$OUT/size_steps.txt" 2>&1 || true
resumed_at=0
if [ -n "${RESUME:-}" ]; then
  for experiment in "${experiments[@]}"; do
    for seed in "${seeds[@]}"; do
      run="$RESUME/$experiment/seed$seed"
      mkdir -p "results/train/$experiment"
      rm -rf "results/train/$experiment/seed$seed"
      cp -r "$run" "results/train/$experiment/seed$seed"
      at=$(python3 -c 'import sys, torch; print(torch.load(sys.argv[1], weights_only=True)["step"])' \
        "$run/snapshots/last.pt")
      echo "resuming $experiment seed $seed from step $at" | tee -a "$OUT/size_steps.txt"
      resumed_at=$(( at > resumed_at ? at : resumed_at ))
    done
  done
fi
steps=$(( steps + resumed_at ))
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
# the seed-0 colourings, and the first training's run folder (generator.pt, curves, stats) without its snapshot
first="results/train/${experiments[0]}/seed${seeds[0]}"
{ find results/eval -path '*/seed0/*' -name colorized.npz; find "$first" -maxdepth 1 -type f 2>/dev/null; } |
  tar -cf "$OUT/seed0.tar" -T - || true
if [ -f "$first/snapshots/last.pt" ]; then
  split -b 15M -d "$first/snapshots/last.pt" "$OUT/snapshot_${experiments[0]}_seed${seeds[0]}.part"
fi
rm -f "$OUT/train_seconds.txt"  # in results.tar.gz (benchmarks/); $OUT brings back 8 files at most
exit "$status"
