"""The server the fuzz and soak tests attack, run as its own process.

``python tests/adversarial/target_app.py PORT [SETTINGS_JSON]`` listens on
127.0.0.1:PORT with an echo application (messages echoed, ``add`` answered
through its ACK, ``unserialisable`` answering what JSON cannot carry, a
``/chat`` endpoint) and prints ``ready`` once listening.
``GET /_health`` collects garbage and answers the process's own figures as
JSON: resident memory, open descriptors and live sessions, so a test can
watch them from outside without touching the server's code.
"""

import gc
import json
import logging
import os
import sys
from typing import Any, Dict

import tornado.httpserver
import tornado.ioloop
import tornado.web

if __name__ == "__main__":  # run as a script: make the checkout's package importable
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from tornadio2 import SocketConnection, TornadioRouter, event  # noqa: E402


class EchoConnection(SocketConnection):
    """Echoes messages; ``add`` answers through its ACK."""

    def on_message(self, message: Any) -> None:
        self.send(message)

    @event
    def add(self, a: Any, b: Any) -> Any:
        return a + b if isinstance(a, int) and isinstance(b, int) else None

    @event
    def unserialisable(self) -> Any:
        """An application bug: an ACK result JSON cannot carry."""
        return object()


EchoConnection.__endpoints__ = {"/chat": EchoConnection}


def resident_kb() -> int:
    """This process's resident set size in KiB, from /proc."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


class HealthHandler(tornado.web.RequestHandler):
    """Memory, descriptors and sessions of this process, after a full collection."""

    def initialize(self, router: TornadioRouter) -> None:
        self.router = router

    def get(self) -> None:
        gc.collect()
        self.finish({
            "rss_kb": resident_kb(),
            "fds": len(os.listdir("/proc/self/fd")),
            "sessions": len(self.router.sessions),
        })


def make_application(settings: Dict[str, Any]) -> tornado.web.Application:
    """The echo router's routes plus ``/_health``."""
    router = TornadioRouter(EchoConnection, settings)
    routes = [(r"/_health", HealthHandler, {"router": router})]
    return tornado.web.Application(router.apply_routes(routes))


def main() -> None:
    port = int(sys.argv[1])
    settings = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s %(message)s")
    server = tornado.httpserver.HTTPServer(make_application(settings))
    server.listen(port, "127.0.0.1")
    print("ready", flush=True)
    tornado.ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
