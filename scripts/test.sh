#!/usr/bin/env bash
# The whole test suite, on a fresh machine: set up ./.venv, then run pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/worker -x).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install-chromium.sh
exec .venv/bin/python -m pytest "$@"
