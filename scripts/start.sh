#!/usr/bin/env bash
# npm start: install what is missing, then serve the app on http://127.0.0.1:5173
# (generation runs in the browser: no backend and no GPU needed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_node_modules
# the app loads the catalogue's default model (public/models/index.json)
model=$(node -e 'const c=require("./public/models/index.json");const m=c.models.find((x)=>x.id===c.default)||{};process.stdout.write(m.path||(c.default+"/"))' 2>/dev/null || true)
[ -n "$model" ] && [ -f "public/models/${model}manifest.json" ] ||
  warn "the default model of public/models/index.json (${model:-unreadable}) has no manifest.json: the app will report that the model cannot load"
echo "BrainSynth: open http://127.0.0.1:5173/"
exec npx vite --host 127.0.0.1 --port 5173 --strictPort "$@"
