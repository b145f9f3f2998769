"""The session state machine: one per client, under whichever transport it uses.

This module owns everything a session does between the handshake and its end:
the outbound queue and its flushes to the attached transport, heartbeats and
the missed-heartbeat close, the expiry deadline of a detached session, endpoint
multiplexing, ACKs in both directions, and the one guard through which user
code runs. It must not import Tornado: time comes from an injected
:class:`Scheduler`, bytes come and go through a :class:`Transport`.
"""

import asyncio
import enum
import functools
import inspect
import logging
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple,
    Type,
)
from urllib.parse import parse_qs

from tornadio2 import proto
from tornadio2.exceptions import ConnectionRejected, ProtocolError
from tornadio2.stats import StatsCollector

if TYPE_CHECKING:  # pragma: no cover - imported for annotations only
    from tornadio2.conn import SocketConnection
    from tornadio2.sessioncontainer import SessionContainer

__all__ = [
    "SessionState", "ConnectionInfo", "Transport", "Scheduler", "TimerHandle",
    "SessionConfig", "Session", "NOT_HANDSHAKEN",
]

logger = logging.getLogger("tornadio2.session")


class SessionState(enum.Enum):
    """Where a session stands in its life."""

    CONNECTING = "connecting"  #: Handshaken; no transport has attached yet.
    OPEN = "open"  #: A transport has attached; packets flow.
    CLOSED = "closed"  #: Ended; the session only delivers its last packets, if any.


# The states as module globals: in Python 3.11 reading a member off the enum
# class goes through ``EnumType.__getattr__``, several times slower, and the
# per-packet paths test the state.
_CONNECTING, _OPEN, _CLOSED = SessionState.CONNECTING, SessionState.OPEN, SessionState.CLOSED
_FRAME_SEPARATOR = proto.FRAME_SEPARATOR


class TimerHandle(Protocol):
    """A pending call that can be cancelled."""

    def cancel(self) -> None:
        """Forget the call; harmless if it already ran."""


class Scheduler(Protocol):
    """The clock sessions use; :mod:`tornadio2.periodic` provides the real one."""

    def now(self) -> float:
        """The current time in seconds, on a monotonic clock."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` once, ``delay`` seconds from now; the handle cancels it."""


class Transport(Protocol):
    """What a transport handler offers the session.

    ``oneshot`` transports (the polling GETs) take one batch of packets and
    are then detached; the others stay attached and get heartbeats.
    """

    name: str
    oneshot: bool

    def send_messages(self, packets: Sequence[str]) -> None:
        """Deliver encoded packets to the client, in order."""

    def session_closed(self) -> None:
        """The session has ended: finish the response or close the socket."""


#: The answer to a transport that names no live session: "client not
#: handshaken", advice "reconnect"; stock clients then handshake again.
NOT_HANDSHAKEN = proto.error(None, "client not handshaken", "reconnect")

#: Stands for "the packet's own text" where a decoded message may be passed.
_UNDECODED: Any = object()


class ConnectionInfo:
    """What the handshake request told about the client.

    ``arguments`` maps query names to lists of values and ``cookies`` is a
    :class:`http.cookies.SimpleCookie`; endpoints see the handshake's
    arguments and cookies, since the 0.9 client sends none of its own.
    """

    __slots__ = ("ip", "arguments", "cookies", "headers", "path")

    def __init__(self, ip: str, arguments: Mapping[str, List[str]], cookies: Any,
                 headers: Optional[Mapping[str, str]] = None, path: str = "") -> None:
        self.ip = ip
        self.arguments = arguments
        self.cookies = cookies
        self.headers = headers if headers is not None else {}
        self.path = path

    def get_argument(self, name: str) -> Optional[str]:
        """The first value of query argument ``name``, or ``None``."""
        values = self.arguments.get(name)
        return values[0] if values else None

    def get_cookie(self, name: str) -> Any:
        """The cookie ``name`` (a ``Morsel``), or ``None``."""
        return self.cookies.get(name) if self.cookies is not None else None

    def with_query(self, query: str) -> "ConnectionInfo":
        """A copy whose arguments also hold the pairs of ``query``."""
        arguments = {name: list(values) for name, values in self.arguments.items()}
        for name, values in parse_qs(query, keep_blank_values=True).items():
            arguments.setdefault(name, []).extend(values)
        return ConnectionInfo(self.ip, arguments, self.cookies, self.headers, self.path)


