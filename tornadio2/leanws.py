"""The lean websocket path: Tornado upgrades, then our own RFC 6455 loop moves bytes.

Tornado still parses the HTTP request, routes it and checks its origin and
upgrade headers. :class:`LeanUpgrade` then answers the handshake itself,
takes the socket away from Tornado (a duplicate of its file descriptor; the
request, its headers and the HTTP connection are let go) and hands it to
:class:`LeanWebSocket`, which reads and writes it from an IOLoop handler of
its own: one ``recv`` per readable event, frames read with
:class:`tornadio2.wsframe.FrameParser`, the frames written during one turn
of the event loop sent with one ``send``, no future per frame. (The socket
is registered with Tornado's IOLoop, not as an asyncio transport, so that
``IOLoop.close(all_fds=True)`` closes it like any other.)

:class:`LeanWebSocket` talks to the session as
:class:`~tornadio2.persistent.TornadioWebSocketHandler` does (same counters,
``websocket_check`` probe, heartbeats left to the session) and reports the
bytes the client has not read yet to :meth:`Session.transport_buffered
<tornadio2.session.Session.transport_buffered>`, which decides. When the
session ends, the close frame goes out and the socket waits for the client's
close frame (at most :data:`CLOSE_WAIT` seconds) before it closes, as
Tornado's handler does. A TLS socket cannot be taken this way, so ``wss``
stays on Tornado's handler.
"""

import logging
import socket
from typing import TYPE_CHECKING, Any, List, Optional, Sequence

from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.iostream import SSLIOStream, StreamClosedError
from tornado.websocket import WebSocketProtocol13

from tornadio2 import wsframe
from tornadio2.periodic import Timeout
from tornadio2.preflight import Server
from tornadio2.proto import to_utf8
from tornadio2.session import NOT_HANDSHAKEN, Session
from tornadio2.socketside import SessionSocket
from tornadio2.stats import Traffic

try:
    from tornado.speedups import websocket_mask as _mask
except ImportError:  # pragma: no cover - Tornado built without its C extension
    _mask = wsframe.mask_python

if TYPE_CHECKING:  # pragma: no cover - imported for annotations only
    from tornado.web import RequestHandler

__all__ = ["LeanUpgrade", "LeanWebSocket", "can_take", "CLOSE_WAIT"]

logger = logging.getLogger("tornadio2.leanws")

_RESPONSE = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
             b"Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n")


def can_take(handler: "RequestHandler") -> bool:
    """Whether the lean path can serve this upgrade (RFC 6455 version 13, no TLS)."""
    request = handler.request
    if request.headers.get("Sec-WebSocket-Version") != "13":
        return False
    stream = getattr(request.connection, "stream", None)
    return stream is not None and not isinstance(stream, SSLIOStream)


class LeanUpgrade:
    """Stands in for Tornado's ``WebSocketProtocol13`` during the upgrade only."""

    def __init__(self, server: Server, name: str) -> None:
        self.server = server
        self.name = name

    async def accept_connection(self, handler: Any) -> None:
        """Answer the upgrade, take the socket and start the frame loop."""
        handler.ws_connection = None  # the handler is done once this returns
        request = handler.request
        key = request.headers.get("Sec-WebSocket-Key")
        if not key or not request.headers.get("Host"):
            handler.set_status(400)
            handler.finish("Missing/Invalid WebSocket headers")
            return
        session_id = handler.open_kwargs.get("session_id", "")
        session = self.server.session_for(session_id, request)
        accept = WebSocketProtocol13.compute_accept_value(key).encode("ascii")
        stream = handler.detach()
        early = stream.read_bytes(65536, partial=True)  # bytes Tornado read past the request
        head = early.result() if early.done() else b""
        early.add_done_callback(_consume_error)
        try:
            sock = stream.socket.dup()
        except OSError as exc:
            logger.debug("lost an upgraded socket before it was served: %s", exc)
            return
        finally:
            stream.close()
        LeanWebSocket(self.server, self.name, sock).start(_RESPONSE % accept, session, head)
        # The access-log line Tornado's handler writes when it accepts an upgrade.
        handler.set_status(101)
        handler.application.log_request(handler)


