"""The router: settings, the URL table and the live sessions.

This module wires URLs to the handlers (:mod:`tornadio2.handlers` for the
handshake and friends, :mod:`tornadio2.persistent` and :mod:`tornadio2.polling`
for transports), keeps the session container and owns the two periodic jobs of
a server: the expiry sweep and the stats tick. Handlers ask it for sessions
(:meth:`TornadioRouter.session_for`, which applies the IP binding) through
the :class:`~tornadio2.preflight.Server` protocol; it is the only module that
knows them all.
"""

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Type

from tornado import web
from tornado.ioloop import IOLoop

from tornadio2.admission import Admission
from tornadio2.broker import Broker, LocalBroker, disconnect_message, close_room_message
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
    # Bytes (UTF-8) a session may hold for an absent client before it is closed;
    # also bounds the packets waiting for an endpoint whose on_open runs (with
    # max_queue_length).
    "max_queue_bytes": 10 * 1024 * 1024,
    # Bytes a websocket or flashsocket may have handed to its stream and not yet
    # written (a client that does not read): volatile packets are dropped
    # meanwhile; past it, the session is closed.
    "websocket_write_limit": 10 * 1024 * 1024,
    # Packets one POST or frame may carry (and the payloads not yet handled of a
    # session, together); more closes the session unread.
    "max_payload_packets": 10000,
    # Packets of a large payload handled per turn of the event loop, so that
    # other clients are served meanwhile.
    "payload_slice_packets": 1000,
    # Seconds a websocket upgrade may take to finish its handshake after its
    # headers (the 8 key bytes of a hixie-76 flashsocket upgrade).
    "upgrade_timeout": 10,
    # Live sessions at most; a handshake beyond is refused (503). None: no cap.
    "max_sessions": 50000,
    # Handshakes per second one address may make, on average (a token bucket
    # of handshake_burst); None: no limit.
    "handshake_rate": None,
    # Handshakes one address may make at once before handshake_rate applies.
    "handshake_burst": 20,
    # Seconds a session lives after its handshake if no transport ever attaches.
    "handshake_expiry": 20,
    # Where room sends meet other processes: None keeps them in this process;
    # a Redis URL ('redis://', 'rediss://', 'unix://', 'redis+sentinel://')
    # shares them with every process on the same URL and channel (needs the
    # 'redis' extra). See the scaling guide.
    "broker_url": None,
    # The pub/sub channel (python-socketio's managers use the same default).
    "broker_channel": "socketio",
    # Start even if the broker is unreachable (and connect in the background)
    # instead of failing router.start() with an error naming the URL.
    "broker_start_degraded": False,
    # Seconds of broker outage whose publishes are kept and sent after it
    # reconnects; older ones are dropped and counted.
    "broker_outage_window": 5.0,
    # This process's id, put in front of its session ids so a proxy can route
    # polling requests by URL (letters and digits, up to 16). None: plain ids.
    "node_id": None,
    # Which RFC 6455 implementation serves websocket (and flashsocket) upgrades:
    # 'lean' (tornadio2's own frame loop on the upgraded socket; wss stays on
    # Tornado's) or 'tornado' (Tornado's WebSocketHandler).
    "websocket_engine": "lean",
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
        self.sessions = SessionContainer(self.settings["node_id"])
        #: Carries room sends to other processes (see :mod:`tornadio2.broker`).
        self.broker = self._make_broker()
        #: The rooms of this process's connections (see :mod:`tornadio2.rooms`).
        self.rooms = RoomRegistry(self.broker)
        self.session_config = SessionConfig(
            heartbeat_interval=self.settings["heartbeat_interval"],
            heartbeat_timeout=self.heartbeat_timeout,
            global_heartbeats=self.settings["global_heartbeats"],
            session_expiry=self.settings["session_expiry"],
            poll_timeout=self.settings["xhr_polling_timeout"],
            max_queue_length=self.settings["max_queue_length"],
            max_queue_bytes=self.settings["max_queue_bytes"],
            max_payload_packets=self.settings["max_payload_packets"],
            max_backlog_bytes=self.settings["max_message_size"],
            payload_slice_packets=self.settings["payload_slice_packets"],
            websocket_write_limit=self.settings["websocket_write_limit"],
            handshake_expiry=self._handshake_expiry(),
        )
        self.admission = Admission(self.settings["max_sessions"], self.settings["handshake_rate"],
                                   self.settings["handshake_burst"])
        # Handshakes whose on_open is still running: sessions to be, counted
        # against max_sessions (a slow asynchronous on_open must not let a
        # flood of handshakes past the cap).
        self._opening = 0
        self._io_loop = io_loop
        self._broker_started = False
        self._broker_task: Optional["asyncio.Future[None]"] = None
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
        if self.settings["payload_slice_packets"] < 1:
            raise ValueError("payload_slice_packets must be at least 1")
        node_id = self.settings["node_id"]
        if node_id is not None and not (isinstance(node_id, str) and node_id.isascii()
                                        and node_id.isalnum() and len(node_id) <= 16):
            raise ValueError("node_id must be 1-16 ASCII letters and digits, not %r" % (node_id,))

    def _handshake_expiry(self) -> float:
        # Never longer than session_expiry: a never-used session is the cheapest to drop.
        first = self.settings["handshake_expiry"]
        expiry = self.settings["session_expiry"]
        return expiry if first is None else min(first, expiry)

    def _make_broker(self) -> Broker:
        url = self.settings["broker_url"]
        if url is None:
            self.stats.broker = "local"
            return LocalBroker()
        from tornadio2.redisbroker import RedisBroker  # the optional 'redis' extra
        self.stats.broker = "redis"
        return RedisBroker(url, channel=self.settings["broker_channel"],
                           outage_window=self.settings["broker_outage_window"],
                           start_degraded=self.settings["broker_start_degraded"],
                           stats=self.stats)

    async def start(self) -> None:
        """Connect the broker; call it before serving when ``broker_url`` is set.

        Raises :class:`~tornadio2.exceptions.BrokerUnavailable` naming the URL
        if the broker cannot be reached (unless ``broker_start_degraded``).
        Without it, a shared broker connects in the background when the
        first session opens. Does nothing for the in-process broker.
        """
        self._broker_started = True
        await self.broker.start(self.rooms.apply)

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
        if self.broker.shared and not self._broker_started:
            self._broker_started = True
            # Nobody awaited start(): connect in the background, as if degraded.
            self._broker_task = asyncio.ensure_future(
                self.broker.start(self.rooms.apply, degraded=True))
        # Once a second; an application that started it itself is not ticked twice.
        self.stats.start()

    def stop(self) -> None:
        """Stop the sweep and stats timers and close every session (for shutdown and tests)."""
        for timer in self._timers:
            timer.stop()
        self._timers = []
        self.stats.stop()
        if self._broker_task is not None:
            self._broker_task.cancel()  # a background start still under way
            self._broker_task = None
        self.broker.stop()
        self._broker_started = False
        for session in list(self.sessions):
            session.close(send_disconnect=False)
        if self._scheduler is not None:
            self._scheduler.close()
            self._scheduler = None

    async def wait_closed(self) -> None:
        """After :meth:`stop`: wait until the broker's connections are closed."""
        await self.broker.wait_closed()

    def expire_sessions(self) -> None:
        """Close every detached session whose expiry time has passed."""
        now = self.scheduler.now()
        for session in self.sessions.expire(now):
            logger.debug("session %s expired", session.sid)
            session.close(send_disconnect=False, reason="expiry")
        self.admission.prune(now)

    def handshake_refusal(self, request: "HTTPServerRequest") -> Optional[str]:
        """Why a handshake may not make a session now (``max_sessions``, ``handshake_rate``).

        ``None`` admits it; otherwise a reason of :data:`~tornadio2.stats.REFUSAL_REASONS`.
        """
        return self.admission.refusal(request.remote_ip or "", len(self.sessions) + self._opening,
                                      self.scheduler.now())

    async def create_session(self, info: ConnectionInfo) -> Optional[Session]:
        """Make a session for a handshake; ``None`` if the application refused it.

        An exception from the application's ``on_open`` propagates.
        """
        session = Session(self.sessions.new_id(), self.connection, info, self.session_config,
                          self.scheduler, self.stats, self.sessions.hooks, self.rooms,
                          server=self)
        self._opening += 1
        try:
            accepted = await session.open()
        finally:
            self._opening -= 1
        if not accepted:
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
        """Take every connection out of ``room``, in every process; how many were here."""
        self.broker.publish(close_room_message(room, endpoint))
        return self.rooms.close_room(room, endpoint)

    def disconnect(self, session_id: str, endpoint: Optional[str] = None) -> bool:
        """Close session ``session_id`` (or its ``endpoint``) in whichever process has it.

        Native ``io.sockets.socket(id).disconnect()``. True if it was in this
        process; otherwise the broker asks the other processes.
        """
        conns = self.rooms.connections(session_id, endpoint)
        if not conns:
            self.broker.publish(disconnect_message(session_id, endpoint))
            return False
        for conn in conns:
            conn.close()
        return True

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