@dataclass(frozen=True)
class SessionConfig:
    """The timings and limits a session follows, derived from router settings."""

    heartbeat_interval: float = 12
    heartbeat_timeout: float = 17  # how long the client has to answer a heartbeat
    global_heartbeats: bool = True
    session_expiry: float = 30
    poll_timeout: float = 20  # how long a polling GET is held before a noop
    max_queue_length: int = 10000


class Session:
    """One Socket.IO client session, whatever transport carries it.

    Created at handshake time around the application's main connection;
    transports attach and detach, feed it text with :meth:`receive_frame`
    (a socket's frames) or :meth:`receive_frames` (a polling POST's payload)
    and get packets through ``send_messages``.
    """

    # Sessions are many, and the per-packet paths read their attributes.
    __slots__ = (
        "sid", "info", "config", "state", "transport", "expires_at", "expiry_scheduled",
        "conn", "_scheduler", "_stats", "_container", "_queue", "_holding", "_heartbeat",
        "_poll_timer", "_endpoints", "_opening",
    )

    def __init__(self, sid: str, conn_class: Type["SocketConnection"], info: ConnectionInfo,
                 config: SessionConfig, scheduler: Scheduler,
                 stats: Optional["StatsCollector"] = None,
                 container: Optional["SessionContainer"] = None) -> None:
        self.sid = sid
        self.info = info
        self.config = config
        self.state = _CONNECTING
        self.transport: Optional[Transport] = None
        #: When a detached session expires (``None`` while a transport is attached).
        self.expires_at: Optional[float] = scheduler.now() + config.session_expiry
        self.expiry_scheduled = False  # owned by the container
        self._scheduler = scheduler
        # A session made without a router's collector counts into its own.
        self._stats = stats if stats is not None else StatsCollector()
        self._container = container
        self._queue: List[str] = [proto.connect()]
        self._holding = 0
        self._heartbeat: Optional[TimerHandle] = None
        self._poll_timer: Optional[TimerHandle] = None
        self._endpoints: Dict[str, "SocketConnection"] = {}
        self._opening: Dict[str, List[proto.PacketFields]] = {}
        self.conn = conn_class(self, None)

    # -- life cycle -----------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        """True once the session has ended."""
        return self.state is _CLOSED

    async def open(self) -> bool:
        """Run the main connection's ``on_open``; ``False`` means refused.

        Exceptions from ``on_open`` propagate: the handshake turns them into
        its HTTP answer.
        """
        try:
            accepted = self.conn.on_open(self.info)
            if inspect.isawaitable(accepted):
                accepted = await accepted
        except ConnectionRejected:
            accepted = False
        if accepted is False:
            self.state = _CLOSED
            self.conn._mark_closed()
            return False
        self._stats.session_opened()
        return True

    def attach(self, transport: Transport) -> bool:
        """Make ``transport`` the one that carries packets; ``False`` if unknown.

        A transport already attached is let go: a polling GET gets a noop,
        a socket is closed.
        """
        if self.state is _CLOSED:
            return self._deliver_last_words(transport)
        previous, self.transport = self.transport, transport
        if previous is not None and previous is not transport:
            self._release(previous)
        self.expires_at = None
        if self.state is _CONNECTING:
            self.state = _OPEN
        if self._heartbeat is None and (self.config.global_heartbeats or not transport.oneshot):
            self._schedule_heartbeat()
        self.flush()
        if self.transport is transport and transport.oneshot:
            self._poll_timer = self._scheduler.call_later(
                self.config.poll_timeout, functools.partial(self._poll_expired, transport))
        return True

    def probe(self, transport: Transport) -> None:
        """Send only a heartbeat down ``transport``; attach it once the client answers.

        For ``websocket_check``: queued packets are not risked on a socket
        that may not carry data (some proxies accept the upgrade and then
        forward nothing); the client's answer proves it does.
        """
        transport.send_messages([proto.heartbeat()])

    def detach(self, transport: Transport) -> None:
        """``transport`` is gone; the session waits for the next one, then expires."""
        if self.transport is transport:
            self.transport = None
            self._cancel_poll_timer()
            self._start_expiry()

    def _poll_expired(self, transport: Transport) -> None:
        self._poll_timer = None
        if self.transport is transport:
            self._queue.append(proto.noop())
            self.flush()

    def close(self, send_disconnect: bool = True) -> None:
        """End the session: endpoints and main connection get ``on_close`` once.

        With ``send_disconnect`` the client is told (``0::``), on the attached
        transport or on the next one that comes within the expiry time.
        """
        if self.state is _CLOSED:
            return
        self.state = _CLOSED
        self._cancel_heartbeat()
        self._cancel_poll_timer()
        self._opening.clear()
        for endpoint in list(self._endpoints):
            self._close_conn(self._endpoints.pop(endpoint))
        self._close_conn(self.conn)
        self._stats.session_closed()
        if send_disconnect:
            self._queue.append(proto.disconnect())
        transport = self.transport
        if transport is not None:
            self.transport = None
            if not self._flush_to(transport) or not transport.oneshot:
                transport.session_closed()
        if self._queue and send_disconnect and transport is None:
            self._start_expiry()  # keep the last words for the client's next poll
        else:
            self._queue.clear()
            self._forget()

    def _deliver_last_words(self, transport: Transport) -> bool:
        if not self._queue:
            return False
        self._flush_to(transport)
        if not transport.oneshot:
            transport.session_closed()
        self._forget()
        return True

    def _forget(self) -> None:
        if self._container is not None:
            self._container.remove(self.sid)

    def _start_expiry(self) -> None:
        self.expires_at = self._scheduler.now() + self.config.session_expiry
        if self._container is not None:
            self._container.schedule_expiry(self)

    def _release(self, transport: Transport) -> None:
        self._cancel_poll_timer()
        if transport.oneshot:
            transport.send_messages([proto.noop()])
        else:
            transport.session_closed()

    # -- outbound ---------------------------------------------------------------

    def send_packet(self, packet: str) -> None:
        """Send one encoded packet, or queue it until a transport can take it.

        On a socket with nothing waiting the packet goes straight out: every
        packet is its own frame there, so there is nothing to batch. Otherwise
        it is queued, and flushed at once unless a payload is being read.
        """
        if self.state is _CLOSED:
            logger.debug("session %s closed; dropping %.80s", self.sid, packet)
            return
        transport = self.transport
        if transport is not None and not self._queue and not transport.oneshot:
            self._stats.packets_sent_total += 1
            transport.send_messages((packet,))
            return
        self._queue.append(packet)
        if len(self._queue) > self.config.max_queue_length:
            logger.warning("session %s: %d packets waiting for the client; closing it",
                           self.sid, len(self._queue))
            self._queue.clear()
            self.close()
            return
        if not self._holding:
            self.flush()

    def flush(self) -> None:
        """Hand every queued packet to the attached transport, if any."""
        if self.transport is not None and self._queue:
            self._flush_to(self.transport)

    def _flush_to(self, transport: Transport) -> bool:
        if not self._queue:
            return False
        packets, self._queue = self._queue, []
        if transport.oneshot and self.transport is transport:
            self.transport = None
            self._cancel_poll_timer()
            if self.state is not _CLOSED:
                self._start_expiry()
        self._stats.packets_sent_total += len(packets)
        transport.send_messages(packets)
        return True

    # -- inbound ----------------------------------------------------------------

    def receive_frame(self, frame: str) -> None:
        """Handle one frame a socket read: a packet, or a payload of several.

        A socket needs no holding back of replies (each packet is its own
        frame, see :meth:`send_packet`), so a lone packet goes straight to
        its handler.
        """
        if frame[:1] == _FRAME_SEPARATOR:
            self.receive_frames(frame)
        elif self.state is not _CLOSED:
            self._stats.packets_recv_total += 1
            # _receive_packet, written out: one call less on every socket message.
            try:
                packet = proto.parse_packet(frame)
                _DISPATCH[packet[0]](self, packet)  # by type
            except ProtocolError as exc:
                logger.warning("session %s: ignoring bad packet: %s", self.sid, exc)

    def receive_frames(self, payload: str) -> bool:
        """Handle a payload of one or more packets; ``False`` if it was unreadable.

        Replies produced while the payload is handled wait in the queue and go
        out in one flush, so that a polling POST's replies share one response.
        """
        if payload[:1] != _FRAME_SEPARATOR:
            frames: Sequence[str] = (payload,)
        else:
            try:
                frames = proto.decode_frames(payload)
            except ProtocolError as exc:
                logger.warning("session %s: unreadable payload dropped: %s", self.sid, exc)
                return False
        self._stats.packets_recv_total += len(frames)
        self._holding += 1
        try:
            for frame in frames:
                if self.state is _CLOSED:
                    break
                self._receive_packet(frame)
        finally:
            self._holding -= 1
        if self._queue:
            self.flush()
        return True

    def _receive_packet(self, text: str) -> None:
        try:
            packet = proto.parse_packet(text)
            _DISPATCH[packet[0]](self, packet)  # by type
        except ProtocolError as exc:
            logger.warning("session %s: ignoring bad packet: %s", self.sid, exc)

    def _target(self, endpoint: str, packet: proto.PacketFields) -> Optional["SocketConnection"]:
        """The connection ``packet`` is for; a packet for an endpoint still opening waits."""
        if not endpoint:
            return self.conn
        conn = self._endpoints.get(endpoint)
        if conn is None:
            waiting = self._opening.get(endpoint)
            if waiting is not None:
                waiting.append(packet)
            else:
                logger.warning("session %s: packet for unknown endpoint %r", self.sid, endpoint)
        return conn

    # The handlers below take the plain tuple of proto.parse_packet and unpack
    # what they need: (type, endpoint, data, id, ack_data).

    def _on_disconnect(self, packet: proto.PacketFields) -> None:
        endpoint = packet[1]
        if endpoint:
            self.disconnect_endpoint(endpoint, notify_client=False)
        else:
            self.close()

    def _on_connect(self, packet: proto.PacketFields) -> None:
        _, target, data, _, _ = packet
        endpoint, _, query = target.partition("?")
        if not endpoint or endpoint in self._endpoints or endpoint in self._opening:
            return
        conn_class = self.conn.get_endpoint(endpoint)
        if conn_class is None:
            logger.warning("session %s: no endpoint %r", self.sid, endpoint)
            return
        query = query or (data[1:] if data.startswith("?") else "")
        info = self.info.with_query(query) if query else self.info
        conn = conn_class(self, endpoint)
        conn._hold()
        self._opening[endpoint] = []
        self._call_user(conn, conn.on_open, (info,),
                        functools.partial(self._endpoint_opened, endpoint, conn))

    def _endpoint_opened(self, endpoint: str, conn: "SocketConnection", accepted: Any) -> None:
        waiting = self._opening.pop(endpoint, None)
        held = conn._release_held()
        if waiting is None or self.state is _CLOSED:
            return
        if accepted is False:
            conn._mark_closed()
            self.send_packet(proto.error(endpoint, "unauthorized"))
            return
        self._endpoints[endpoint] = conn
        self.send_packet(proto.connect(endpoint))
        for sent in held:
            self.send_packet(sent)
        for packet in waiting:
            _DISPATCH[packet[0]](self, packet)

    def _on_heartbeat(self, packet: proto.PacketFields) -> None:
        if self._heartbeat is not None:
            self._cancel_heartbeat()
            self._schedule_heartbeat()

    def _on_message(self, packet: proto.PacketFields, message: Any = _UNDECODED) -> None:
        _, endpoint, data, message_id, ack_data = packet
        conn = self._target(endpoint, packet) if endpoint else self.conn
        if conn is None:
            return
        if message is _UNDECODED:
            message = data
        if message_id:
            if ack_data:
                self._call_user(conn, conn.on_message, (message,),
                                self._ack_sender(endpoint, message_id))
                return
            self._auto_ack(endpoint, message_id)
        # _call_user's guard, written out: this is the path of every message.
        try:
            result = conn.on_message(message)
        except Exception as exc:
            self._user_raised(conn, conn.on_message, exc, None)
            return
        if result is not None:
            self._user_returned(conn, conn.on_message, result, None)

    def _on_json(self, packet: proto.PacketFields) -> None:
        self._on_message(packet, proto.decode_json(packet[2]))

    def _on_event(self, packet: proto.PacketFields) -> None:
        _, endpoint, data, message_id, ack_data = packet
        name, args = proto.decode_event(data)
        conn = self._target(endpoint, packet)
        if conn is None:
            return
        if message_id and not ack_data:
            self._auto_ack(endpoint, message_id)
        # TornadIO2's rule: exactly one object argument becomes keyword arguments.
        call_args: Tuple[str, List[Any], Dict[str, Any]]
        if len(args) == 1 and isinstance(args[0], dict):
            call_args = (name, [], args[0])
        else:
            call_args = (name, args, {})
        self._call_user(conn, conn.on_event, call_args,
                        self._ack_sender(endpoint, message_id) if ack_data else None)

    def _on_ack(self, packet: proto.PacketFields) -> None:
        _, endpoint, data, _, _ = packet
        ack_id, args = proto.decode_ack(data)
        conn = self._target(endpoint, packet)
        if conn is not None:
            self._call_user(conn, conn.deque_ack, (ack_id, args))

    def _on_error(self, packet: proto.PacketFields) -> None:
        _, endpoint, data, _, _ = packet
        logger.info("session %s: client reported error %r on endpoint %r",
                    self.sid, data, endpoint)

    def _on_noop(self, packet: proto.PacketFields) -> None:
        pass

    # -- endpoints --------------------------------------------------------------

    def disconnect_endpoint(self, endpoint: str, notify_client: bool = True) -> None:
        """Close one endpoint; the connection and other endpoints go on."""
        conn = self._endpoints.pop(endpoint, None)
        if conn is None:
            return
        if notify_client:
            self.send_packet(proto.disconnect(endpoint))
        self._close_conn(conn)

    def get_endpoint(self, endpoint: str) -> Optional["SocketConnection"]:
        """The open connection of ``endpoint``, if the client connected it."""
        return self._endpoints.get(endpoint)

    def _close_conn(self, conn: "SocketConnection") -> None:
        if not conn.is_closed:
            conn._mark_closed()
            self._call_user(conn, conn.on_close, ())

    # -- user code --------------------------------------------------------------

    def _auto_ack(self, endpoint: str, message_id: str) -> None:
        # A plain id asks for an acknowledgement the server gives by itself,
        # before the application sees the packet (as the native server does).
        self.send_packet(proto.ack(endpoint, message_id))

    def _ack_sender(self, endpoint: str, message_id: str) -> Callable[[Any], None]:
        """What sends the application's answer to a ``+`` id back to the client."""
        return functools.partial(self._send_ack, endpoint, message_id)

    def _send_ack(self, endpoint: str, message_id: str, result: Any) -> None:
        self.send_packet(proto.ack(endpoint, message_id, result))

    def _call_user(self, conn: "SocketConnection", func: Callable[..., Any], args: tuple,
                   then: Optional[Callable[[Any], None]] = None) -> None:
        """Run application code; its result (awaited if need be) goes to ``then``.

        An exception is logged with its traceback and ends the session: the
        server goes on, the client is told it was disconnected.
        """
        try:
            result = func(*args)
        except Exception as exc:
            self._user_raised(conn, func, exc, then)
            return
        if result is not None or then is not None:
            self._user_returned(conn, func, result, then)

    def _user_raised(self, conn: "SocketConnection", func: Callable[..., Any],
                     error: BaseException, then: Optional[Callable[[Any], None]]) -> None:
        """``func`` raised ``error``: a refusal goes to ``then``, anything else ends the session."""
        if isinstance(error, ConnectionRejected):
            if then is not None:
                then(False)  # an endpoint's on_open refused
            return
        logger.error("error in %s.%s; closing session %s", type(conn).__name__,
                     getattr(func, "__name__", func), self.sid, exc_info=error)
        self.close()

    def _user_returned(self, conn: "SocketConnection", func: Callable[..., Any], result: Any,
                       then: Optional[Callable[[Any], None]]) -> None:
        """``func`` returned ``result``: await it if need be, then hand it to ``then``."""
        if result is not None and inspect.isawaitable(result):
            future = asyncio.ensure_future(result)
            future.add_done_callback(functools.partial(self._user_done, conn, func, then))
        elif then is not None:
            then(result)

    def _user_done(self, conn: "SocketConnection", func: Callable[..., Any],
                   then: Optional[Callable[[Any], None]], future: "asyncio.Future[Any]") -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            self._user_raised(conn, func, error, then)
        elif then is not None and self.state is not _CLOSED:
            then(future.result())

    # -- heartbeats ---------------------------------------------------------------

    def _schedule_heartbeat(self) -> None:
        self._heartbeat = self._scheduler.call_later(
            self.config.heartbeat_interval, self._send_heartbeat)

    def _send_heartbeat(self) -> None:
        self._heartbeat = self._scheduler.call_later(
            self.config.heartbeat_timeout, self._heartbeat_missed)
        self.send_packet(proto.heartbeat())

    def _heartbeat_missed(self) -> None:
        self._heartbeat = None
        logger.info("session %s: no heartbeat from the client; closing", self.sid)
        self.close(send_disconnect=False)

    def _cancel_poll_timer(self) -> None:
        if self._poll_timer is not None:
            self._poll_timer.cancel()
            self._poll_timer = None

    def _cancel_heartbeat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None


#: The handler of each packet type (a module global: one lookup per packet).
_DISPATCH: Dict[int, Callable[[Session, proto.PacketFields], None]] = {
    proto.DISCONNECT: Session._on_disconnect,
    proto.CONNECT: Session._on_connect,
    proto.HEARTBEAT: Session._on_heartbeat,
    proto.MESSAGE: Session._on_message,
    proto.JSON: Session._on_json,
    proto.EVENT: Session._on_event,
    proto.ACK: Session._on_ack,
    proto.ERROR: Session._on_error,
    proto.NOOP: Session._on_noop,
}
