"""ssl_transports: the transports chat room, served over TLS (server.crt and server.key)."""

import os
from os import path as op

import tornado.web
import tornadio2
import tornadio2.conn
import tornadio2.router
import tornadio2.server

ROOT = op.normpath(op.dirname(__file__))


class IndexHandler(tornado.web.RequestHandler):
    def get(self):
        self.write("ssl_transports")


class ChatConnection(tornadio2.conn.SocketConnection):
    participants = set()

    def on_open(self, info):
        self.send("Welcome from the server.")
        self.participants.add(self)

    def on_message(self, message):
        for p in self.participants:
            p.send(message)

    def on_close(self):
        self.participants.remove(self)


ChatRouter = tornadio2.router.TornadioRouter(ChatConnection, dict(websocket_check=True))

application = tornado.web.Application(
    ChatRouter.apply_routes([(r"/", IndexHandler)]),
    flash_policy_port=843,
    flash_policy_file=op.join(ROOT, "flashpolicy.xml"),
    socket_io_port=int(os.environ.get("SOCKET_IO_PORT", "8001")),
    socket_io_address="127.0.0.1",
)

if __name__ == "__main__":
    import logging
    logging.getLogger().setLevel(logging.DEBUG)

    tornadio2.server.SocketServer(application, ssl_options={
        "certfile": "server.crt",
        "keyfile": "server.key",
    })
