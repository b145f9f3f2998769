"""The HTTP handlers that are not transports: handshake, disconnect, version, stats.

This module owns the answers of ``/{namespace}/1/`` (the handshake, plain and
JSONP), the client's synchronous goodbye ``/{namespace}/1//SID/?disconnect``,
the native refusal of other protocol versions, and the stats page. Like the
transports it asks the router only through :class:`~tornadio2.preflight.Server`.
"""

import logging
from typing import TYPE_CHECKING, Any, Optional

from tornado import web

from tornadio2 import proto, usercode
from tornadio2.preflight import PreflightHandler
from tornadio2.session import ConnectionInfo

if TYPE_CHECKING:  # pragma: no cover - imported for annotations only
    from tornado.httputil import HTTPServerRequest

    from tornadio2.stats import StatsCollector

__all__ = ["HandshakeHandler", "DisconnectHandler", "VersionHandler", "StatsHandler",
           "connection_info"]

logger = logging.getLogger("tornadio2.handlers")

_WELCOME = "Welcome to socket.io."


def connection_info(request: "HTTPServerRequest") -> ConnectionInfo:
    """A :class:`ConnectionInfo` from the handshake request."""
    arguments = {
        name: [value.decode("utf-8", "replace") for value in values]
        for name, values in request.query_arguments.items()
    }
    # Cookies are read from the headers when asked for: parsing a large
    # Cookie header costs time and memory that most handshakes never need.
    return ConnectionInfo(request.remote_ip or "", arguments, None,
                          request.headers, request.path)


class HandshakeHandler(PreflightHandler):
    """``/{namespace}/1/``: make a session and tell the client its parameters."""

    async def get(self, *args: Any, **kwargs: Any) -> None:
        refusal = self.server.handshake_refusal(self.request)
        if refusal is not None:
            # A temporary refusal: 503 lets a reconnecting client try again
            # later (it gives up on a 403), with the native error body.
            self.server.stats.handshake_refused(refusal)
            self.provoked = True
            self.set_header("Retry-After", "1")
            self._refuse(503, "handshake error")
            return
        try:
            session = await self.server.create_session(connection_info(self.request))
        except web.HTTPError:
            self.server.stats.handshake_refused("unauthorized")
            raise  # on_open refused with an HTTP status of its choice
        except Exception as exc:
            # The policy of tornadio2.usercode: the session never began; the client gets a 500.
            usercode.report(exc, "the on_open of a handshake", "answering the handshake with 500")
            self.server.stats.handshake_refused("error")
            self._refuse(500, "handshake error")
            return
        if session is None:
            self.server.stats.handshake_refused("unauthorized")
            self._refuse(403, "handshake unauthorized")
            return
        body = proto.handshake_body(session.sid, self.server.heartbeat_timeout,
                                    self.server.close_timeout, self.server.transports)
        if self._jsonp is not None:
            self._write_js("io.j[%s](%s);" % (self._jsonp, proto.json_dumps(body)))
        else:
            self.set_header("Content-Type", "text/plain")
            self.set_cors_headers()
            self.finish(body)

    post = get

    def prepare(self) -> None:
        jsonp = self.get_query_argument("jsonp", None)
        self._jsonp: Optional[str] = (
            jsonp if jsonp and jsonp.isascii() and jsonp.isdigit() else None)
        super().prepare()

    def refuse_origin(self) -> None:
        """A refused origin gets the native answer, ``403 handshake bad origin``."""
        self.server.stats.handshake_refused("origin")
        self._refuse(403, "handshake bad origin")

    def _refuse(self, status: int, message: str) -> None:
        if self._jsonp is not None:
            self._write_js("io.j[%s](new Error(%s));" % (self._jsonp, proto.json_dumps(message)))
            return
        self.set_status(status)
        self.set_header("Content-Type", "text/plain")
        if status != 403 or message != "handshake bad origin":
            self.set_cors_headers()
        self.finish(message)

    def _write_js(self, script: str) -> None:
        self.set_header("Content-Type", "application/javascript")
        self.finish(script)


class DisconnectHandler(PreflightHandler):
    """``/{namespace}/1//SID/?disconnect``: the client's synchronous goodbye."""

    def get(self, session_id: str) -> None:
        if "disconnect" in self.request.query_arguments:
            self.server.force_disconnect(session_id, self.request)
        self.set_cors_headers()
        self.finish()

    post = get


class VersionHandler(PreflightHandler):
    """Other protocol versions: refused as the native server refuses them."""

    def get(self, version: str, *args: Any) -> None:
        if version.isascii() and version.isdigit() and int(version) not in (0, 1):
            self.set_status(500)
            self.finish("Protocol version not supported.")
        elif version in ("", "0") or not version.isdigit():
            self.set_header("Content-Type", "text/plain")
            self.finish(_WELCOME)
        else:
            raise web.HTTPError(404)

    post = get


class StatsHandler(web.RequestHandler):
    """Serves a router's ``stats.dump()`` as JSON, for monitoring.

    Mount it yourself, where only your monitoring can reach it::

        (r"/stats", StatsHandler, {"router": router})
    """

    def initialize(self, router: Any) -> None:  # type: ignore[override]
        self.router = router

    def get(self) -> None:
        stats: "StatsCollector" = self.router.stats
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(proto.json_dumps(stats.dump()))
