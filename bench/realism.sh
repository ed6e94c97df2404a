#!/usr/bin/env bash
# Realism benchmark (issue 9): the real IXI T1s vs synthetic twins of the same age and sex.
#   npm run bench:realism                       # 2 mm teacher (= browser), report in reports/realism/
#   npm run bench:realism -- --teacher-1mm      # + the 1 mm teacher block-averaged to 2 mm (slow)
#   npm run bench:realism -- --subset 8         # 8 real scans spread over the age range
# Data: $BRAINSYNTH_DATA or ../shared/data. Python: $PYTHON or .venv/bin/python.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
  # shellcheck source=scripts/lib.sh
  source scripts/lib.sh
  ensure_venv >&2
fi
PY="${PYTHON:-.venv/bin/python}"
DATA="${BRAINSYNTH_DATA:-../shared/data}"
exec "$PY" -m brainsynth.qa.realism --data "$DATA" "$@"
