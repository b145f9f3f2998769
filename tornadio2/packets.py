"""What a session does with each packet its client sends.

This module owns the inbound half of the session state machine: reading a
socket's frame or a polling payload, one handler method per packet type
(``_on_<type>``, with the packet's fields as named parameters, found through a
table that a subclass's overrides take part in), endpoints as the client
connects them, and ACKs both ways. :class:`PacketHandlers` is the base of
:class:`~tornadio2.session.Session`, which supplies the life cycle it calls
(``send_packet``, ``close``, ``disconnect_endpoint``, ...).

It must not import Tornado, the connection classes or :mod:`tornadio2.session`.
Application code runs through :mod:`tornadio2.usercode`.
"""

import collections
import functools
import logging
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Tuple

from tornadio2 import proto, usercode
from tornadio2.endpoints import Endpoints, Opening, Outlet
from tornadio2.exceptions import ConnectionRejected, ProtocolError
from tornadio2.peerlog import PeerLog
from tornadio2.rooms import RoomRegistry
from tornadio2.sessiontypes import (
    Connection, ConnectionInfo, Scheduler, SessionConfig, SessionState, Transport,
)
from tornadio2.stats import StatsCollector, Traffic

__all__ = ["PacketHandlers", "HANDLER_NAMES"]

logger = logging.getLogger("tornadio2.session")
#: What the client caused (bad packets, unknown endpoints, floods): rate-limited, values cut short.
peer_log = PeerLog(logger)

#: Handler method of each packet type, by type number.
HANDLER_NAMES = (
    "_on_disconnect", "_on_connect", "_on_heartbeat", "_on_message", "_on_json",
    "_on_event", "_on_ack", "_on_error", "_on_noop",
)

# A module global: the per-packet paths test it, and reading a member off the
# enum class goes through ``EnumType.__getattr__``, several times slower.
_CLOSED = SessionState.CLOSED
_FRAME_SEPARATOR = proto.FRAME_SEPARATOR
# Packet type numbers as plain ints (proto's public names are TornadIO2's strings).
_DISCONNECT, _MESSAGE, _JSON, _EVENT, _ACK = (
    int(proto.PacketType.DISCONNECT), int(proto.PacketType.MESSAGE), int(proto.PacketType.JSON),
    int(proto.PacketType.EVENT), int(proto.PacketType.ACK))
#: Stands for "the packet's text is the message" (a JSON packet passes its decoded data).
_TEXT: Any = object()


