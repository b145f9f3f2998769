"""The router: settings, the URL table and the live sessions.

This module wires URLs to the handlers (:mod:`tornadio2.handlers` for the
handshake and friends, :mod:`tornadio2.persistent` and :mod:`tornadio2.polling`
for transports), keeps the session container and owns the two periodic jobs of
a server: the expiry sweep and the stats tick. Handlers ask it for sessions
(:meth:`TornadioRouter.session_for`, which applies the IP binding) through
the :class:`~tornadio2.preflight.Server` protocol; it is the only module that
knows them all.
"""

import logging
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Type

from tornado import web
from tornado.ioloop import IOLoop

from tornadio2.clientfiles import CLIENT_NOT_FOUND, client_urls, find_client_path
from tornadio2.handlers import (
    DisconnectHandler, HandshakeHandler, StatsHandler, VersionHandler,
)
from tornadio2.origin import origin_allowed
from tornadio2.periodic import Callback, IOLoopScheduler
from tornadio2.persistent import TornadioFlashSocketHandler, TornadioWebSocketHandler
from tornadio2.polling import (
    TornadioHtmlFileHandler, TornadioJSONPHandler, TornadioXHRPollingHandler,
)
from tornadio2.rooms import ALL, Audience, RoomRegistry
from tornadio2.session import ConnectionInfo, Session, SessionConfig
from tornadio2.sessioncontainer import SessionContainer
from tornadio2.stats import StatsCollector

if TYPE_CHECKING:  # pragma: no cover - imported for annotations only
    from tornado.httputil import HTTPServerRequest

    from tornadio2.conn import SocketConnection

__all__ = ["TornadioRouter", "HandshakeHandler", "StatsHandler", "DEFAULT_SETTINGS", "PROTOCOLS",
           "find_client_path"]

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
    # Which RFC 6455 implementation serves websocket (and flashsocket) upgrades:
    # 'lean' (tornadio2's own frame loop on the upgraded socket; wss stays on
    # Tornado's) or 'tornado' (Tornado's WebSocketHandler).
    "websocket_engine": "lean",
    # Bytes a socket may hold that its client has not read; past it the session
    # is closed (volatile packets are dropped as soon as anything is held).
    "websocket_write_limit": 1024 * 1024,
}

