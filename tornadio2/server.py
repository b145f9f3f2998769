"""``SocketServer``: an HTTP server that listens where the application says.

It reads ``socket_io_port`` (default 8001) and ``socket_io_address`` from the
application settings, starts the Flash policy server when ``flash_policy_port``
and ``flash_policy_file`` are set there, and starts the IOLoop unless
``auto_start`` is false. A Flash policy server that cannot start (port 843
needs root) is logged and the HTTP server goes on, as in TornadIO2.
``tune_gc=True`` freezes the objects made at start-up out of the garbage
collector's reach and raises its young-generation threshold (see
:func:`tune_gc`), which makes connection storms cheaper.
"""

import gc
import logging
from typing import Any, Optional

from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.web import Application

from tornadio2.flashserver import FlashPolicyServer

__all__ = ["SocketServer", "DEFAULT_PORT", "GC_YOUNG_THRESHOLD", "tune_gc"]

logger = logging.getLogger("tornadio2.server")

#: The port SocketServer listens on when the application has no ``socket_io_port`` setting.
DEFAULT_PORT = 8001

#: The young-generation threshold ``tune_gc`` sets (CPython's default is 700).
GC_YOUNG_THRESHOLD = 50000


def tune_gc(young_threshold: int = GC_YOUNG_THRESHOLD) -> None:
    """Collect once, freeze what survives (start-up objects), collect the young generation less often.

    Every new connection allocates enough objects to run the young-generation
    collection often; frozen objects are no longer scanned by the older
    generations' collections either.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)


_tune_gc = tune_gc  # the keyword argument of SocketServer shadows the name


class SocketServer(HTTPServer):
    """An ``HTTPServer`` for a tornadio2 application, started the TornadIO2 way.

    The arguments are TornadIO2's, in its order: ``SocketServer(application,
    no_keep_alive=False, io_loop=None, xheaders=False, ssl_options=None,
    auto_start=True)``. ``io_loop`` is accepted for compatibility and ignored;
    ``tune_gc=True`` calls :func:`tune_gc` before the IOLoop starts; extra
    keyword arguments go to Tornado's ``HTTPServer``.
    """

    flash_policy_server: Optional[FlashPolicyServer] = None

    def initialize(self, application: Application,  # type: ignore[override]
                   no_keep_alive: bool = False, io_loop: Any = None,
                   xheaders: bool = False, ssl_options: Any = None,
                   auto_start: bool = True, tune_gc: bool = False, **kwargs: Any) -> None:
        super().initialize(application, no_keep_alive=no_keep_alive, xheaders=xheaders,
                           ssl_options=ssl_options, **kwargs)
        settings = application.settings
        self.port: int = settings.get("socket_io_port", DEFAULT_PORT)
        self.address: str = settings.get("socket_io_address", "")
        logger.info("listening on %s:%s", self.address or "*", self.port)
        self.listen(self.port, self.address)
        self.flash_policy_server = self._start_flash_policy_server(
            settings.get("flash_policy_port"), settings.get("flash_policy_file"))
        if tune_gc:
            _tune_gc()
        if auto_start:
            IOLoop.current().start()

    def _start_flash_policy_server(self, port: Optional[int],
                                   policy_file: Optional[str]) -> Optional[FlashPolicyServer]:
        if not (port and policy_file):
            return None
        try:
            return FlashPolicyServer(port=port, policy_file=policy_file, address=self.address)
        except OSError as exc:
            # Port 843 needs root: flashsocket clients then try 10843, and every
            # other transport works without a policy server.
            logger.error("could not start the Flash policy server on port %s: %s", port, exc)
            return None

    def stop(self) -> None:
        """Stop listening, the Flash policy server included."""
        super().stop()
        if self.flash_policy_server is not None:
            self.flash_policy_server.stop()