class PacketHandlers:
    """The client's packets, each to its handler; the base of every session.

    A subclass may override any ``_on_<type>`` method: the table of handlers
    is rebuilt for each subclass.
    """

    __slots__ = ()

    #: The handler function of each packet type, by type number (see :data:`HANDLER_NAMES`).
    _handlers: Tuple[Callable[..., None], ...] = ()

    # Supplied by the session.
    sid: str
    state: SessionState
    info: ConnectionInfo
    config: SessionConfig
    conn: Connection
    transport: Optional[Transport]
    _scheduler: Scheduler
    _stats: StatsCollector
    _traffic: Traffic
    _endpoints: Endpoints
    rooms: RoomRegistry
    _queue: List[str]
    _holding: int
    #: Packets of payloads received and not yet handled (read a slice per loop
    #: turn); ``None`` while there are none: an empty deque costs 760 bytes a session.
    _backlog: Optional[Deque[str]]
    _backlog_bytes: int
    _on_read: List[Callable[[], None]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = tuple(getattr(cls, name) for name in HANDLER_NAMES)

    def send_packet(self, packet: str) -> None:
        """Send one encoded packet (the session's)."""
        raise NotImplementedError

    def flush(self) -> None:
        """Hand the queued packets to the transport (the session's)."""
        raise NotImplementedError

    def close(self, endpoint: Optional[str] = None, *, send_disconnect: bool = True,
              reason: str = "server") -> None:
        """End the session or one endpoint (the session's)."""
        raise NotImplementedError

    def disconnect_endpoint(self, endpoint: str, notify_client: bool = True) -> None:
        """Close one endpoint (the session's)."""
        raise NotImplementedError

    def heartbeat_answered(self) -> None:
        """The client answered a heartbeat (the session's)."""
        raise NotImplementedError

    def _close_conn(self, conn: Connection, outlet: Outlet) -> None:
        raise NotImplementedError

    def _user_failed(self, func: Any, error: BaseException) -> None:
        raise NotImplementedError

    def receive_frame(self, frame: str) -> bool:
        """Handle one frame a socket read: a packet, or a payload of several.

        A socket needs no holding back of replies (each packet is its own
        frame, see :meth:`send_packet`), so a lone packet goes straight to
        its handler. True when a large payload is still being handled
        (:attr:`reading`): the socket should wait (:meth:`when_read`) before
        it reads the next frame.
        """
        if frame[:1] == _FRAME_SEPARATOR:
            return self.receive_frames(frame) and bool(self._backlog)
        if self.state is not _CLOSED:
            self._traffic.packets_in += 1
            # _receive_packet written out: every socket message comes this way,
            # and the call it saves is some 5 % of the library's time per message.
            try:
                ptype, endpoint, data, message_id, ack_data = proto.parse_packet(frame)
                self._handlers[ptype](self, endpoint, data, message_id, ack_data)
            except ProtocolError as exc:
                self._bad_packet(exc)
        return False

    def receive_frames(self, payload: str) -> bool:
        """Handle a payload of one or more packets; ``False`` if it was refused.

        Replies produced while the payload is handled wait in the queue and go
        out in one flush, so that a polling POST's replies share one response.
        A payload of more than ``payload_slice_packets`` packets is handled a
        slice per turn of the event loop (:attr:`reading` is true meanwhile,
        and later payloads wait their turn); one of more than
        ``max_payload_packets`` closes the session unread.
        """
        if payload[:1] != _FRAME_SEPARATOR:
            frames: Sequence[str] = (payload,)
        else:
            limit = self.config.max_payload_packets
            try:
                frames = proto.decode_frames(payload, limit)
            except ProtocolError as exc:
                self._stats.packets_dropped += 1
                peer_log.warning("session %s: unreadable payload dropped: %s", self.sid, str(exc))
                return False
            if len(frames) > limit:
                self._flood("session %s: a payload of more than %d packets; closing it", limit)
                return False
        if self._backlog or len(frames) > self.config.payload_slice_packets:
            return self._add_to_backlog(frames, len(payload))
        self._traffic.packets_in += len(frames)
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

    @property
    def reading(self) -> bool:
        """True while packets of a large payload wait to be handled."""
        return bool(self._backlog)

    def when_read(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once every payload received so far is handled (or dropped)."""
        if self._backlog:
            self._on_read.append(callback)
        else:
            callback()

    def _add_to_backlog(self, frames: Sequence[str], size: int) -> bool:
        backlog, config = self._backlog, self.config
        if backlog is None:
            backlog = self._backlog = collections.deque()
        if (len(backlog) + len(frames) > config.max_payload_packets
                or self._backlog_bytes + size > config.max_backlog_bytes):
            self._flood("session %s: more than %d packets waiting to be read; closing it",
                        config.max_payload_packets)
            return False
        self._traffic.packets_in += len(frames)
        idle = not backlog
        backlog.extend(frames)
        self._backlog_bytes += size
        if idle:
            self._read_backlog()
        return True

    def _read_backlog(self) -> None:
        """Handle one slice of the backlog; the rest on a later turn of the loop."""
        backlog = self._backlog
        if backlog is None:
            return
        self._holding += 1
        try:
            for _ in range(min(len(backlog), self.config.payload_slice_packets)):
                if self.state is _CLOSED:
                    break
                self._receive_packet(backlog.popleft())
        finally:
            self._holding -= 1
        if self._queue:
            self.flush()
        if backlog and self.state is not _CLOSED:
            self._scheduler.call_later(0, self._read_backlog)
            return
        self._backlog = None
        self._backlog_bytes = 0
        callbacks, self._on_read = self._on_read, []
        for callback in callbacks:
            callback()

    def _flood(self, message: str, limit: int) -> None:
        """The client sent more than its budget: the session ends."""
        if self.state is _CLOSED:
            return  # counted when it closed
        peer_log.warning(message, self.sid, limit)
        self._stats.payloads_refused += 1
        self.close(reason="flood")

    def _receive_packet(self, text: str) -> None:
        try:
            ptype, endpoint, data, message_id, ack_data = proto.parse_packet(text)
            self._handlers[ptype](self, endpoint, data, message_id, ack_data)
        except ProtocolError as exc:
            self._bad_packet(exc)

    def _bad_packet(self, error: ProtocolError) -> None:
        """A packet the client should not have sent: logged, and the session goes on."""
        self._stats.packets_dropped += 1
        peer_log.warning("session %s: ignoring bad packet: %s", self.sid, str(error))

    def _target(self, ptype: int, endpoint: str, data: str, message_id: str,
                ack_data: bool) -> Optional[Connection]:
        """The open connection of ``endpoint``; a packet for one still opening waits."""
        conn = self._endpoints.get(endpoint)
        if conn is None:
            opening = self._endpoints.opening(endpoint)
            if opening is not None:
                opening.waiting.append((ptype, endpoint, data, message_id, ack_data))
                opening.waiting_bytes += len(data)
                if (len(opening.waiting) > self.config.max_queue_length
                        or opening.waiting_bytes > self.config.max_queue_bytes):
                    self._opening_overflow(opening)
            else:
                self._stats.packets_dropped += 1
                peer_log.warning("session %s: packet for unknown endpoint %s", self.sid, endpoint)
        return conn

    def _opening_overflow(self, opening: Opening) -> None:
        peer_log.warning("session %s: %d packets (%d bytes) waiting for an endpoint still "
                         "opening; closing it", self.sid, len(opening.waiting),
                         opening.waiting_bytes)
        opening.waiting.clear()
        self._stats.opening_overflows += 1
        self.close(reason="flood")

    # One handler per packet type; each takes the packet's fields by name.

    def _on_disconnect(self, endpoint: str, data: str, message_id: str, ack_data: bool) -> None:
        if not endpoint:
            # A pending poll gets the client's ``0::`` back, as the native server
            # answers; with none, nobody would ever collect last words: end now.
            self.close(reason="client", send_disconnect=self.transport is not None)
        elif self._endpoints.opening(endpoint) is not None:
            # Handled in turn, once the endpoint has opened.
            self._target(_DISCONNECT, endpoint, data, message_id, ack_data)
        else:
            self.disconnect_endpoint(endpoint, notify_client=False)

    def _on_connect(self, endpoint: str, data: str, message_id: str, ack_data: bool) -> None:
        name, _, query = endpoint.partition("?")
        if not name or name in self._endpoints:
            return
        conn_class = self.conn.get_endpoint(name)
        if conn_class is None:
            self._stats.packets_dropped += 1
            peer_log.warning("session %s: no endpoint %s", self.sid, name)
            return
        query = query or (data[1:] if data.startswith("?") else "")
        info = self.info.with_query(query) if query else self.info
        opening = self._endpoints.begin(name, self.send_packet)
        conn = opening.conn = conn_class(self, name)
        usercode.run(conn.on_open, (info,), functools.partial(self._endpoint_opened, name, opening),
                     functools.partial(self._endpoint_open_failed, name, opening))

    def _endpoint_open_failed(self, name: str, opening: Opening,
                              func: Callable[..., Any], error: BaseException) -> None:
        if isinstance(error, ConnectionRejected):
            self._endpoint_opened(name, opening, False)
        else:
            self._user_failed(func, error)

    def _endpoint_opened(self, name: str, opening: Opening, accepted: Any) -> None:
        if self._endpoints.finish(name) is not opening:
            return  # the session closed meanwhile, and the endpoint with it
        held = opening.outlet.release(self.send_packet)
        if accepted is False or opening.close_requested:
            # Refused: the client hears 7::/chat:2; the connection gets its
            # on_close, as TornadIO2 (which disconnected it) called it.
            self.send_packet(proto.error(name, "unauthorized"))
            self._close_conn(opening.conn, opening.outlet)
            return
        self._endpoints.add(name, opening)
        self.rooms.enter(opening.conn, name, self, self.send_packet)
        self.send_packet(proto.connect(name))
        for packet in held:
            self.send_packet(packet)
        for ptype, *fields in opening.waiting:
            self._handlers[ptype](self, *fields)

    def _on_heartbeat(self, endpoint: str, data: str, message_id: str, ack_data: bool) -> None:
        self.heartbeat_answered()

    def _on_message(self, endpoint: str, data: str, message_id: str, ack_data: bool,
                    message: Any = _TEXT) -> None:
        if not endpoint:
            conn: Optional[Connection] = self.conn
        else:
            ptype = _MESSAGE if message is _TEXT else _JSON
            conn = self._target(ptype, endpoint, data, message_id, ack_data)
            if conn is None:
                return
        if message is _TEXT:
            message = data
        if message_id:
            if ack_data:
                usercode.run(conn.on_message, (message,),
                             self._ack_sender(endpoint, message_id), self._user_failed)
                return
            self._auto_ack(endpoint, message_id)
        # usercode.run written out: every message comes this way, and the
        # call it saves shows in the websocket echo benchmark.
        try:
            result = conn.on_message(message)
        except Exception as exc:
            self._user_failed(conn.on_message, exc)
            return
        if result is not None:
            usercode.follow(conn.on_message, result, None, self._user_failed)

    def _on_json(self, endpoint: str, data: str, message_id: str, ack_data: bool) -> None:
        self._on_message(endpoint, data, message_id, ack_data, proto.decode_json(data))

    def _on_event(self, endpoint: str, data: str, message_id: str, ack_data: bool) -> None:
        name, args = proto.decode_event(data)
        conn = self._target(_EVENT, endpoint, data, message_id, ack_data) \
            if endpoint else self.conn
        if conn is None:
            return
        if message_id and not ack_data:
            self._auto_ack(endpoint, message_id)
        # TornadIO2's rule: exactly one object argument becomes keyword arguments.
        call: Tuple[str, List[Any], Dict[str, Any]]
        if len(args) == 1 and isinstance(args[0], dict):
            call = (name, [], args[0])
        else:
            call = (name, args, {})
        usercode.run(conn.on_event, call,
                     self._ack_sender(endpoint, message_id) if ack_data else None,
                     self._user_failed)

    def _on_ack(self, endpoint: str, data: str, message_id: str, ack_data: bool) -> None:
        ack_id, args = proto.decode_ack(data)
        conn = self._target(_ACK, endpoint, data, message_id, ack_data) \
            if endpoint else self.conn
        if conn is not None:
            usercode.run(conn.deque_ack, (ack_id, args), None, self._user_failed)

    def _on_error(self, endpoint: str, data: str, message_id: str, ack_data: bool) -> None:
        peer_log.info("session %s: client reported error %s on endpoint %s",
                      self.sid, data, endpoint)

    def _on_noop(self, endpoint: str, data: str, message_id: str, ack_data: bool) -> None:
        pass

    # -- ACKs -----------------------------------------------------------------

    def _auto_ack(self, endpoint: str, message_id: str) -> None:
        # A plain id asks for an acknowledgement the server gives by itself,
        # before the application sees the packet (as the native server does).
        self.send_packet(proto.ack(endpoint, message_id))

    def _ack_sender(self, endpoint: str, message_id: str) -> Callable[[Any], None]:
        """What sends the application's answer to a ``+`` id back to the client."""
        return functools.partial(self._send_ack, endpoint, message_id)

    def _send_ack(self, endpoint: str, message_id: str, result: Any) -> None:
        try:
            packet = proto.ack(endpoint, message_id, result)
        except (TypeError, ValueError) as exc:  # the application's result is not JSON
            self._user_failed("the ACK result for message %s" % message_id, exc)
            return
        self.send_packet(packet)

