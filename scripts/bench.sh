#!/usr/bin/env bash
# npm run bench: install what is missing, then run every benchmark, each figure printed beside
# its budget (docs/BUDGETS.md): the engine and browser benchmark (bench/run.ts), then the
# realism benchmark (bench/realism.sh: real IXI T1s vs synthetic twins; needs ../shared/data).
#   npm run bench                    # both
#   npm run bench -- --engine-only   # bench/run.ts alone
# Arguments other than --engine-only go to bench/run.ts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

engine_only=0
args=()
for a in "$@"; do
  if [ "$a" = "--engine-only" ]; then engine_only=1; else args+=("$a"); fi
done
ensure_node_modules
section "Engine and browser benchmark (bench/run.ts)"
node --import tsx bench/run.ts "${args[@]}"
if [ "$engine_only" = 0 ]; then
  ensure_venv
  section "Realism benchmark (bench/realism.sh)"
  bash bench/realism.sh
fi
