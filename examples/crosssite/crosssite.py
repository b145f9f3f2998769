"""A page on one origin talking to a Socket.IO server on another.

Two Tornado applications in one process: the page and the client script on
``--port``, the Socket.IO server on ``--socket-port`` (default: the next
port). The server's ``allowed_origins`` lists only the page's origin, so
pages from anywhere else are refused (their handshake gets a 403 without CORS
headers). Polling transports use CORS with credentials; websocket upgrades
are checked against the same list.
Run from the project root, then open http://127.0.0.1:8008/::

    .venv/bin/python examples/crosssite/crosssite.py [--port 8008] [--socket-port 8009]
"""

import logging
import os
import sys
from pathlib import Path

import tornado.web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for _common
import _common  # noqa: E402

from tornadio2 import SocketConnection, TornadioRouter  # noqa: E402


class EchoConnection(SocketConnection):
    """Sends every message back, with the origin the page came from."""

    def on_open(self, info):
        self.origin = info.headers.get("Origin", "no Origin header")

    def on_message(self, message):
        self.send(f"{message} (echoed to a page from {self.origin})")


def page_origins(address, port):
    """The origins the page is reachable under, as a browser writes them."""
    hosts = ["127.0.0.1", "localhost"] if address in ("127.0.0.1", "localhost") else [address]
    return [f"http://{host}:{port}" for host in hosts]


def make_apps(address, port, socket_port):
    """(page application, Socket.IO application)."""
    page_app = tornado.web.Application(
        [_common.page_route(__file__, socket_port=socket_port)] + _common.client_routes())
    router = TornadioRouter(EchoConnection,
                            {"allowed_origins": page_origins(address, port)})
    return page_app, tornado.web.Application(router.urls)


def add_options(parser):
    parser.add_argument("--socket-port", type=int,
                        default=int(os.environ.get("CROSSSITE_SOCKET_PORT", 0)),
                        help="port of the Socket.IO server (env CROSSSITE_SOCKET_PORT, "
                             "default: --port + 1)")


async def main():
    args = _common.parse_args("crosssite", 8008, __doc__, add_options)
    socket_port = args.socket_port or args.port + 1
    page_app, socket_app = make_apps(args.address, args.port, socket_port)
    socket_app.listen(socket_port, args.address)
    page_app.listen(args.port, args.address)
    logging.info("Socket.IO server on http://%s:%d/, allowed origins %s", args.address,
                 socket_port, page_origins(args.address, args.port))
    _common.announce(args.port, args.address)
    await _common.serve_forever()


if __name__ == "__main__":
    _common.run(main)
