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
