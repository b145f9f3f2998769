"""A multi-user chat with rooms: the smallest complete tornadio2 application.

Run it with ``scripts/chat.sh`` from the project root and open
http://localhost:8001/ in two browser tabs. The page asks for a nick and a
room before it connects; ``/?nick=ann&room=attic`` skips the question (the
room defaults to ``lobby``). Lines go only to the room they are said in; the
page can switch rooms at any time (the ``join`` event). Options: ``--port``
(or the ``CHAT_PORT`` environment variable, default 8001) and ``--address``
(or ``CHAT_ADDRESS``, default 127.0.0.1).

The page loads the stock Socket.IO 0.9 browser client straight from the npm
package in ``node_modules`` (``npm install --ignore-scripts`` at the root).
"""

import itertools
import sys
from pathlib import Path

import tornado.web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for _common
import _common  # noqa: E402

from tornadio2 import SocketConnection, TornadioRouter, event  # noqa: E402

DEFAULT_ROOM = "lobby"
#: Longest nick or room name kept.
NAME_LIMIT = 32

guest_numbers = itertools.count(1)


def clean(name):
    """A nick or room name as typed, trimmed; empty if there was none."""
    return (name or "").strip()[:NAME_LIMIT]


class ChatConnection(SocketConnection):
    """One chat user in one room; ``?nick=`` and ``?room=`` come with the handshake."""

    room = None

    def on_open(self, info):
        self.nick = clean(info.get_argument("nick")) or f"guest{next(guest_numbers)}"
        self.enter(clean(info.get_argument("room")) or DEFAULT_ROOM)

    @event("join")
    def switch_room(self, room):
        """The page asks to move to another room; the ACK is the room it is in."""
        room = clean(room) or DEFAULT_ROOM
        if room != self.room:
            self.to_others(self.room).send(f"* {self.nick} left")
            self.leave(self.room)
            self.enter(room)
        return self.room

    def enter(self, room):
        self.room = room
        self.join(room)
        line = f"* {self.nick} joined"
        self.to_others(room).send(line)
        self.send(line)  # its own copy: in on_open, it is in the room only once accepted

    def on_message(self, message):
        self.to(self.room).send(f"{self.nick}: {message}")

    def on_close(self):
        # tornadio2 takes a closed connection out of all its rooms by itself.
        if self.room is not None:
            self.to_others(self.room).send(f"* {self.nick} left")


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
