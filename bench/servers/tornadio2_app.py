"""The benchmark application on tornadio2's public API.

Echoes messages (``on_message`` -> ``send``), answers the ``ping`` event with
``pong`` and turns a ``broadcast`` event into a ``bcast`` event emitted to
every connected connection. Rooms: ``join`` (answered ``joined``),
``room_emit`` (``rmsg`` to one room, ``conn.to(room).emit``) and
``every_room`` (``rmsg`` to rooms ``r0`` .. ``r<count-1>``,
``router.to(room).emit``). websocket and xhr-polling, as the native app.
With ``--metrics`` the Prometheus metrics are on, as an application would
turn them on (``tornadio2.metrics.register``, ``/metrics`` served), to
measure what they cost.

    python bench/servers/tornadio2_app.py [--port 0] [--heartbeat 60] [--profile FILE] [--metrics]
        [--broker redis://... --node a1] [--to-all]

With ``--broker`` (or ``--to-all``) ``broadcast`` is ``to_all().emit``: with a
broker it reaches the connections of every process (bench/scaleout.py).
"""

import os
import sys
from typing import Any, Optional, Set

import tornado.web

# The checkout's package, whatever is installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from _serve import parse_args, serve  # noqa: E402
import tornadio2  # noqa: E402
from tornadio2 import SocketConnection, TornadioRouter, event  # noqa: E402


class BenchConnection(SocketConnection):
    """Echo, ping -> pong, broadcast to everyone."""

    connected: Set["BenchConnection"] = set()

    def on_open(self, info: Any) -> None:
        self.connected.add(self)

    def on_message(self, message: Any) -> None:
        self.send(message)

    @event
    def ping(self, *args: Any) -> None:
        self.emit("pong", *args)

    @event
    def broadcast(self, *args: Any) -> None:
        if TO_ALL:  # every process's connections when a broker is set
            self.to_all().emit("bcast", *args)
        else:
            tornadio2.broadcast(self.connected, "bcast", *args)  # encoded once for all

    @event("join")
    def join_room(self, room: str) -> None:
        self.join(room)
        self.emit("joined", room)

    @event
    def room_emit(self, room: str, round_number: int) -> None:
        self.to(room).emit("rmsg", round_number)

    @event
    def every_room(self, round_number: int, count: int) -> None:
        assert ROUTER is not None
        for i in range(count):
            ROUTER.to("r%d" % i).emit("rmsg", round_number)

    def on_close(self) -> None:
        self.connected.discard(self)


#: The one router of this process (for ``every_room``, code outside a connection).
ROUTER: Optional[TornadioRouter] = None
#: ``broadcast`` goes through ``to_all()`` (so through the broker) instead of the set.
TO_ALL = False


def make_app(heartbeat: float, metrics: bool = False, broker: Optional[str] = None,
             node: Optional[str] = None, to_all: bool = False) -> tornado.web.Application:
    """The routes; ``heartbeat`` seconds between server heartbeats (0: practically none).

    ``broker``/``node``: the scale-out settings (``broker_url``, ``node_id``).
    """
    interval = heartbeat if heartbeat > 0 else 24 * 3600
    global ROUTER, TO_ALL
    TO_ALL = to_all or bool(broker)
    router = ROUTER = TornadioRouter(BenchConnection, user_settings={
        "enabled_protocols": ["websocket", "xhr-polling"],
        "heartbeat_interval": int(interval) if float(interval).is_integer() else interval,
        "broker_url": broker, "node_id": node,
        # BENCH_WEBSOCKET_ENGINE=tornado: Tornado's handler, for comparisons in one checkout.
        "websocket_engine": os.environ.get("BENCH_WEBSOCKET_ENGINE", "lean"),
    })
    urls = router.urls
    if metrics:
        from tornadio2.metrics import MetricsHandler, register  # the optional extra
        register(router)
        urls.append((r"/metrics", MetricsHandler))
    return tornado.web.Application(urls)


if __name__ == "__main__":
    arguments = parse_args(__doc__)
    serve(lambda: make_app(arguments.heartbeat, arguments.metrics, arguments.broker,
                           arguments.node, arguments.to_all), arguments,
          before_listen=lambda: ROUTER.start())  # type: ignore[union-attr]