def _consume_error(future: "Future[bytes]") -> None:
    # The read of early bytes ends with the stream Tornado no longer owns.
    error = None if future.cancelled() else future.exception()
    if error is not None and not isinstance(error, StreamClosedError):
        logger.error("reading early websocket bytes failed", exc_info=error)


_READ = IOLoop.READ

#: Seconds a socket whose close frame went out waits for the client's close
#: frame (or its end of the connection) before it is closed anyway.
CLOSE_WAIT = 5.0


class LeanWebSocket(SessionSocket):
    """One upgraded socket: frames in to the session, packets out as text frames."""

    __slots__ = ("name", "oneshot", "session", "_server", "_sock", "_io_loop", "_parser", "_out",
                 "_pending", "_flush_scheduled", "_reading", "_probing", "_counted", "_bytes",
                 "_closing", "_write_limit", "_held", "_close_timer")

    def __init__(self, server: Server, name: str, sock: socket.socket) -> None:
        self.name = name
        self.oneshot = False
        self.session: Optional[Session] = None
        self._server = server
        self._sock: Optional[socket.socket] = sock
        self._io_loop = IOLoop.current()
        settings = server.settings
        self._parser = wsframe.FrameParser(int(settings["max_message_size"]), _mask)
        self._write_limit = int(settings["websocket_write_limit"])
        self._out: List[bytes] = []
        self._pending = bytearray()  # what the kernel did not take yet
        self._flush_scheduled = False
        self._reading = False
        self._probing = False
        self._counted = False
        self._closing = False
        self._bytes: Optional[Traffic] = None
        # Messages read while the session was still handling a large payload:
        # reading waits until it is done (Session.when_read), so order is kept.
        self._held: Optional[List[Any]] = None
        self._close_timer: Optional[Timeout] = None

    def start(self, response: bytes, session: Optional[Session], head: bytes) -> None:
        """Send the 101 answer, join the session and read what came with the request."""
        sock = self._sock
        assert sock is not None
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._io_loop.add_handler(sock, self._on_events, _READ)
        self._out.append(response)
        stats = self._server.stats
        stats.connection_opened(self.name)
        self._counted = True
        self._bytes = stats.bytes_for(self.name)
        if session is None:
            self._not_handshaken()
            return
        self.session = session
        if self._server.settings["websocket_check"]:
            self._probing = True
            session.probe(self)
        else:
            self._attach(session)
        if head:
            self._data_received(head)
        else:
            self._flush()

    # -- socket events ----------------------------------------------------------

    def _on_events(self, sock: socket.socket, events: int) -> None:
        if events & IOLoop.WRITE:
            self._write_pending()
        if events & IOLoop.READ and self._sock is not None:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if data:
                self._data_received(data)
            else:
                self._connection_lost()

    def _data_received(self, data: bytes) -> None:
        parser = self._parser
        messages = parser.feed(data)
        if self._closing:
            # Our close frame is out: only the client's close is awaited now.
            parser.outgoing.clear()
            if parser.closed:
                self._connection_lost()
            return
        if parser.outgoing and not parser.closed:  # pongs first, as the pings came first
            self._out.extend(parser.outgoing)
            parser.outgoing.clear()
        self._deliver(messages)
        if self._closing:
            parser.outgoing.clear()  # the session closed: nothing may follow its close frame
        elif parser.outgoing:
            self._out.extend(parser.outgoing)
            parser.outgoing.clear()
        self._flush()
        if parser.closed:
            self._close_socket()

    def _deliver(self, messages: List[Any]) -> None:
        self._reading = True
        try:
            for index, message in enumerate(messages):
                if self._hand_over(message) is not None and self.session is not None:
                    self._hold(messages[index + 1:], self.session)
                    break
        finally:
            self._reading = False

    def _hold(self, rest: List[Any], session: Session) -> None:
        """Stop reading until the session has handled its backlog."""
        self._held = rest
        if self._sock is not None:
            self._io_loop.update_handler(self._sock, self._wanted_events())
        session.when_read(self._resume)

    def _resume(self) -> None:
        held, self._held = self._held or [], None
        self._deliver(held)
        self._flush()
        if self._held is None and self._sock is not None:
            self._io_loop.update_handler(self._sock, self._wanted_events())

    def _wanted_events(self) -> int:
        reading = 0 if self._held is not None else _READ
        return reading | (IOLoop.WRITE if self._pending else 0)

    def _connection_lost(self) -> None:
        self._closing = True
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        sock, self._sock = self._sock, None
        if sock is not None:
            self._io_loop.remove_handler(sock)
            sock.close()
        self._out.clear()
        self._pending = bytearray()
        if self._counted:
            self._counted = False
            self._server.stats.connection_closed(self.name)
        session, self.session = self.session, None
        # A socket still being probed (websocket_check) was never attached.
        if session is not None and session.transport is self:
            session.detach(self)
            session.close(send_disconnect=False, reason="client")

    # -- the session side --------------------------------------------------------

    def _not_handshaken(self) -> None:
        self.send_messages([NOT_HANDSHAKEN])
        self.session_closed()

    # -- Transport -----------------------------------------------------------------

    def send_messages(self, packets: Sequence[str]) -> None:
        """Write each packet as one text frame (sent at the end of this loop turn)."""
        if self._closing:
            logger.debug("websocket closed while sending")
            return
        out = self._out
        counted = 0
        for packet in packets:
            try:
                data = packet.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: U+FFFD, as node writes it
                data = to_utf8(packet)
            counted += len(data)
            out.append(wsframe.text_frame(data))
        if self._bytes is not None:
            self._bytes.bytes_out += counted
        if not self._reading and not self._flush_scheduled:
            self._flush_scheduled = True
            self._io_loop.add_callback(self._flush)

    def busy(self) -> bool:
        """Whether earlier frames wait for the client to read them."""
        return bool(self._pending)

    def session_closed(self) -> None:
        """The session ended: send a close frame and close the socket."""
        self.session = None
        if not self._closing:
            self._out.append(wsframe.close_frame(wsframe.CLOSE_NORMAL))
            self._flush()
            self._close_socket()

    @property
    def buffered_bytes(self) -> int:
        """Bytes written that the kernel has not taken yet (the client is not reading)."""
        return len(self._pending)

    # -- bytes -------------------------------------------------------------------

    def _flush(self) -> None:
        self._flush_scheduled = False
        out = self._out
        if not out or self._sock is None:
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        if self._pending:
            self._pending += data
        else:
            self._send(data)
        if self._pending and self.session is not None:
            self.session.transport_buffered(self, len(self._pending))

    def _send(self, data: Any) -> None:
        sock = self._sock
        assert sock is not None
        try:
            sent = sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._connection_lost()
            return
        if sent < len(data):
            self._pending = bytearray(memoryview(data)[sent:])
            self._io_loop.update_handler(sock, self._wanted_events())

    def _write_pending(self) -> None:
        data, self._pending = self._pending, bytearray()
        if self._sock is None:
            return
        if data:
            self._send(data)
        if not self._pending and self._sock is not None:
            if self._closing:
                self._await_client_close()
            else:
                self._io_loop.update_handler(self._sock, self._wanted_events())

    def _close_socket(self) -> None:
        self._closing = True
        if self._sock is None:
            return
        if not self._pending:
            self._await_client_close()
        elif len(self._pending) > self._write_limit:
            self._connection_lost()  # the client does not read: its close frame would never go
        # else: _write_pending goes on once the kernel took the rest

    def _await_client_close(self) -> None:
        """Our close frame is written: close once the client answers it (RFC 6455 5.5.1).

        Closing at once would leave what the client sent meanwhile unread,
        and a socket closed with unread bytes is reset, which can destroy
        what the client had not read yet: our close frame among it.
        """
        if self._parser.closed or self._sock is None:  # the client's close came first
            self._connection_lost()
            return
        self._held = None  # read (and drop) whatever comes until the close
        self._io_loop.update_handler(self._sock, _READ)
        if self._close_timer is None:
            self._close_timer = Timeout(self._io_loop, CLOSE_WAIT, self._connection_lost)
