"""The router: settings, the URL table, live sessions and the handshake.

This module wires URLs to transport handlers, answers the handshake (plain and
JSONP), keeps the session container and owns the two periodic jobs of a server:
the expiry sweep and the stats tick. Transports ask it for sessions
(:meth:`TornadioRouter.session_for`), which applies the IP binding.
"""

import logging
import os
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Type, Union

from tornado import web

from tornadio2 import proto
from tornadio2.periodic import Callback, IOLoopScheduler
from tornadio2.persistent import TornadioFlashSocketHandler, TornadioWebSocketHandler
from tornadio2.polling import (
    TornadioHtmlFileHandler, TornadioJSONPHandler, TornadioXHRPollingHandler,
)
from tornadio2.preflight import PreflightHandler, connection_info, origin_allowed
from tornadio2.session import Session, SessionConfig
from tornadio2.sessioncontainer import SessionContainer
from tornadio2.stats import StatsCollector

if TYPE_CHECKING:  # pragma: no cover - imported for annotations only
    from tornado.httputil import HTTPServerRequest

    from tornadio2.conn import SocketConnection

__all__ = ["TornadioRouter", "HandshakeHandler", "StatsHandler", "DEFAULT_SETTINGS", "PROTOCOLS"]

logger = logging.getLogger("tornadio2.router")

#: Transport name -> handler class, in the order the handshake offers them.
PROTOCOLS: Dict[str, Type[Any]] = {
    "websocket": TornadioWebSocketHandler,
    "flashsocket": TornadioFlashSocketHandler,
    "xhr-polling": TornadioXHRPollingHandler,
    "jsonp-polling": TornadioJSONPHandler,
    "htmlfile": TornadioHtmlFileHandler,
}

#: Every setting a router knows, with its default (see the settings guide).
DEFAULT_SETTINGS: Dict[str, Any] = {
    # Transports offered in the handshake and routed.
    "enabled_protocols": ["websocket", "flashsocket", "xhr-polling", "jsonp-polling", "htmlfile"],
    # Seconds between server heartbeats.
    "heartbeat_interval": 12,
    # Slack added to the timeouts announced in the handshake.
    "client_timeout": 5,
    # Seconds a long-poll GET is held before it is answered with a noop.
    "xhr_polling_timeout": 20,
    # Seconds a session with no transport attached lives.
    "session_expiry": 30,
    # Seconds between expiry sweeps.
    "session_check_interval": 15,
    # Verify a websocket works before using it (TornadIO2 option; see docs).
    "websocket_check": False,
    # Heartbeats on every transport, not only on sockets (0.9.1-0.9.10 clients need it).
    "global_heartbeats": True,
    # A session may only be used from the IP address that made it.
    "verify_remote_ip": True,
    # Origins allowed to connect: '*' for any, or a list of 'scheme://host[:port]'
    # (or native-style 'host:port' with '*' wildcards). Same-origin always passes.
    "allowed_origins": "*",
    # Largest websocket message or POST body, in bytes.
    "max_message_size": 10 * 1024 * 1024,
    # Packets a session may hold for an absent client before it is closed.
    "max_queue_length": 10000,
    # Folder of the 0.9 browser client (socket.io.js, socket.io.min.js, the Flash
    # SWFs), served under /{namespace}/ as the native server does. 'auto' looks
    # for node_modules/socket.io-client/dist in the working directory and its
    # parents; None serves no client files.
    "client_path": "auto",
}

_WELCOME = "Welcome to socket.io."
_CLIENT_DIST = os.path.join("node_modules", "socket.io-client", "dist")


def find_client_path(setting: Optional[str]) -> Optional[str]:
    """The folder of the browser client to serve, from the ``client_path`` setting."""
    if setting != "auto":
        return setting
    folder = os.path.abspath(os.getcwd())
    while True:
        candidate = os.path.join(folder, _CLIENT_DIST)
        if os.path.isfile(os.path.join(candidate, "socket.io.js")):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


