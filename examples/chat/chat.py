"""A multi-user chat room: the smallest complete tornadio2 application.

Run it with ``scripts/chat.sh`` from the project root and open
http://localhost:8001/ in two browser tabs. The page asks for a nick in the
page before it connects; ``/?nick=ann`` skips the question. Options: ``--port`` (or the
``CHAT_PORT`` environment variable, default 8001) and ``--address`` (or
``CHAT_ADDRESS``, default 127.0.0.1).

The page loads the stock Socket.IO 0.9 browser client straight from the npm
package in ``node_modules`` (``npm install --ignore-scripts`` at the root).
"""

import itertools
import sys
from pathlib import Path

import tornado.web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for _common
import _common  # noqa: E402

from tornadio2 import SocketConnection, TornadioRouter  # noqa: E402

guest_numbers = itertools.count(1)
participants = set()  # every open ChatConnection


class ChatConnection(SocketConnection):
    """One chat user; the nick comes from the ``?nick=`` query of the handshake."""

    def on_open(self, info):
        nick = (info.get_argument("nick") or "").strip()[:32]
        self.nick = nick or f"guest{next(guest_numbers)}"
        participants.add(self)
        self.broadcast(f"* {self.nick} joined")

    def on_message(self, message):
        self.broadcast(f"{self.nick}: {message}")

    def on_close(self):
        participants.discard(self)
        self.broadcast(f"* {self.nick} left")

    def broadcast(self, text):
        for participant in list(participants):  # a send may close someone
            participant.send(text)


def make_app():
    router = TornadioRouter(ChatConnection)
    return tornado.web.Application(router.apply_routes(
        [_common.page_route(__file__)] + _common.client_routes()))


async def main():
    args = _common.parse_args("chat", 8001, __doc__)
    make_app().listen(args.port, args.address)
    _common.announce(args.port, args.address)
    await _common.serve_forever()


if __name__ == "__main__":
    _common.run(main)
