#!/usr/bin/env bash
# The main example on a fresh machine: set up ./.venv, then run the seed's
# daily-aggregation workflow three times (see examples/demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
exec bash examples/demo.sh "$@"
