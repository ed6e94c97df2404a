#!/usr/bin/env bash
# npm run backend: install what is missing (.venv with the Python package), then serve the
# full-size backend on http://127.0.0.1:8000 (Ctrl-C stops it). Extra arguments go to the
# server, e.g. `npm run backend -- --port 8001`; settings: docs/API.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_venv
exec .venv/bin/python -m brainsynth.server "$@"
