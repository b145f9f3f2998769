"""The session state machine: one per client, under whichever transport it uses.

This module owns a session's life: the handshake's ``on_open``, transports
attaching and detaching (and the ``websocket_check`` probe), the outbound
queue and its flushes, heartbeats and the missed-heartbeat close, the expiry
deadline of a detached session, closing endpoints and the session itself.
What each client packet does is the inbound half, :mod:`tornadio2.packets`,
which :class:`Session` extends.

It must not import Tornado, the connection classes or the session container:
time comes from an injected :class:`Scheduler`, bytes go through a
:class:`Transport`, the container learns of expiry and ends through
:class:`SessionHooks`, and application code runs through
:mod:`tornadio2.usercode`, whose error policy applies.
"""

import functools
import inspect
import logging
from typing import Any, Callable, Deque, List, Optional

from tornadio2 import proto, usercode
from tornadio2.endpoints import Endpoints, Outlet
from tornadio2.exceptions import ConnectionRejected, SessionClosedError
from tornadio2.packets import HANDLER_NAMES, PacketHandlers, peer_log
from tornadio2.rooms import RoomRegistry
from tornadio2.sessioncompat import SessionNames
from tornadio2.sessiontypes import (
    Connection, ConnectionInfo, Scheduler, SessionConfig, SessionHooks, SessionState, TimerHandle,
    Transport,
)
from tornadio2.stats import NO_TRANSPORT, StatsCollector, utf8_length

__all__ = [
    "SessionState", "ConnectionInfo", "Transport", "Scheduler", "TimerHandle", "Connection",
    "SessionConfig", "SessionHooks", "Session", "NOT_HANDSHAKEN",
]

logger = logging.getLogger("tornadio2.session")

# The states as module globals: the per-packet paths test the state, and
# reading a member off the enum class goes through ``EnumType.__getattr__``.
_NEW, _CONNECTING, _OPEN, _CLOSED = (
    SessionState.NEW, SessionState.CONNECTING, SessionState.OPEN, SessionState.CLOSED)

#: The answer to a transport that names no live session: "client not
#: handshaken", advice "reconnect"; stock clients then handshake again.
NOT_HANDSHAKEN = proto.error(None, "client not handshaken", "reconnect")


