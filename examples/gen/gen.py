"""Slow asynchronous handlers whose results still come back in call order.

``tornadio2.gen.sync_engine`` runs the calls of one handler on one connection
one after another, without blocking the server. The page sends three
requests whose work takes 0.3, 0.2 and 0.1 s to each handler:

* ``ordered``: an ``async def`` handler under ``sync_engine``: results 1, 2, 3;
* ``generator``: the same with an old-style generator and ``gen.Task`` around a
  callback-style function, as TornadIO2 applications wrote it: 1, 2, 3;
* ``unordered``: a plain ``async def`` handler, for contrast: the calls overlap
  and results come back as they finish, 3, 2, 1.

Run from the project root, then open http://127.0.0.1:8005/::

    .venv/bin/python examples/gen/gen.py [--port 8005]
"""

import asyncio
import sys
from pathlib import Path

import tornado.ioloop
import tornado.web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for _common
import _common  # noqa: E402

from tornadio2 import SocketConnection, TornadioRouter, event, gen  # noqa: E402


def slow_square(number, seconds, callback):
    """A callback-style API, the kind ``gen.Task`` adapts: ``callback(number ** 2)`` later."""
    tornado.ioloop.IOLoop.current().call_later(seconds, callback, number * number)


class GenConnection(SocketConnection):
    """Three handlers doing the same slow work; each reports with a ``result`` event."""

    @event
    @gen.sync_engine
    async def ordered(self, number, seconds):
        await asyncio.sleep(seconds)
        self.emit("result", "ordered", number, number * number)

    @event
    @gen.sync_engine
    def generator(self, number, seconds):
        square = yield gen.Task(slow_square, number, seconds)
        self.emit("result", "generator", number, square)

    @event
    async def unordered(self, number, seconds):
        await asyncio.sleep(seconds)
        self.emit("result", "unordered", number, number * number)


def make_app():
    router = TornadioRouter(GenConnection)
    return tornado.web.Application(router.apply_routes(
        [_common.page_route(__file__)] + _common.client_routes()))


async def main():
    args = _common.parse_args("gen", 8005, __doc__)
    make_app().listen(args.port, args.address)
    _common.announce(args.port, args.address)
    await _common.serve_forever()


if __name__ == "__main__":
    _common.run(main)
