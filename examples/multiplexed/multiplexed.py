"""A chat and a ping service as two endpoints of one Socket.IO connection.

The main connection class only routes: ``__endpoints__`` maps ``/chat`` and
``/ping`` to their own connection classes. In the page,
``io.connect(origin + '/chat')`` and ``io.connect(origin + '/ping')`` share one
session and one transport.
Run from the project root, then open http://127.0.0.1:8004/ in two tabs::

    .venv/bin/python examples/multiplexed/multiplexed.py [--port 8004]
"""

import itertools
import sys
from pathlib import Path

import tornado.web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for _common
import _common  # noqa: E402

from tornadio2 import SocketConnection, TornadioRouter, event  # noqa: E402

guest_numbers = itertools.count(1)
chat_room = set()  # every open /chat endpoint


class ChatConnection(SocketConnection):
    """The ``/chat`` endpoint: every message goes to everyone in the room."""

    def on_open(self, info):
        self.nick = f"guest{next(guest_numbers)}"
        chat_room.add(self)
        self.broadcast(f"* {self.nick} joined")

    def on_message(self, message):
        self.broadcast(f"{self.nick}: {message}")

    def on_close(self):
        chat_room.discard(self)
        self.broadcast(f"* {self.nick} left")

    def broadcast(self, text):
        for member in list(chat_room):
            member.send(text)


class PingConnection(SocketConnection):
    """The ``/ping`` endpoint: ``ping`` comes back as ``pong``."""

    @event
    def ping(self, client_time):
        self.emit("pong", client_time)


class RouterConnection(SocketConnection):
    """The main connection: no behaviour of its own, only the endpoints."""

    __endpoints__ = {"/chat": ChatConnection, "/ping": PingConnection}


def make_app():
    router = TornadioRouter(RouterConnection)
    return tornado.web.Application(router.apply_routes(
        [_common.page_route(__file__)] + _common.client_routes()))


async def main():
    args = _common.parse_args("multiplexed", 8004, __doc__)
    make_app().listen(args.port, args.address)
    _common.announce(args.port, args.address)
    await _common.serve_forever()


if __name__ == "__main__":
    _common.run(main)
