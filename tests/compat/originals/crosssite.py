"""crosssite: the page on one port, Socket.IO on another, started together."""

import os
from os import path as op

import tornado
import tornado.httpserver
import tornado.ioloop
import tornado.web
import tornadio2
import tornadio2.conn
import tornadio2.router
import tornadio2.server

ROOT = op.normpath(op.dirname(__file__))


class IndexHandler(tornado.web.RequestHandler):
    def get(self):
        self.write("crosssite")


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


ChatRouter = tornadio2.router.TornadioRouter(ChatConnection)

sock_app = tornado.web.Application(
    ChatRouter.urls,
    flash_policy_port=843,
    flash_policy_file=op.join(ROOT, "flashpolicy.xml"),
    socket_io_port=int(os.environ.get("SOCKET_IO_PORT", "8002")),
    socket_io_address="127.0.0.1",
)

http_app = tornado.web.Application([(r"/", IndexHandler)])

if __name__ == "__main__":
    import logging
    logging.getLogger().setLevel(logging.DEBUG)

    http_server = tornado.httpserver.HTTPServer(http_app)
    http_server.listen(int(os.environ.get("HTTP_PORT", "8001")), "127.0.0.1")

    # Made before the loop runs, started with it.
    tornadio2.server.SocketServer(sock_app, auto_start=False)

    tornado.ioloop.IOLoop.instance().start()
