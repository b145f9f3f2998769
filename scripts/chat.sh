#!/usr/bin/env bash
# Run the chat example on http://localhost:8001/ (open it in two tabs).
# Sets up .venv and node_modules first if needed. Arguments go to chat.py:
#   scripts/chat.sh --port 9000         (or CHAT_PORT=9000 scripts/chat.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TORNADIO2_REQUIRE_NODE=1
# shellcheck source=bootstrap.sh
. "$ROOT/scripts/bootstrap.sh"

exec "$VENV_PYTHON" "$ROOT/examples/chat/chat.py" "$@"
