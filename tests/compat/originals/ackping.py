"""ackping: the client's ping is answered through its acknowledgement callback."""

import datetime
import os
from os import path as op

from tornado import web

from tornadio2 import SocketConnection, SocketServer, TornadioRouter, event

ROOT = op.normpath(op.dirname(__file__))


class IndexHandler(web.RequestHandler):
    def get(self):
        self.write("ackping")


class PingConnection(SocketConnection):
    @event
    def ping(self, client):
        now = datetime.datetime.now()
        # A tuple: the client's callback gets two arguments.
        return client, [now.hour, now.minute, now.second, now.microsecond // 1000]


PingRouter = TornadioRouter(PingConnection)

application = web.Application(
    PingRouter.apply_routes([(r"/", IndexHandler)]),
    flash_policy_port=843,
    flash_policy_file=op.join(ROOT, "flashpolicy.xml"),
    socket_io_port=int(os.environ.get("SOCKET_IO_PORT", "8001")),
    socket_io_address="127.0.0.1",
)

if __name__ == "__main__":
    import logging
    logging.getLogger().setLevel(logging.DEBUG)

    SocketServer(application)