class TornadioRouter:
    """Routes Socket.IO URLs under ``/{namespace}`` to ``connection`` sessions.

    ``urls`` is the list of Tornado URL specs to give to an ``Application``;
    ``apply_routes(routes)`` appends them to your own. ``io_loop`` is accepted
    for TornadIO2 compatibility and ignored.
    """

    def __init__(self, connection: Type["SocketConnection"],
                 user_settings: Optional[Dict[str, Any]] = None,
                 namespace: str = "socket.io", io_loop: Any = None) -> None:
        self.connection = connection
        self.namespace = namespace.strip("/")
        self.settings = dict(DEFAULT_SETTINGS)
        self.settings.update(user_settings or {})
        self._check_settings()
        self.stats = StatsCollector()
        self.sessions = SessionContainer()
        self.session_config = SessionConfig(
            heartbeat_interval=self.settings["heartbeat_interval"],
            heartbeat_timeout=self.heartbeat_timeout,
            global_heartbeats=self.settings["global_heartbeats"],
            session_expiry=self.settings["session_expiry"],
            poll_timeout=self.settings["xhr_polling_timeout"],
            max_queue_length=self.settings["max_queue_length"],
        )
        self._scheduler: Optional[IOLoopScheduler] = None
        self._timers: List[Callback] = []
        self._urls = self._build_urls()

    def _check_settings(self) -> None:
        for name in sorted(set(self.settings) - set(DEFAULT_SETTINGS)):
            logger.warning("unknown setting %r (a misspelling?) is ignored", name)
        unknown = set(self.settings["enabled_protocols"]) - set(DEFAULT_SETTINGS["enabled_protocols"])
        if unknown:
            raise ValueError("unknown protocols in enabled_protocols: %s" % sorted(unknown))
        if self.settings["client_timeout"] <= 0:
            raise ValueError("client_timeout must be positive")

    @property
    def heartbeat_timeout(self) -> int:
        """The heartbeat timeout announced to clients (and given them to answer)."""
        return self.settings["heartbeat_interval"] + self.settings["client_timeout"]

    @property
    def close_timeout(self) -> int:
        """The close timeout announced to clients: longer than any long poll."""
        return self.settings["xhr_polling_timeout"] + self.settings["client_timeout"]

    @property
    def transports(self) -> List[str]:
        """Enabled transports this server can serve, in handshake order."""
        return [name for name in self.settings["enabled_protocols"] if name in PROTOCOLS]

    # -- URLs -------------------------------------------------------------------------

    def _build_urls(self) -> List[Any]:
        prefix = "/" + self.namespace if self.namespace else ""
        kwargs = {"server": self}
        urls = [
            web.url(prefix + r"/1/?", HandshakeHandler, kwargs),
            web.url(prefix + r"/1//(?P<session_id>[^/]+)/?", DisconnectHandler, kwargs),
        ]
        for name in self.transports:
            urls.append(web.url(prefix + r"/1/%s/?" % name, HandshakeHandler, kwargs))
            urls.append(web.url(prefix + r"/1/%s/(?P<session_id>[^/]+)/?" % name,
                                PROTOCOLS[name], kwargs))
        urls.extend(self._client_urls(prefix))
        if prefix:
            urls.append(web.url(prefix + r"/?(?P<version>[^/]*)/?.*", VersionHandler, kwargs))
        return urls

    def _client_urls(self, prefix: str) -> List[Any]:
        folder = find_client_path(self.settings["client_path"])
        if folder is None:
            return []
        files = {"path": folder}
        return [
            web.url(prefix + r"/(socket\.io(?:\.min)?\.js)", web.StaticFileHandler, files),
            web.url(prefix + r"/static/flashsocket/(WebSocketMain(?:Insecure)?\.swf)",
                    web.StaticFileHandler, files),
        ]

    @property
    def urls(self) -> List[Any]:
        """Tornado URL specs for every Socket.IO URL of this router."""
        return list(self._urls)

    def apply_routes(self, routes: List[Any]) -> List[Any]:
        """Append this router's URLs to ``routes`` and return it."""
        routes.extend(self._urls)
        return routes

    # -- sessions -------------------------------------------------------------------

    @property
    def scheduler(self) -> IOLoopScheduler:
        """The clock of the running IOLoop (made on first use, with the timers)."""
        if self._scheduler is None:
            self._scheduler = IOLoopScheduler()
            self._start_timers()
        return self._scheduler

    def _start_timers(self) -> None:
        sweep = Callback(self.expire_sessions, self.settings["session_check_interval"])
        tick = Callback(self.stats.tick, 1)
        self._timers = [sweep, tick]
        for timer in self._timers:
            timer.start()

    def stop(self) -> None:
        """Stop the sweep and stats timers and close every session (for shutdown and tests)."""
        for timer in self._timers:
            timer.stop()
        self._timers = []
        for session in list(self.sessions):
            session.close(send_disconnect=False)
        if self._scheduler is not None:
            self._scheduler.close()
            self._scheduler = None

    def expire_sessions(self) -> None:
        """Close every detached session whose expiry time has passed."""
        for session in self.sessions.expire(self.scheduler.now()):
            logger.debug("session %s expired", session.sid)
            session.close(send_disconnect=False)

    async def create_session(self, request: "HTTPServerRequest") -> Optional[Session]:
        """Make a session for a handshake; ``None`` if the application refused it."""
        session = Session(self.sessions.new_id(), self.connection, connection_info(request),
                          self.session_config, self.scheduler, self.stats, self.sessions)
        if not await session.open():
            return None
        self.sessions.add(session)
        return session

    def get_session(self, session_id: str) -> Optional[Session]:
        """The live session ``session_id``, or ``None``."""
        return self.sessions.get(session_id)

    def session_for(self, session_id: str, request: "HTTPServerRequest") -> Optional[Session]:
        """The session a transport request names, if it may use it."""
        session = self.sessions.get(session_id)
        if session is None:
            logger.info("request for unknown session %.40r", session_id)
            return None
        if self.settings["verify_remote_ip"] and session.info.ip != request.remote_ip:
            logger.warning("session %s used from %s, made from %s", session_id,
                           request.remote_ip, session.info.ip)
            return None
        return session

    def force_disconnect(self, session_id: str) -> None:
        """End a session because its client asked to (``?disconnect``)."""
        session = self.sessions.get(session_id)
        if session is not None:
            session.close()

    def origin_allowed(self, origin: Optional[str],
                       request: Optional["HTTPServerRequest"] = None) -> bool:
        """Whether the origin policy lets ``request``, carrying ``Origin: origin``, in."""
        if not origin:
            return True  # no Origin: not a cross-site browser request (see origin_allowed)
        own = "%s://%s" % (request.protocol, request.host) if request is not None else None
        return origin_allowed(origin, self.settings["allowed_origins"], own)


class HandshakeHandler(PreflightHandler):
    """``/{namespace}/1/``: make a session and tell the client its parameters."""

    async def get(self, *args: Any, **kwargs: Any) -> None:
        try:
            session = await self.server.create_session(self.request)
        except web.HTTPError:
            raise
        except Exception:
            logger.error("on_open failed during the handshake", exc_info=True)
            self._refuse(500, "handshake error")
            return
        if session is None:
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
        self._jsonp = jsonp if jsonp and jsonp.isascii() and jsonp.isdigit() else None
        super().prepare()

    def refuse_origin(self) -> None:
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
            self.server.force_disconnect(session_id)
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

    def initialize(self, router: TornadioRouter) -> None:  # type: ignore[override]
        self.router = router

    def get(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(proto.json_dumps(self.router.stats.dump()))
