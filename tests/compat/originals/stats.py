"""stats: the ping of ackping, plus an event that returns the server's counters."""

import datetime
import os
from os import path as op

from tornado import web

from tornadio2 import SocketConnection, SocketServer, TornadioRouter, event

ROOT = op.normpath(op.dirname(__file__))


class IndexHandler(web.RequestHandler):
    def get(self):
        self.write("stats")


class PingConnection(SocketConnection):
    @event
    def ping(self, client):
        now = datetime.datetime.now()
        return client, [now.hour, now.minute, now.second, now.microsecond // 1000]

    @event
    def stats(self):
        return self.session.server.stats.dump()


PingRouter = TornadioRouter(PingConnection,
                            dict(enabled_protocols=["websocket", "xhr-polling",
                                                    "jsonp-polling", "htmlfile"]))

application = web.Application(
    PingRouter.apply_routes([(r"/", IndexHandler)]),
    flash_policy_port=843,
    flash_policy_file=op.join(ROOT, "flashpolicy.xml"),
    socket_io_port=int(os.environ.get("SOCKET_IO_PORT", "8001")),
    socket_io_address="127.0.0.1",
)

if __name__ == "__main__":
    SocketServer(application)