class TornadioRouter:
    """Routes Socket.IO URLs under ``/{namespace}`` to ``connection`` sessions.

    ``urls`` is the list of Tornado URL specs to give to an ``Application``;
    ``apply_routes(routes)`` appends them to your own. ``io_loop`` is
    accepted for TornadIO2 compatibility: :attr:`io_loop` gives it back, and
    the router runs on the current IOLoop either way.
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
        #: The rooms of this process's connections (see :mod:`tornadio2.rooms`).
        self.rooms = RoomRegistry()
        self.session_config = SessionConfig(
            heartbeat_interval=self.settings["heartbeat_interval"],
            heartbeat_timeout=self.heartbeat_timeout,
            global_heartbeats=self.settings["global_heartbeats"],
            session_expiry=self.settings["session_expiry"],
            poll_timeout=self.settings["xhr_polling_timeout"],
            max_queue_length=self.settings["max_queue_length"],
            write_limit=self.settings["websocket_write_limit"],
        )
        self._io_loop = io_loop
        self._scheduler: Optional[IOLoopScheduler] = None
        self._timers: List[Callback] = []
        self._urls = self._build_urls()

    def _check_settings(self) -> None:
        for name in sorted(set(self.settings) - set(DEFAULT_SETTINGS)):
            logger.warning("unknown setting %r (a misspelling?) is ignored", name)
        unknown = set(self.settings["enabled_protocols"]) - set(DEFAULT_SETTINGS["enabled_protocols"])
        if unknown:
            raise ValueError("unknown protocols in enabled_protocols: %s" % sorted(unknown))
        if self.settings["websocket_engine"] not in ("lean", "tornado"):
            raise ValueError("websocket_engine must be 'lean' or 'tornado'")
        if self.settings["client_timeout"] <= 0:
            raise ValueError("client_timeout must be positive")

    @property
    def io_loop(self) -> IOLoop:
        """The IOLoop given to the constructor, else the current one (TornadIO2's attribute)."""
        return self._io_loop if self._io_loop is not None else IOLoop.current()

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
        setting = self.settings["client_path"]
        folder = find_client_path(setting)
        if folder is None and setting == "auto":
            logger.warning("%s", CLIENT_NOT_FOUND)
            return client_urls(prefix, None, CLIENT_NOT_FOUND)
        return client_urls(prefix, folder)

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
        # periodic.Callback counts in milliseconds, as TornadIO2's did.
        sweep = Callback(self.expire_sessions, self.settings["session_check_interval"] * 1000)
        self._timers = [sweep]
        sweep.start()
        # Once a second; an application that started it itself is not ticked twice.
        self.stats.start()

    def stop(self) -> None:
        """Stop the sweep and stats timers and close every session (for shutdown and tests)."""
        for timer in self._timers:
            timer.stop()
        self._timers = []
        self.stats.stop()
        for session in list(self.sessions):
            session.close(send_disconnect=False)
        if self._scheduler is not None:
            self._scheduler.close()
            self._scheduler = None

    def expire_sessions(self) -> None:
        """Close every detached session whose expiry time has passed."""
        for session in self.sessions.expire(self.scheduler.now()):
            logger.debug("session %s expired", session.sid)
            session.close(send_disconnect=False, reason="expiry")

    async def create_session(self, info: ConnectionInfo) -> Optional[Session]:
        """Make a session for a handshake; ``None`` if the application refused it.

        An exception from the application's ``on_open`` propagates.
        """
        session = Session(self.sessions.new_id(), self.connection, info, self.session_config,
                          self.scheduler, self.stats, self.sessions.hooks, self.rooms,
                          server=self)
        if not await session.open():
            return None
        self.sessions.add(session)
        return session

    # -- rooms ------------------------------------------------------------------------

    def to(self, room: str, endpoint: Optional[str] = None) -> Audience:
        """Everyone in ``room`` of ``endpoint`` (native ``io.of(endpoint).in(room)``).

        A session id is a room: ``router.to(sid).emit(...)`` reaches one client.
        """
        return Audience(self.rooms, endpoint, room)

    def to_all(self, endpoint: Optional[str] = None) -> Audience:
        """Every connection of ``endpoint`` (native ``io.of(endpoint)``; ``io.sockets`` for '')."""
        return Audience(self.rooms, endpoint)

    def close_room(self, room: str, endpoint: Optional[str] = None) -> int:
        """Take every connection out of ``room``; how many were in it."""
        return self.rooms.close_room(room, endpoint)

    def connections_in(self, room: Optional[str] = None,
                       endpoint: Optional[str] = None) -> List["SocketConnection"]:
        """The connections in ``room`` (the whole endpoint by default), in this process only."""
        return self.rooms.connections(ALL if room is None else room, endpoint)

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

    def force_disconnect(self, session_id: str, request: "HTTPServerRequest") -> None:
        """End a session because its client asked to (``?disconnect``).

        The request must be one that may use the session (:meth:`session_for`).
        """
        session = self.session_for(session_id, request)
        if session is not None:
            session.close(reason="client")

    def origin_allowed(self, origin: Optional[str],
                       request: Optional["HTTPServerRequest"] = None) -> bool:
        """Whether the origin policy lets ``request``, carrying ``Origin: origin``, in."""
        if not origin:
            return True  # no Origin: not a cross-site browser request (see origin_allowed)
        own = "%s://%s" % (request.protocol, request.host) if request is not None else None
        return origin_allowed(origin, self.settings["allowed_origins"], own)
