#!/usr/bin/env bash
# The main job: install what is missing, build, train PPO on CartPole-v1 from the default config
# (experiments/configs/cartpole_ppo.json), then evaluate the trained policy file.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh release
run_dir="runs/cartpole_ppo-$(date +%Y%m%d-%H%M%S)"
build/release/cli/keel train experiments/configs/cartpole_ppo.json --out "$run_dir" "$@"
build/release/cli/keel eval "$run_dir" --episodes 20
