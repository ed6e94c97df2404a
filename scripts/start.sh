#!/usr/bin/env bash
# npm start: install what is missing, then serve the app on http://127.0.0.1:5173
# (generation runs in the browser: no backend and no GPU needed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_node_modules
[ -f public/models/brainsynth-shape-v1/manifest.json ] ||
  warn "public/models/brainsynth-shape-v1/manifest.json is missing: the app will report that the model cannot load"
echo "BrainSynth: open http://127.0.0.1:5173/"
exec npx vite --host 127.0.0.1 --port 5173 --strictPort "$@"
