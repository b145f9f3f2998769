"""Request and response with acknowledgements, in both directions.

Client to server: the page calls ``socket.emit('ping', t, fn)``; the handler's
return value is the ACK payload, so ``fn(t)`` runs in the page.
Server to client: on ``ping_me`` the server calls ``emit_ack(callback, 'ping',
token)``; the page's handler acknowledges with the token, the server's callback
measures the round trip and reports it as a ``server_rtt`` event.
Run from the project root, then open http://127.0.0.1:8003/::

    .venv/bin/python examples/ackping/ackping.py [--port 8003]
"""

import functools
import itertools
import sys
import time
from pathlib import Path

import tornado.web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for _common
import _common  # noqa: E402

from tornadio2 import SocketConnection, TornadioRouter, event  # noqa: E402


class AckPingConnection(SocketConnection):
    """Answers pings with ACKs, and pings the client with ``emit_ack`` when asked."""

    def on_open(self, info):
        self.tokens = itertools.count(1)

    @event
    def ping(self, client_time):
        return client_time  # the client's ACK callback receives this

    @event
    def ping_me(self):
        token = next(self.tokens)
        callback = functools.partial(self.on_client_ack, token, time.perf_counter())
        self.emit_ack(callback, "ping", token)

    def on_client_ack(self, token, sent_at, packet, ack_args):
        """``emit_ack`` callback: ``packet`` is what was sent, ``ack_args`` the client's ACK."""
        self.emit("server_rtt", {
            "token": token,
            "ms": round((time.perf_counter() - sent_at) * 1000, 3),
            "acked": ack_args,
        })


def make_app():
    router = TornadioRouter(AckPingConnection)
    return tornado.web.Application(router.apply_routes(
        [_common.page_route(__file__)] + _common.client_routes()))


async def main():
    args = _common.parse_args("ackping", 8003, __doc__)
    make_app().listen(args.port, args.address)
    _common.announce(args.port, args.address)
    await _common.serve_forever()


if __name__ == "__main__":
    _common.run(main)
