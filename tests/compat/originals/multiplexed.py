"""multiplexed: a chat and a ping endpoint over one connection."""

import datetime
import logging
import os
from os import path as op

from tornado import web

from tornadio2 import SocketConnection, SocketServer, TornadioRouter

ROOT = op.normpath(op.dirname(__file__))
log = logging.getLogger("multiplexed")


class IndexHandler(web.RequestHandler):
    def get(self):
        self.write("multiplexed")


class ChatConnection(SocketConnection):
    participants = set()
    unique_id = 0

    @classmethod
    def get_username(cls):
        cls.unique_id += 1
        return "User%d" % cls.unique_id

    def on_open(self, info):
        log.info("chat %r", info)
        self.user_name = self.get_username()
        self.participants.add(self)
        self.broadcast("%s joined chat." % self.user_name)

    def on_message(self, message):
        self.broadcast("%s: %s" % (self.user_name, message))

    def on_close(self):
        self.participants.remove(self)
        self.broadcast("%s left chat." % self.user_name)

    def broadcast(self, msg):
        for p in self.participants:
            p.send(msg)


class PingConnection(SocketConnection):
    def on_open(self, info):
        log.info("ping %r", info)

    def on_message(self, message):
        now = datetime.datetime.now()
        message["server"] = [now.hour, now.minute, now.second, now.microsecond // 1000]
        self.send(message)


class RouterConnection(SocketConnection):
    __endpoints__ = {"/chat": ChatConnection,
                     "/ping": PingConnection}

    def on_open(self, info):
        log.info("router %r", info)


MyRouter = TornadioRouter(RouterConnection)

application = web.Application(
    MyRouter.apply_routes([(r"/", IndexHandler)]),
    flash_policy_port=843,
    flash_policy_file=op.join(ROOT, "flashpolicy.xml"),
    socket_io_port=int(os.environ.get("SOCKET_IO_PORT", "8001")),
    socket_io_address="127.0.0.1",
)

if __name__ == "__main__":
    logging.getLogger().setLevel(logging.DEBUG)

    SocketServer(application)
