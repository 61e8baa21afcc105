#!/usr/bin/env bash
# The whole test suite, on a fresh machine: set up ./.venv, install the
# services the integration tests start themselves (sshd, Azurite; Chromium for
# the visualiser), then run pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/worker -x).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install-chromium.sh
bash scripts/install-test-services.sh \
  || echo "install-test-services failed: the tests that need sshd or Azurite will say why they skip" >&2
exec .venv/bin/python -m pytest "$@"
