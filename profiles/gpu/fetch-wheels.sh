#!/usr/bin/env bash
# Download the wheels of profiles/gpu/wheels.txt for the lent GPU machine (Python 3.12, x86-64) into .whl/ at the
# repository root (git-ignored); profiles/gpu/run.sh installs them there. Run here, where pip reaches the index.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .whl
grep -v '^#' profiles/gpu/wheels.txt | grep -v '^connection-pool' | xargs python3 -m pip download -q --no-deps \
  --only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any -d .whl
# connection-pool is published as a source distribution only: build its (pure-Python) wheel here
python3 -m pip wheel -q --no-deps -w .whl "$(grep '^connection-pool' profiles/gpu/wheels.txt)"
du -sh .whl
