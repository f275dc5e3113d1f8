#!/usr/bin/env bash
# The main job: install what is missing, build, then run Keel's headline command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh release
exec build/release/cli/keel env-stats --all "$@"
