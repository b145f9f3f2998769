"""The HTTP side every tornadio2 request handler shares, and what handlers need of a server.

This module owns :class:`PreflightHandler`, the base of the HTTP transports
and the handshake: the router's origin policy applied to each request, the
CORS headers and the CORS preflight answer, the per-request connection
counters, short plain-text errors and a finish that tolerates a vanished
client. Handlers are typed against :class:`Server`, the few things they ask
of the router, so that they never import it. This module does not build or
parse Socket.IO packets.
"""

import logging
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Protocol, Union

from tornado import web
from tornado.http1connection import HTTP1Connection
from tornado.iostream import StreamClosedError

from tornadio2.peerlog import PeerLog
from tornadio2.proto import to_utf8
from tornadio2.session import ConnectionInfo, Session
from tornadio2.stats import OTHER_REQUESTS, StatsCollector

if TYPE_CHECKING:  # pragma: no cover - imported for annotations only
    from tornado.httputil import HTTPServerRequest

__all__ = ["PreflightHandler", "Server", "limit_request_body"]

logger = logging.getLogger("tornadio2.preflight")
peer_log = PeerLog(logger)
# The access-log lines of answers a client can provoke at will (see _log).
_access_log = PeerLog(logging.getLogger("tornado.access"))

# A Content-Length with more digits than this is over any limit (and int()
# of a very long digit string is refused by Python).
_MAX_LENGTH_DIGITS = 18


def limit_request_body(handler: web.RequestHandler, limit: int) -> bool:
    """Bound the body of ``handler``'s request to ``limit`` bytes, before any is read.

    For handlers decorated with ``stream_request_body``, from ``prepare``. A
    declared ``Content-Length`` over the limit is answered ``413`` at once
    and the connection closed after it (``False`` is returned then); a
    chunked body is cut off, its connection closed, when it passes the limit.
    """
    connection = handler.request.connection
    if not isinstance(connection, HTTP1Connection):
        return True
    length = handler.request.headers.get("Content-Length", "").strip()
    if length.isascii() and length.isdigit() and (
            len(length) > _MAX_LENGTH_DIGITS or int(length) > limit):
        # Tornado then reads nothing more: it closes the connection once the
        # answer is written. The limit is raised past the declared length so
        # that it does not also answer 400 for it.
        if len(length) <= _MAX_LENGTH_DIGITS:
            connection.set_max_body_size(int(length))
        setattr(handler, "provoked", True)
        handler.set_status(413)
        handler.set_header("Content-Type", "text/plain; charset=UTF-8")
        handler.finish("Request body too large")
        return False
    connection.set_max_body_size(limit)
    return True


class Server(Protocol):
    """What tornadio2's handlers ask of the router that mounted them."""

    settings: Dict[str, Any]
    stats: StatsCollector

    @property
    def heartbeat_timeout(self) -> Optional[int]:
        """The heartbeat timeout announced in the handshake."""

    @property
    def close_timeout(self) -> int:
        """The close timeout announced in the handshake."""

    @property
    def transports(self) -> List[str]:
        """The transports announced in the handshake, in order."""

    def origin_allowed(self, origin: Optional[str],
                       request: Optional["HTTPServerRequest"] = None) -> bool:
        """Whether ``request``, carrying ``Origin: origin``, passes the origin policy."""

    def handshake_refusal(self, request: "HTTPServerRequest") -> Optional[str]:
        """Why a handshake may not make a session now, or ``None`` to admit it."""

    async def create_session(self, info: ConnectionInfo) -> Optional[Session]:
        """A new session for a handshake; ``None`` if the application refused it."""

    def session_for(self, session_id: str, request: "HTTPServerRequest") -> Optional[Session]:
        """The session a request names, if that request may use it."""

    def force_disconnect(self, session_id: str, request: "HTTPServerRequest") -> None:
        """End a session because its client asked to (``?disconnect``)."""


