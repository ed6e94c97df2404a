#!/usr/bin/env bash
# npm test: install what is missing, then run every check, failing fast:
#   typecheck → lint → unit tests (vitest) → Python (ruff, mypy, pytest) → build → e2e (Playwright)
# The last line is always the summary "N passed, N failed" (vitest + pytest + Playwright counts;
# when a step that has no test count fails, "failed" is at least 1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

RESULTS=test-results
mkdir -p "$RESULTS"
rm -f "$RESULTS/vitest.json" "$RESULTS/pytest.xml" "$RESULTS/playwright.json"
CURRENT="setup"
START=$(date +%s)

summary() {
  local status=$?
  set +e
  if [ "$status" -ne 0 ]; then
    printf '\n\033[1;31mFAILED in section: %s\033[0m\n' "$CURRENT" >&2
  else
    printf '\n\033[1;32mAll checks passed in %ss\033[0m\n' "$(($(date +%s) - START))"
  fi
  node scripts/summary.mjs "$RESULTS" "$status"
  exit "$status"
}
trap summary EXIT

# ---------------------------------------------------------------- setup
section "Setup: JavaScript dependencies"
ensure_node_modules

PYTHON_OK=0
if [ -d brainsynth ]; then
  section "Setup: Python environment (.venv)"
  if [ ! -f pyproject.toml ]; then
    warn "pyproject.toml is missing: SKIPPING all Python checks (ruff, mypy, pytest)"
  else
    ensure_venv
    PYTHON_OK=1
  fi
fi

section "Setup: Chromium for end-to-end tests"
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium (apt-get)…"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
/usr/bin/chromium --version 2>/dev/null | tail -n 1 || die "/usr/bin/chromium does not run"

# ---------------------------------------------------------------- checks
CURRENT="typecheck"
section "Typecheck (tsc --noEmit)"
npx tsc --noEmit -p .

CURRENT="lint"
section "Lint (eslint + prettier)"
npm run --silent lint

CURRENT="unit tests"
section "Unit tests (vitest)"
npx vitest run --reporter=default --reporter=json --outputFile.json="$RESULTS/vitest.json"

if [ "$PYTHON_OK" = 1 ]; then
  CURRENT="python lint"
  section "Python: ruff + mypy"
  .venv/bin/ruff check brainsynth
  .venv/bin/ruff format --check brainsynth
  .venv/bin/mypy brainsynth

  CURRENT="pytest"
  section "Python: pytest"
  .venv/bin/python -m pytest -q --junitxml="$RESULTS/pytest.xml"
fi

CURRENT="build"
section "Build (vite build)"
npx vite build

CURRENT="e2e"
section "End-to-end (Playwright, headless Chromium)"
BRAINSYNTH_E2E_NO_BUILD=1 npx playwright test

CURRENT="done"
