"""gen: ``@gen.sync_engine`` on ``on_event`` runs generator event handlers in order."""

import os
from datetime import timedelta
from os import path as op

from tornado import ioloop, web

from tornadio2 import SocketConnection, SocketServer, TornadioRouter, event, gen

ROOT = op.normpath(op.dirname(__file__))
#: Seconds each query takes (TornadIO2's example took 3).
DELAY = float(os.environ.get("QUERY_SECONDS", "3"))


class IndexHandler(web.RequestHandler):
    def get(self):
        self.write("gen")


class QueryConnection(SocketConnection):
    def long_running(self, value, callback):
        """Answers through ``callback`` after DELAY seconds, like a callback-style driver."""
        def finish():
            callback("Handled %s." % value)

        ioloop.IOLoop.current().add_timeout(timedelta(seconds=DELAY), finish)

    @event
    def query(self, num):
        # A plain generator: on_event's sync_engine runs it.
        response = yield gen.Task(self.long_running, num)
        self.emit("response", response)

    @gen.sync_engine
    def on_event(self, name, *args, **kwargs):
        # Returns the handler's generator; one client's events are handled in turn.
        return super(QueryConnection, self).on_event(name, *args, **kwargs)


QueryRouter = TornadioRouter(QueryConnection)

application = web.Application(
    QueryRouter.apply_routes([(r"/", IndexHandler)]),
    flash_policy_port=843,
    flash_policy_file=op.join(ROOT, "flashpolicy.xml"),
    socket_io_port=int(os.environ.get("SOCKET_IO_PORT", "8001")),
    socket_io_address="127.0.0.1",
)

if __name__ == "__main__":
    import logging
    logging.getLogger().setLevel(logging.DEBUG)

    SocketServer(application)
