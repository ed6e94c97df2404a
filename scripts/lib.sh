# Shared helpers for scripts/start.sh and scripts/test.sh (sourced, not executed).

section() {
  printf '\n\033[1;36m==== %s ====\033[0m\n' "$*"
}

warn() {
  printf '\033[1;33m!!!! WARNING: %s\033[0m\n' "$*" >&2
}

die() {
  printf '\033[1;31mERROR: %s\033[0m\n' "$*" >&2
  exit 1
}

# Run a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# npm ci when node_modules is missing or older than package-lock.json (npm writes
# node_modules/.package-lock.json on every install).
ensure_node_modules() {
  command -v npm >/dev/null || die "npm is not installed (Node 20+ and npm are required)"
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "Installing JavaScript dependencies (npm ci)…"
    npm ci --no-audit --no-fund
  else
    echo "node_modules is up to date."
  fi
}

# .venv with the Python package and its dev tools: made when missing (installing python3-venv
# with apt when the interpreter lacks it), reinstalled when pyproject.toml is newer than the stamp.
ensure_venv() {
  command -v python3 >/dev/null || die "python3 is not installed"
  if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv .venv; then
      echo "python3 -m venv failed; installing python3-venv…"
      rm -rf .venv
      as_root apt-get update
      as_root apt-get install -y python3-venv
      python3 -m venv .venv
    fi
  fi
  local stamp=.venv/.brainsynth-installed
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "Installing the Python package and its tools into .venv (pip)…"
    .venv/bin/python -m pip install --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".[dev]"
    touch "$stamp"
  else
    echo ".venv is up to date."
  fi
}
