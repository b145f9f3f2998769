#!/usr/bin/env bash
# Run the whole test suite (unit, integration, e2e) with pytest.
# Sets up .venv and node_modules first if needed; arguments go to pytest:
#   scripts/test.sh tests/unit -x
# Chromium, redis-server, nginx and HAProxy (Debian's packages) are installed
# when missing if we can (as root, or under CI with sudo). With CI=true,
# end-to-end tests must not skip, so Node.js is required and so are they.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ "${CI:-}" = true ]; then
    export TORNADIO2_REQUIRE_NODE=1
fi
if [ "${CI:-}" = true ] || { [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; }; then
    # Debian packages the tests run for real: the browser, and Redis and the
    # proxies of the scale-out tests (tests/scaleout). One apt-get update for all.
    missing=""
    command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
    for tool in redis-server nginx haproxy; do
        PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
    done
    if [ -n "$missing" ]; then
        command -v apt-get >/dev/null 2>&1 || { echo "error: CI needs$missing on PATH" >&2; exit 1; }
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        echo "==> installing$missing for the browser and scale-out tests" >&2
        export DEBIAN_FRONTEND=noninteractive
        # shellcheck disable=SC2086
        $sudo apt-get update -qq && $sudo apt-get install -y -qq $missing >/dev/null
    fi
fi

# shellcheck source=bootstrap.sh
. "$ROOT/scripts/bootstrap.sh"

status=0
"$VENV_PYTHON" -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "error: pytest collected no tests" >&2
    exit 1
fi
exit "$status"
