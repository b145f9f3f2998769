"""A multi-user chat room: the smallest complete tornadio2 application.

Run it with ``scripts/chat.sh`` from the project root and open
http://localhost:8001/ in two browser tabs. Options: ``--port`` (or the
``CHAT_PORT`` environment variable, default 8001) and ``--address`` (or
``CHAT_ADDRESS``, default 127.0.0.1).

The page loads the stock Socket.IO 0.9 browser client straight from the npm
package in ``node_modules`` (``npm install --ignore-scripts`` at the root).
"""

import argparse
import asyncio
import itertools
import logging
import os
from pathlib import Path

import tornado.web

from tornadio2 import SocketConnection, TornadioRouter

HERE = Path(__file__).resolve().parent
CLIENT_DIR = HERE.parent.parent / "node_modules" / "socket.io-client" / "dist"

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


class IndexHandler(tornado.web.RequestHandler):
    def get(self):
        self.render("index.html")


def make_app():
    router = TornadioRouter(ChatConnection)
    return tornado.web.Application(
        router.apply_routes([
            (r"/", IndexHandler),
            (r"/(socket\.io\.js)", tornado.web.StaticFileHandler, {"path": str(CLIENT_DIR)}),
        ]),
        template_path=str(HERE),
    )


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("CHAT_PORT", 8001)))
    parser.add_argument("--address", default=os.environ.get("CHAT_ADDRESS", "127.0.0.1"))
    args = parser.parse_args()

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not (CLIENT_DIR / "socket.io.js").is_file():
        logging.warning("%s is missing: run `npm install --ignore-scripts` in the project root", CLIENT_DIR)

    make_app().listen(args.port, args.address)
    logging.info("chat running on http://%s:%d/ (Ctrl+C to stop)", args.address, args.port)
    await asyncio.Event().wait()  # serve until interrupted


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
