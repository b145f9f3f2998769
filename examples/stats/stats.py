"""A live chart of the server's counters: sessions, connections, packets per second.

``StatsHandler`` serves the router's ``stats.dump()`` as JSON at ``/stats``; the
page polls it every second and draws it with chart.js (served from the
project's ``node_modules``). The page also connects and pings, so the chart
moves; open more tabs to see the counters grow.
Run from the project root, then open http://127.0.0.1:8006/::

    .venv/bin/python examples/stats/stats.py [--port 8006]
"""

import sys
from pathlib import Path

import tornado.web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for _common
import _common  # noqa: E402

from tornadio2 import SocketConnection, TornadioRouter, event  # noqa: E402
from tornadio2.router import StatsHandler  # noqa: E402


class TrafficConnection(SocketConnection):
    """Something to count: echoes messages and answers ``ping`` with ``pong``."""

    def on_message(self, message):
        self.send(message)

    @event
    def ping(self, client_time):
        self.emit("pong", client_time)


def make_app():
    router = TornadioRouter(TrafficConnection)
    return tornado.web.Application(router.apply_routes(
        [_common.page_route(__file__), (r"/stats", StatsHandler, {"router": router})]
        + _common.client_routes(chart=True)))


async def main():
    args = _common.parse_args("stats", 8006, __doc__)
    make_app().listen(args.port, args.address)
    _common.announce(args.port, args.address)
    await _common.serve_forever()


if __name__ == "__main__":
    _common.run(main)
