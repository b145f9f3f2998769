#!/usr/bin/env bash
# Create or update the development environment at the project root:
#   .venv/         Python virtualenv with tornadio2 installed editable, plus the test and
#                  docs extras (the test suite builds the documentation)
#   node_modules/  socket.io-client 0.9.16 (browser build for examples, Node client for e2e tests)
# Idempotent and silent when nothing changed. Sourced by chat.sh and test.sh, which then use
# $VENV_PYTHON; it can also be run on its own.
# Environment: PYTHON (interpreter used to create .venv, default python3),
# TORNADIO2_REQUIRE_NODE=1 (fail instead of warn when npm is missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
VENV_PYTHON="$VENV/bin/python"

_say() { printf '==> %s\n' "$*" >&2; }
_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Prints a sha256 of the given files plus extra words; used to notice changed inputs.
_fingerprint() {
    "$VENV_PYTHON" - "$@" <<'PY'
import hashlib, os, sys
digest = hashlib.sha256(sys.version.encode())
for item in sys.argv[1:]:
    digest.update(item.encode())
    if os.path.isfile(item):
        with open(item, "rb") as f:
            digest.update(f.read())
print(digest.hexdigest())
PY
}

_ensure_venv() {
    local python="${PYTHON:-python3}"
    # A venv made without ensurepip (Debian without python3-venv) has no pip: remake it.
    if [ -x "$VENV_PYTHON" ] && "$VENV_PYTHON" -c 'import pip' 2>/dev/null; then
        return
    fi
    command -v "$python" >/dev/null 2>&1 || _die "$python not found; install Python 3.9 or newer"
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' \
        || _die "$python is $("$python" -V 2>&1); tornadio2 needs Python 3.9 or newer"
    _say "creating .venv with $("$python" -V 2>&1)"
    "$python" -m venv --clear "$VENV" \
        || _die "could not create .venv (on Debian/Ubuntu: apt-get install python3-venv)"
}

_ensure_python_packages() {
    local stamp="$VENV/.tornadio2-installed" want
    # The root path is part of the fingerprint: an editable install points at it.
    want="$(_fingerprint "$ROOT" "$ROOT/pyproject.toml")"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
        && "$VENV_PYTHON" -c 'import tornadio2, pytest, pytest_tornado, build, sphinx' 2>/dev/null; then
        return
    fi
    _say "installing tornadio2 (editable) with the test and docs extras into .venv"
    "$VENV_PYTHON" -m pip install --quiet --disable-pip-version-check --use-pep517 \
        --editable "$ROOT[test,docs]"
    printf '%s\n' "$want" >"$stamp"
}

_ensure_node_modules() {
    local stamp="$ROOT/node_modules/.tornadio2-installed" want
    if ! command -v npm >/dev/null 2>&1; then
        if [ "${TORNADIO2_REQUIRE_NODE:-0}" = 1 ]; then
            _die "npm not found; install Node.js (it provides the Socket.IO 0.9 client)"
        fi
        _say "npm not found: skipping node_modules; Node.js and browser tests will be skipped"
        return
    fi
    want="$(_fingerprint "$ROOT/package.json" "$ROOT/package-lock.json")"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
        && [ -f "$ROOT/node_modules/socket.io-client/dist/socket.io.js" ]; then
        return
    fi
    _say "installing npm packages (socket.io-client 0.9.16, socket.io 0.9.19)"
    # --ignore-scripts: the optional native builds of ws 0.4 are not needed (pure JS fallback).
    (cd "$ROOT" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
    # npm may rewrite package-lock.json, so fingerprint what it left behind.
    _fingerprint "$ROOT/package.json" "$ROOT/package-lock.json" >"$stamp"
}

_ensure_venv
_ensure_python_packages
_ensure_node_modules
