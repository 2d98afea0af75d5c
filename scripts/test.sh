#!/usr/bin/env bash
# Install the project with its test extras in .venv and run the whole test suite.
# This is the README's test command; .ci/run calls it on a clean clone.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-system-deps.sh
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test,web,browser,openfisca,spark]'
exec .venv/bin/python -m pytest "$@"