class Session(PacketHandlers, SessionNames):
    """One Socket.IO client session, whatever transport carries it.

    Created at handshake time around the application's main connection;
    transports attach and detach, feed it text with :meth:`receive_frame`
    (a socket's frames) or :meth:`receive_frames` (a polling POST's payload)
    and get packets through ``send_messages``.

    ``server`` is whatever made the session, passed in as an opaque object:
    the router (TornadIO2 applications read ``self.session.server.stats``
    and ``.settings``), ``None`` for a session made on its own. The session
    never uses it, so it never depends on the router.
    """

    # Sessions are many, and the per-packet paths read their attributes.
    __slots__ = (
        "sid", "info", "config", "state", "transport", "expires_at", "conn", "rooms", "server",
        "_scheduler", "_stats", "_traffic", "_hooks", "_outlet", "_endpoints", "_queue", "_holding",
        "_heartbeat", "_poll_timer", "_probe_timer", "_queue_bytes", "_backlog", "_backlog_bytes",
        "_on_read",
    )

    def __init__(self, sid: str, conn_class: Callable[["Session", Optional[str]], Connection],
                 info: ConnectionInfo, config: SessionConfig, scheduler: Scheduler,
                 stats: Optional[StatsCollector] = None,
                 hooks: Optional[SessionHooks] = None,
                 rooms: Optional[RoomRegistry] = None, server: Any = None) -> None:
        self.sid = sid
        self.server = server
        self.info = info
        self.config = config
        self.state = _NEW
        self.transport: Optional[Transport] = None
        #: When a detached session expires (``None`` while a transport is attached).
        first_expiry = config.handshake_expiry
        self.expires_at: Optional[float] = scheduler.now() + (
            config.session_expiry if first_expiry is None else first_expiry)
        self._scheduler = scheduler
        # A session made without a router's collector counts into its own.
        self._stats = stats if stats is not None else StatsCollector()
        # The counters of the transport last attached: packets count there.
        self._traffic = self._stats.traffic[NO_TRANSPORT]
        self._hooks = hooks if hooks is not None else SessionHooks()
        #: The rooms its connections join (the router's, shared by every session).
        self.rooms = rooms if rooms is not None else RoomRegistry()
        self._queue: List[str] = [proto.connect()]
        self._queue_bytes = 0  # of the packets queued by send_packet
        self._holding = 0
        self._backlog: Optional[Deque[str]] = None
        self._backlog_bytes = 0
        self._on_read: List[Callable[[], None]] = []
        self._heartbeat: Optional[TimerHandle] = None
        self._poll_timer: Optional[TimerHandle] = None
        self._probe_timer: Optional[TimerHandle] = None
        self._endpoints = Endpoints()
        self._outlet = Outlet(self.send_packet)
        self.conn = conn_class(self, None)

    # -- life cycle -----------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        """True once the session has ended."""
        return self.state is _CLOSED

    async def open(self) -> bool:
        """Run the main connection's ``on_open``; ``False`` means refused.

        Refusing is returning ``False``, raising ``ConnectionRejected`` or
        calling ``close()`` meanwhile. Any other exception propagates: the
        handshake owns that answer (see :mod:`tornadio2.usercode`).
        """
        try:
            accepted = self.conn.on_open(self.info)
            if inspect.isawaitable(accepted):
                accepted = await accepted
        except ConnectionRejected:
            accepted = False
        except Exception:
            self._end_unopened()
            raise
        if accepted is False or self.state is _CLOSED:
            self._end_unopened()
            return False
        self.state = _CONNECTING
        # What endpoints may still need of the request, not all of its headers.
        self.info = self.info.compact()
        self._stats.session_opened()
        self.rooms.enter(self.conn, None, self, self.send_packet)
        return True

    def _end_unopened(self) -> None:
        self.state = _CLOSED
        self._outlet.close()
        self._queue.clear()
        self._queue_bytes = 0

    def outlet_for(self, endpoint: Optional[str]) -> Outlet:
        """The outlet a new connection of ``endpoint`` sends through.

        Asked by the connection as it is made: the main connection's, or
        that of the endpoint being opened; any other is closed.
        """
        if not endpoint:
            return self._outlet
        opening = self._endpoints.opening(endpoint)
        if opening is not None and opening.conn is None:
            return opening.outlet
        outlet = Outlet(self.send_packet)
        outlet.close()
        return outlet

    def attach(self, transport: Transport) -> None:
        """Make ``transport`` the one that carries packets.

        A transport already attached is let go: a polling GET gets a noop,
        a socket is closed. A closed session hands its last packets over,
        or raises :class:`SessionClosedError` when it has none.
        """
        if self.state is _CLOSED:
            self._deliver_last_words(transport)
            return
        self._cancel_timer("_probe_timer")
        previous, self.transport = self.transport, transport
        if previous is not None and previous is not transport:
            self._release(previous)
        self.expires_at = None
        self.state = _OPEN
        if transport.name != self._traffic.transport:
            self._traffic = self._stats.session_moved(self._traffic, transport.name)
        if self._heartbeat is None and (self.config.global_heartbeats or not transport.oneshot):
            self._schedule_heartbeat()
        self.flush()
        if self.transport is transport and transport.oneshot:
            self._poll_timer = self._scheduler.call_later(
                self.config.poll_timeout, functools.partial(self._poll_expired, transport))

    def probe(self, transport: Transport) -> None:
        """Send only a heartbeat down ``transport``; it attaches once the client answers.

        For ``websocket_check``: queued packets are not risked on a socket
        that may not carry data (some proxies accept the upgrade and then
        forward nothing). A client that does not answer within the heartbeat
        timeout has its probe closed; the session waits for another transport.
        """
        self._cancel_timer("_probe_timer")
        self._probe_timer = self._scheduler.call_later(
            self.config.heartbeat_timeout, functools.partial(self._probe_expired, transport))
        transport.send_messages([proto.heartbeat()])

    def _probe_expired(self, transport: Transport) -> None:
        self._probe_timer = None
        if self.transport is not transport:
            logger.info("session %s: no answer to the websocket check; closing the probe",
                        self.sid)
            transport.session_closed()

    def detach(self, transport: Transport) -> None:
        """``transport`` is gone; the session waits for the next one, then expires."""
        if self.transport is transport:
            self.transport = None
            self._cancel_timer("_poll_timer")
            self._start_expiry()

    def _poll_expired(self, transport: Transport) -> None:
        self._poll_timer = None
        if self.transport is transport:
            self._queue.append(proto.noop())
            self.flush()

    def close(self, endpoint: Optional[str] = None, *, send_disconnect: bool = True,
              reason: str = "server") -> None:
        """End the session, or with ``endpoint`` only that endpoint.

        Ending the session, endpoints and main connection get ``on_close``
        once. With ``send_disconnect`` the client is told (``0::``), on the
        attached transport or on the next one that comes within the expiry
        time. Called while the handshake's ``on_open`` runs, it refuses the
        handshake. ``close('/chat')`` is :meth:`disconnect_endpoint`, as in
        TornadIO2. ``reason`` is counted in the stats' ``disconnects`` (see
        :data:`tornadio2.stats.DISCONNECT_REASONS`).
        """
        if endpoint:
            self.disconnect_endpoint(endpoint)
            return
        if self.state is _CLOSED:
            return
        if self.state is _NEW:
            self._end_unopened()
            return
        self.state = _CLOSED
        for name in ("_heartbeat", "_poll_timer", "_probe_timer"):
            self._cancel_timer(name)
        for conn, outlet in self._endpoints.drain():
            self._close_conn(conn, outlet)
        self._close_conn(self.conn, self._outlet)
        self._stats.session_closed(reason, self._traffic)
        if send_disconnect:
            self._queue.append(proto.disconnect())
        transport, self.transport = self.transport, None
        if transport is not None and (not self._flush_to(transport) or not transport.oneshot):
            transport.session_closed()
        if self._queue and send_disconnect and transport is None:
            self._start_expiry()  # keep the last words for the client's next poll
        else:
            self._queue.clear()
            self._queue_bytes = 0
            self._hooks.ended(self)

    def _deliver_last_words(self, transport: Transport) -> None:
        if not self._queue:
            raise SessionClosedError("session %s is closed" % self.sid)
        self._flush_to(transport)
        if not transport.oneshot:
            transport.session_closed()
        self._hooks.ended(self)

    def _start_expiry(self) -> None:
        self.expires_at = self._scheduler.now() + self.config.session_expiry
        self._hooks.expiring(self)

    def _release(self, transport: Transport) -> None:
        self._cancel_timer("_poll_timer")
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
            self._traffic.packets_out += 1
            transport.send_messages((packet,))
            return
        self._queue.append(packet)
        self._queue_bytes += utf8_length(packet)
        if (len(self._queue) > self.config.max_queue_length
                or self._queue_bytes > self.config.max_queue_bytes):
            peer_log.warning("session %s: %d packets (%d bytes) waiting for the client; closing it",
                             self.sid, len(self._queue), self._queue_bytes)
            self._queue.clear()
            self._queue_bytes = 0
            self._stats.queue_overflows += 1
            self.close(reason="queue_overflow")
            return
        if not self._holding:
            self.flush()

    def send_volatile(self, packet: str) -> bool:
        """Send ``packet`` only if the client can take it now; ``False`` if dropped.

        Now means: a transport is attached and has nothing waiting, i.e. a
        polling client has a GET waiting, a socket has written everything
        before. Dropped packets are counted (``stats.volatile_dropped``).
        """
        transport = self.transport
        if (self.state is not _OPEN or transport is None or self._queue
                or transport.busy()):
            self._stats.volatile_dropped += 1
            return False
        self.send_packet(packet)
        return True

    def transport_buffered(self, transport: Transport, unwritten: int) -> None:
        """``transport`` holds ``unwritten`` bytes its client has not taken yet.

        Sockets report it when a write leaves bytes behind. Meanwhile volatile
        packets are dropped (:meth:`send_volatile`); past the
        ``websocket_write_limit`` the session ends, as its client is not reading.
        """
        if (unwritten > self.config.websocket_write_limit and self.transport is transport
                and self.state is not _CLOSED):
            peer_log.warning("session %s: %d bytes written and not taken by the client; "
                             "closing it", self.sid, unwritten)
            self._stats.write_overflows += 1
            self.close(send_disconnect=False, reason="queue_overflow")

    def flush(self) -> None:
        """Hand every queued packet to the attached transport, if any."""
        if self.transport is not None and self._queue:
            self._flush_to(self.transport)

    def _flush_to(self, transport: Transport) -> bool:
        if not self._queue:
            return False
        packets, self._queue = self._queue, []
        self._queue_bytes = 0
        if transport.oneshot and self.transport is transport:
            self.transport = None
            self._cancel_timer("_poll_timer")
            if self.state is not _CLOSED:
                self._start_expiry()
        self._traffic.packets_out += len(packets)
        transport.send_messages(packets)
        return True

    # -- endpoints --------------------------------------------------------------

    def disconnect_endpoint(self, endpoint: str, notify_client: bool = True) -> None:
        """Close one endpoint; the connection and other endpoints go on.

        An endpoint whose ``on_open`` is still running is refused when it returns.
        """
        entry = self._endpoints.remove(endpoint)
        if entry is None:
            opening = self._endpoints.opening(endpoint)
            if opening is not None:
                opening.close_requested = True
            return
        if notify_client:
            self.send_packet(proto.disconnect(endpoint))
        self._close_conn(*entry)

    def get_endpoint(self, endpoint: str) -> Optional[Connection]:
        """The open connection of ``endpoint``, if the client connected it."""
        return self._endpoints.get(endpoint)

    def _close_conn(self, conn: Connection, outlet: Outlet) -> None:
        if not outlet.closed:
            outlet.close()
            self.rooms.leave_all(conn)
            usercode.run(conn.on_close, (), None, self._user_failed)

    @property
    def pending_acks(self) -> int:
        """ACKs the application waits for from the client, over every open connection."""
        if self.state is _CLOSED:
            return 0
        return self.conn.pending_acks + sum(
            conn.pending_acks for conn in self._endpoints.connections().values())

    # -- user code ------------------------------------------------------------

    def _user_failed(self, func: Any, error: BaseException) -> None:
        """The policy of :mod:`tornadio2.usercode`: log once, end the session."""
        usercode.report(error, func, "closing session %s" % self.sid)
        self.close(reason="error")

    # -- timers -------------------------------------------------------------------

    def heartbeat_answered(self) -> None:
        """The client answered a heartbeat: the next one is due an interval from now."""
        if self._heartbeat is not None:
            self._cancel_timer("_heartbeat")
            self._schedule_heartbeat()

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
        self.close(send_disconnect=False, reason="heartbeat_timeout")

    def _cancel_timer(self, slot: str) -> None:
        timer = getattr(self, slot)
        if timer is not None:
            timer.cancel()
            setattr(self, slot, None)


Session._handlers = tuple(getattr(Session, name) for name in HANDLER_NAMES)