@web.stream_request_body
class PreflightHandler(web.RequestHandler):
    """Base of tornadio2's HTTP handlers: origin policy, CORS, counters, body limit.

    Also answers CORS preflight (``OPTIONS``) requests. A request body is
    never buffered by Tornado: a body over ``max_message_size`` is refused
    before it is read (:func:`limit_request_body`), and a handler that wants
    the body overrides :meth:`data_received`. Subclasses set
    ``self.server`` through ``initialize(server=router)``; ``self.origin`` is
    the request's ``Origin`` header (``None`` without one).
    """

    server: Server
    #: The transport this handler serves, as the counters name it; other
    #: requests (handshakes, ``?disconnect``) count together.
    name = OTHER_REQUESTS
    #: Set for an answer a client can provoke at will (``413``, a handshake
    #: over the admission limits): its access-log line is rate-limited.
    provoked = False

    def initialize(self, server: Server) -> None:  # type: ignore[override]
        self.server = server
        # Read once: the policy, the CORS headers and the answer all need it.
        self.origin: Optional[str] = self.request.headers.get("Origin")

    def prepare(self) -> None:
        self.server.stats.connection_opened(self.name)
        self._counted = True
        if not limit_request_body(self, self.server.settings["max_message_size"]):
            return
        if not self.preflight():
            peer_log.warning("refused origin %s for %s", self.origin, self.request.path)
            self.refuse_origin()

    def data_received(self, chunk: bytes) -> None:
        """Drop body bytes: only the polling transports read a body."""

    def refuse_origin(self) -> None:
        """Answer a request whose Origin the policy refuses (403)."""
        raise web.HTTPError(403, "origin not allowed")

    def on_finish(self) -> None:
        self._uncount()

    def _log(self) -> None:
        # Tornado's per-request access-log hook, kept for overriding: a flood
        # of refused requests must not write a line (an ERROR for a 503) each.
        if not self.provoked:
            super()._log()
            return
        _access_log.warning("%d %s %s (%s)", self.get_status(), self.request.method,
                            self.request.uri, self.request.remote_ip)

    def on_connection_close(self) -> None:
        # Tornado's version fails a streamed body still being read; without it
        # the request would wait for that body forever.
        super().on_connection_close()
        self._uncount()

    def _uncount(self) -> None:
        if getattr(self, "_counted", False):
            self._counted = False
            self.server.stats.connection_closed(self.name)

    def preflight(self) -> bool:
        """Whether this request may be served; ``False`` refuses it (``403``).

        TornadIO2's hook, called before every request is handled, ``OPTIONS``
        included: by default a request without an ``Origin`` passes and one
        with an ``Origin`` must pass :meth:`verify_origin`. The CORS headers
        are set as each answer is written (:meth:`set_cors_headers`); an
        override may set headers of its own.
        """
        return self.origin_ok()

    def verify_origin(self) -> bool:
        """Whether the request's ``Origin`` is allowed: the router's ``allowed_origins``.

        TornadIO2's hook: override it to apply a policy of your own. It is
        called only for requests that carry an ``Origin`` header.
        """
        return self.server.origin_allowed(self.origin, self.request)

    def origin_ok(self) -> bool:
        """Whether this request's Origin is allowed (:meth:`verify_origin`; none is)."""
        return not self.origin or self.verify_origin()

    def set_cors_headers(self) -> None:
        """Echo an allowed Origin with credentials, as the native server does."""
        origin = self.origin
        if origin:
            self.set_header("Access-Control-Allow-Origin", origin)
            self.set_header("Access-Control-Allow-Credentials", "true")

    def options(self, *args: Any, **kwargs: Any) -> None:
        """Answer a CORS preflight for any tornadio2 URL."""
        self.set_cors_headers()
        self.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        requested = self.request.headers.get("Access-Control-Request-Headers")
        if requested:
            self.set_header("Access-Control-Allow-Headers", requested)
        self.set_header("Access-Control-Max-Age", "86400")
        # 200 as the native server: the CORS drafts 0.9-era browsers follow
        # accept no other status for a preflight (wire-notes#cors).
        self.set_status(200)
        self.finish()

    def check_xsrf_cookie(self) -> None:
        """Socket.IO clients send no XSRF token; the origin policy guards instead."""

    def compute_etag(self) -> Optional[str]:
        return None

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors are short plain text, like the native server's."""
        error = kwargs.get("exc_info", (None, None))[1]
        message = getattr(error, "log_message", None) or self._reason
        if self.origin_ok():
            self.set_cors_headers()  # so that a cross-site client can read the error
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(message)

    def safe_finish(self, body: Union[str, bytes] = b"") -> None:
        """Finish the request unless the client is already gone."""
        if self._finished or self.request.connection is None:
            return
        try:
            self.finish(to_utf8(body) if isinstance(body, str) else body)
        except StreamClosedError:
            logger.debug("client left before %s was answered", self.request.path)
