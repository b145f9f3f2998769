"""``SocketServer``: an HTTP server that listens where the application says.

It reads ``socket_io_port`` (default 8001) and ``socket_io_address`` from the
application settings, starts the Flash policy server when ``flash_policy_port``
and ``flash_policy_file`` are set there, and starts the IOLoop unless
``auto_start`` is false. A Flash policy server that cannot start (port 843
needs root) is logged and the HTTP server goes on, as in TornadIO2.

Both servers of this module bound what one client can hold: the time a
connection may take over its headers, its body and between two requests
(:func:`server_limits`), and, when the process runs out of file
descriptors, they stop accepting for a while instead of retrying the
failing ``accept()`` in a loop.

``tune_gc=True`` freezes the objects made at start-up out of the garbage
collector's reach and raises its young-generation threshold (see
:func:`tune_gc`), which makes connection storms cheaper.
"""

import gc
import logging
from typing import Any, Dict, Optional

from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.web import Application

from tornadio2.accept import AcceptBackoff
from tornadio2.flashserver import FlashPolicyServer

__all__ = ["SocketServer", "GuardedHTTPServer", "server_limits", "DEFAULT_PORT",
           "IDLE_CONNECTION_TIMEOUT", "BODY_TIMEOUT", "GC_YOUNG_THRESHOLD", "tune_gc"]

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


#: Seconds a connection may take to send a request line and headers, which is
#: also how long it may stay idle between two requests (Tornado uses one
#: timer for both). Above the 60 s idle timeout of common load balancers and
#: proxies, so that they close idle connections first; below the native
#: server's 120 s.
IDLE_CONNECTION_TIMEOUT = 65.0

#: Seconds a request may take to send its body: a 10 MiB body (the default
#: ``max_message_size``) needs 1.4 Mbit/s; real payloads are far smaller.
BODY_TIMEOUT = 60.0


def server_limits(idle_connection_timeout: float = IDLE_CONNECTION_TIMEOUT,
                  body_timeout: float = BODY_TIMEOUT) -> Dict[str, Any]:
    """Keyword arguments that give a Tornado ``HTTPServer`` tornadio2's time limits.

    ``HTTPServer(app, **server_limits())`` bounds the headers, the body and
    keep-alive idleness as :class:`SocketServer` does (Tornado's own defaults
    are an hour for headers and no limit on a body).
    """
    return {"idle_connection_timeout": idle_connection_timeout, "body_timeout": body_timeout}


class GuardedHTTPServer(AcceptBackoff, HTTPServer):
    """A Tornado ``HTTPServer`` with tornadio2's limits; it does not listen by itself.

    Keyword arguments not given take the values of :func:`server_limits`;
    when ``accept()`` fails for want of file descriptors (``EMFILE``,
    ``ENFILE``) the server stops accepting for a while and logs once per
    burst, instead of spinning (:mod:`tornadio2.accept`). Use it
    in place of ``HTTPServer`` when you do not use :class:`SocketServer`.
    """

    def initialize(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        for name, value in server_limits().items():
            kwargs.setdefault(name, value)
        super().initialize(*args, **kwargs)


class SocketServer(GuardedHTTPServer):
    """An ``HTTPServer`` for a tornadio2 application, started the TornadIO2 way.

    The arguments are TornadIO2's, in its order: ``SocketServer(application,
    no_keep_alive=False, io_loop=None, xheaders=False, ssl_options=None,
    auto_start=True)``. ``io_loop`` is accepted for compatibility and ignored;
    ``tune_gc=True`` calls :func:`tune_gc` before the IOLoop starts;
    extra keyword arguments go to Tornado's ``HTTPServer``, with the time
    limits of :func:`server_limits` as defaults.
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
