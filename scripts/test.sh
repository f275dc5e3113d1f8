#!/usr/bin/env bash
# The test suite: install what is missing, build, run every test except those labelled `slow`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh release
ctest --preset release "$@"
