"""Ping over events: the page emits ``ping`` with its clock, the server answers ``pong``.

The page measures each round trip from the timestamp that comes back.
Run from the project root, then open http://127.0.0.1:8002/::

    .venv/bin/python examples/rpcping/rpcping.py [--port 8002]
"""

import sys
from pathlib import Path

import tornado.web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for _common
import _common  # noqa: E402

from tornadio2 import SocketConnection, TornadioRouter, event  # noqa: E402


class PingConnection(SocketConnection):
    """Sends every ``ping`` back as a ``pong`` with the same arguments."""

    @event
    def ping(self, client_time):
        self.emit("pong", client_time)


def make_app():
    router = TornadioRouter(PingConnection)
    return tornado.web.Application(router.apply_routes(
        [_common.page_route(__file__)] + _common.client_routes()))


async def main():
    args = _common.parse_args("rpcping", 8002, __doc__)
    make_app().listen(args.port, args.address)
    _common.announce(args.port, args.address)
    await _common.serve_forever()


if __name__ == "__main__":
    _common.run(main)
