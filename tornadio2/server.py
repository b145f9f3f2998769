"""``SocketServer``: an HTTP server that listens where the application says.

It reads ``socket_io_port`` (default 8001) and ``socket_io_address`` from the
application settings, starts the Flash policy server when ``flash_policy_port``
and ``flash_policy_file`` are set there, and starts the IOLoop unless
``auto_start`` is false.
"""

import logging
from typing import Any, Optional

from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.web import Application

from tornadio2.flashserver import FlashPolicyServer

__all__ = ["SocketServer", "DEFAULT_PORT"]

logger = logging.getLogger("tornadio2.server")

#: The port SocketServer listens on when the application has no ``socket_io_port`` setting.
DEFAULT_PORT = 8001


class SocketServer(HTTPServer):
    """An ``HTTPServer`` for a tornadio2 application, started the TornadIO2 way.

    ``io_loop`` is accepted for compatibility and ignored; extra keyword
    arguments go to Tornado's ``HTTPServer``.
    """

    flash_policy_server: Optional[FlashPolicyServer] = None

    def initialize(self, application: Application, auto_start: bool = True,  # type: ignore[override]
                   xheaders: bool = False, ssl_options: Any = None,
                   io_loop: Any = None, **kwargs: Any) -> None:
        super().initialize(application, xheaders=xheaders, ssl_options=ssl_options, **kwargs)
        settings = application.settings
        self.port: int = settings.get("socket_io_port", DEFAULT_PORT)
        self.address: str = settings.get("socket_io_address", "")
        logger.info("listening on %s:%s", self.address or "*", self.port)
        self.listen(self.port, self.address)
        self.flash_policy_server: Optional[FlashPolicyServer] = None
        policy_port = settings.get("flash_policy_port")
        policy_file = settings.get("flash_policy_file")
        if policy_port and policy_file:
            self.flash_policy_server = FlashPolicyServer(
                policy_port, policy_file, address=self.address).start_listening()
        if auto_start:
            IOLoop.current().start()

    def stop(self) -> None:
        """Stop listening, the Flash policy server included."""
        super().stop()
        if self.flash_policy_server is not None:
            self.flash_policy_server.stop()
