"""The HTTP side every tornadio2 request handler shares.

This module owns the origin policy (one function, used by polling requests and
websocket upgrades alike), the CORS headers, the CORS preflight answer, the
per-request connection counters, and the text-to-bytes step of every transport.
It does not build or parse Socket.IO packets.
"""

import logging
from typing import TYPE_CHECKING, Any, Iterable, List, Optional, Union
from urllib.parse import urlsplit

from tornado import web
from tornado.iostream import StreamClosedError

from tornadio2.session import ConnectionInfo

if TYPE_CHECKING:  # pragma: no cover - imported for annotations only
    from tornado.httputil import HTTPServerRequest

    from tornadio2.router import TornadioRouter

__all__ = ["PreflightHandler", "origin_allowed", "connection_info", "to_utf8"]

logger = logging.getLogger("tornadio2.preflight")

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


_last_encoded: List[Any] = [None, b""]


def to_utf8(text: str) -> bytes:
    """UTF-8 bytes of ``text``; a lone surrogate becomes U+FFFD, as node writes it.

    The last result is kept: a broadcast hands the same string to every
    recipient's transport, and it is encoded once.
    """
    if text is _last_encoded[0]:
        return _last_encoded[1]
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        data = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")
    _last_encoded[0], _last_encoded[1] = text, data
    return data


def _origin_parts(origin: str) -> Optional[tuple]:
    parts = urlsplit(origin.strip())
    if not parts.scheme or not parts.hostname:
        return None
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 80)
    except ValueError:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


def _entry_matches(entry: str, scheme: str, host: str, port: int) -> bool:
    """One allow-list entry: ``scheme://host[:port]`` or native ``host:port`` with ``*``."""
    entry = entry.strip().lower()
    if "://" in entry:
        allowed = _origin_parts(entry)
        return allowed == (scheme, host, port)
    entry_host, _, entry_port = entry.rpartition(":") if ":" in entry else (entry, "", "*")
    return entry_host in ("*", host) and entry_port in ("*", str(port))


def origin_allowed(origin: Optional[str], allowed: Union[str, Iterable[str]],
                   server_origin: Optional[str] = None) -> bool:
    """Whether a request carrying ``Origin: origin`` may use the server.

    Requests without an Origin (non-browser clients, same-origin requests of
    old browsers) and same-origin requests (host and port equal to those of
    ``server_origin``, ``scheme://host[:port]`` of the request) are always
    allowed; ``'*'`` allows every origin, as the native server and TornadIO2
    do by default.
    """
    if not origin:
        return True
    if allowed == "*" or (not isinstance(allowed, str) and "*" in allowed):
        return True
    parts = _origin_parts(origin)
    if parts is None:
        return False
    scheme, host, port = parts
    own = _origin_parts(server_origin) if server_origin else None
    if own is not None and own[1:] == (host, port):
        return True
    entries = [allowed] if isinstance(allowed, str) else allowed
    return any(_entry_matches(entry, scheme, host, port) for entry in entries)


def connection_info(request: "HTTPServerRequest") -> ConnectionInfo:
    """A :class:`ConnectionInfo` from the handshake request."""
    arguments = {
        name: [value.decode("utf-8", "replace") for value in values]
        for name, values in request.query_arguments.items()
    }
    return ConnectionInfo(request.remote_ip or "", arguments, request.cookies,
                          request.headers, request.path)


class PreflightHandler(web.RequestHandler):
    """Base of tornadio2's HTTP handlers: origin policy, CORS, counters.

    Also answers CORS preflight (``OPTIONS``) requests. Subclasses set
    ``self.server`` through ``initialize(server=router)``; ``self.origin`` is
    the request's ``Origin`` header (``None`` without one).
    """

    server: "TornadioRouter"

    def initialize(self, server: "TornadioRouter") -> None:  # type: ignore[override]
        self.server = server
        # Read once: the policy, the CORS headers and the answer all need it.
        self.origin: Optional[str] = self.request.headers.get("Origin")

    def prepare(self) -> None:
        self.server.stats.connection_opened()
        self._counted = True
        if not self.origin_ok():
            logger.warning("refused origin %r for %s", self.origin, self.request.path)
            self.refuse_origin()

    def refuse_origin(self) -> None:
        """Answer a request whose Origin the policy refuses (403)."""
        raise web.HTTPError(403, "origin not allowed")

    def on_finish(self) -> None:
        self._uncount()

    def on_connection_close(self) -> None:
        # Tornado's version fails a streamed body still being read; without it
        # the request would wait for that body forever.
        super().on_connection_close()
        self._uncount()

    def _uncount(self) -> None:
        if getattr(self, "_counted", False):
            self._counted = False
            self.server.stats.connection_closed()

    def origin_ok(self) -> bool:
        """Whether this request's Origin passes the router's policy."""
        return self.server.origin_allowed(self.origin, self.request)

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
        self.set_status(204)
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
