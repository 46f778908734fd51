#!/usr/bin/env bash
# The two set-up commands of the README:
#   ./dev.sh demo   install everything, load demo data (once) and serve on http://127.0.0.1:5000
#   ./dev.sh test   install everything and run the linters (ruff, mypy, import contracts) and the
#                   test suite
# Needs Python 3.11+ and, for the front-end assets, Node.js with npm. Nothing else.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PYTHON=$candidate; break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "error: Python 3.11 or newer is needed" >&2; exit 1; }

step() { printf '\n==> %s\n' "$*"; }

install() {
  step "Python packages (.venv)"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  if command -v npm >/dev/null 2>&1; then
    step "front-end assets (npm: nhsuk-frontend, swagger-ui-dist)"
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  else
    echo "warning: npm not found; pages will render without their stylesheet" >&2
  fi
}

case "${1:-}" in
  demo)
    shift
    install
    step "database"
    .venv/bin/dispatch db upgrade
    if .venv/bin/dispatch demo-data --help >/dev/null 2>&1; then
      step "demo data"
      .venv/bin/dispatch demo-data --seed "${DEMO_SEED:-1}" --if-empty \
        --history-days "${DEMO_HISTORY_DAYS:-7}"
    fi
    step "serving on http://127.0.0.1:5000 (Ctrl-C stops)"
    exec .venv/bin/dispatch serve --host 127.0.0.1 --port 5000 --demo-activity "$@"
    ;;
  test)
    shift
    install
    if ! command -v chromium >/dev/null 2>&1; then
      step "chromium for the browser tests (Debian package)"
      if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
      else
        echo "warning: chromium missing and not root; browser tests will be skipped" >&2
      fi
    fi
    step "ruff"
    .venv/bin/ruff check dispatch triage routing rosters tests benchmarks migrations docs wsgi.py
    step "mypy"
    .venv/bin/mypy --explicit-package-bases dispatch triage routing rosters benchmarks
    step "import contracts (lint-imports; pyproject.toml [tool.importlinter])"
    .venv/bin/lint-imports --no-cache --no-logo
    step "pytest (one process a core; PYTEST_WORKERS=0 runs in this one)"
    exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-auto}" --dist loadgroup "$@"
    ;;
  *)
    echo "usage: ./dev.sh demo | test [pytest args]" >&2
    exit 2
    ;;
esac
