"""Socket transports: websocket, and flashsocket (RFC 6455 or hixie-76).

This module moves text between a websocket and the session: each text frame
goes to ``session.receive_frame``, each outgoing packet is one text frame.
It parses no packets and owns no timers; heartbeats are the session's. The
hixie-76 framing itself lives in :mod:`tornadio2.hixie76`.
"""

import collections
import logging
from typing import Any, Deque, Optional, Sequence, Tuple, Union

from tornado import web, websocket
from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError

from tornadio2 import hixie76, leanws
from tornadio2.exceptions import ProtocolError
from tornadio2.peerlog import PeerLog
from tornadio2.periodic import Timeout
from tornadio2.preflight import Server, limit_request_body
from tornadio2.proto import to_utf8
from tornadio2.session import NOT_HANDSHAKEN, Session
from tornadio2.socketside import SessionSocket
from tornadio2.stats import Traffic, utf8_length

__all__ = ["TornadioWebSocketHandler", "TornadioFlashSocketHandler"]

logger = logging.getLogger("tornadio2.persistent")
peer_log = PeerLog(logger)


@web.stream_request_body
class TornadioWebSocketHandler(SessionSocket, websocket.WebSocketHandler):
    """The ``websocket`` transport on Tornado's RFC 6455 implementation.

    The upgrade request's body is streamed, so that one over
    ``max_message_size`` is refused (``413``) before it is read.
    """

    name = "websocket"
    oneshot = False
    _hixie_stream: Optional[IOStream] = None  # the flashsocket subclass's hixie-76 socket

    def initialize(self, server: Server) -> None:  # type: ignore[override]
        self.server = server
        self.session: Optional[Session] = None
        self._counted = False
        self._probing = False
        # Where payload bytes are counted; None unless the router's stats count them.
        self._bytes: Optional[Traffic] = None
        # Bytes of frames handed to the stream and not yet written (counted only
        # while the stream has a backlog; reported to the session, which decides).
        self._unwritten = 0
        # (future, bytes) of writes that were left waiting in the stream.
        self._pending_writes: Deque[Tuple["Future[None]", int]] = collections.deque()

    @property
    def max_message_size(self) -> int:  # type: ignore[override]
        return int(self.server.settings["max_message_size"])

    def prepare(self) -> None:
        limit_request_body(self, self.max_message_size)

    def data_received(self, chunk: bytes) -> None:
        """An upgrade request has no use for a body: its bytes are dropped."""

    def get_websocket_protocol(self) -> Any:
        """Tornado's RFC 6455 protocol, or the lean path (setting ``websocket_engine``)."""
        if self.server.settings["websocket_engine"] == "lean" and leanws.can_take(self):
            return leanws.LeanUpgrade(self.server, self.name)
        return super().get_websocket_protocol()

    def check_origin(self, origin: str) -> bool:
        """Apply the router's origin policy to the upgrade (0.9 pages are often cross-site)."""
        allowed = self.server.origin_allowed(origin, self.request)
        if not allowed:
            peer_log.warning("refused websocket origin %s", origin)
        return bool(allowed)

    def open(self, session_id: str) -> None:  # type: ignore[override]
        stats = self.server.stats
        stats.connection_opened(self.name)
        self._counted = True
        self._bytes = stats.bytes_for(self.name)
        if self.ws_connection is not None:
            self.set_nodelay(True)
        session = self.server.session_for(session_id, self.request)
        if session is None:
            self._not_handshaken()
            return
        self.session = session
        if self.server.settings["websocket_check"]:
            self._probing = True
            session.probe(self)
        else:
            self._attach(session)

    def _not_handshaken(self) -> None:
        self.send_messages([NOT_HANDSHAKEN])
        self.close()

    def on_message(self, message: Any) -> "Optional[Future[None]]":
        """Hand a text frame to the session.

        While the session is still handling a large payload, the returned
        future makes Tornado wait before it reads the next frame.
        """
        reading = self._hand_over(message)
        return None if reading is None else _when_read(reading)

    def on_close(self) -> None:
        self._forget_writes()
        if self._counted:
            self._counted = False
            self.server.stats.connection_closed(self.name)
        session, self.session = self.session, None
        # A socket still being probed (websocket_check) was never attached: its
        # session may live on over another transport.
        if session is not None and session.transport is self:
            session.detach(self)
            session.close(send_disconnect=False, reason="client")

    # -- Transport -----------------------------------------------------------------

    def send_messages(self, packets: Sequence[str]) -> None:
        """Write each packet as one text frame; report what the client has not taken."""
        written = None
        try:
            for packet in packets:
                if self._bytes is not None:
                    self._bytes.bytes_out += (
                        len(packet) if packet.isascii() else utf8_length(packet))
                try:
                    written = self.write_message(packet)
                except UnicodeEncodeError:  # a lone surrogate: U+FFFD, as node writes it
                    written = self.write_message(to_utf8(packet))
        except websocket.WebSocketClosedError:
            logger.debug("websocket closed while sending")
            return
        if written is None:
            return
        if self.busy():
            self._left_unwritten(packets, written)
            return
        if self._pending_writes:
            self._forget_writes()
        if self._stream_closed():
            # The write closed the stream (the peer reset it): its outcome is
            # an error that nobody else will read.
            written.add_done_callback(_retrieve_outcome)

    def _stream_closed(self) -> bool:
        stream = self._hixie_stream or getattr(self.ws_connection, "stream", None)
        return stream is None or stream.closed()

    def _left_unwritten(self, packets: Sequence[str], written: "Future[None]") -> None:
        # Frames go out in order, so the futures of earlier writes finish first.
        # Finished ones are collected here, at the next write, rather than by a
        # callback per write: a callback costs a loop turn each, on every busy socket.
        pending = self._pending_writes
        while pending and pending[0][0].done():
            done, size = pending.popleft()
            _retrieve_outcome(done)
            self._unwritten -= size
        size = sum(utf8_length(packet) for packet in packets)
        pending.append((written, size))
        self._unwritten += size
        if self.session is not None:
            self.session.transport_buffered(self, self._unwritten)

    def _forget_writes(self) -> None:
        """Everything was written (or the socket is gone): drop the accounting."""
        pending, self._pending_writes = self._pending_writes, collections.deque()
        self._unwritten = 0
        for future, _ in pending:
            future.add_done_callback(_retrieve_outcome)

    def busy(self) -> bool:
        """Whether frames written earlier are still waiting to go out."""
        stream = self._hixie_stream or getattr(self.ws_connection, "stream", None)
        return stream is not None and stream.writing()

    def session_closed(self) -> None:
        """The session ended: close the socket."""
        self.session = None
        self.close()


class TornadioFlashSocketHandler(TornadioWebSocketHandler):
    """``flashsocket``: the websocket transport, plus the hixie-76 draft.

    The Flash client of socket.io-client 0.9 (web-socket-js) speaks only
    hixie-76; a request with an RFC 6455 version header goes the websocket way.
    """

    name = "flashsocket"

    async def get(self, *args: Any, **kwargs: Any) -> None:
        if hixie76.is_hixie76_request(self.request.headers):
            await self._serve_hixie76(*args, **kwargs)
        else:
            await super().get(*args, **kwargs)

    async def _serve_hixie76(self, session_id: str) -> None:
        headers = self.request.headers
        origin = headers.get("Origin", "")
        if not self.check_origin(origin):
            self.set_status(403)
            self.finish("origin not allowed")
            return
        stream = self.detach()
        if not await self._hixie76_handshake(stream, origin):
            stream.close()
            return
        stream.set_nodelay(True)
        self._hixie_stream = stream
        self.open(session_id)
        await self._read_hixie76(stream)

    async def _hixie76_handshake(self, stream: IOStream, origin: str) -> bool:
        # The 8 key bytes follow the headers; a client that holds them back
        # is cut off after upgrade_timeout, and keys that cannot be read at
        # once, before anything is awaited.
        headers = self.request.headers
        key1, key2 = headers["Sec-WebSocket-Key1"], headers["Sec-WebSocket-Key2"]
        deadline = None
        try:
            hixie76.check_keys(key1, key2)
            deadline = Timeout(IOLoop.current(), self.server.settings["upgrade_timeout"],
                               stream.close)
            key3 = await stream.read_bytes(hixie76.KEY3_LENGTH)
            deadline.cancel()
            digest = hixie76.challenge_response(key1, key2, key3)
            scheme = "wss" if self.request.protocol == "https" else "ws"
            location = "%s://%s%s" % (scheme, self.request.host, self.request.uri)
            await stream.write(hixie76.handshake_response(
                origin, location, digest, headers.get("Sec-WebSocket-Protocol")))
        except (ProtocolError, StreamClosedError) as exc:
            if deadline is not None:
                deadline.cancel()
            peer_log.info("hixie-76 handshake failed: %s", str(exc) or "timed out or closed")
            return False
        return True

    async def _read_hixie76(self, stream: IOStream) -> None:
        parser = hixie76.FrameParser(self.max_message_size)
        try:
            while not parser.closed and not stream.closed():
                data = await stream.read_bytes(65536, partial=True)
                for message in parser.feed(data):
                    reading = self.on_message(message)
                    if reading is not None:
                        await reading
        except StreamClosedError:
            pass
        except ProtocolError as exc:
            peer_log.warning("closing hixie-76 socket: %s", str(exc))
        self.close()
        self.on_close()

    def write_message(self, message: Union[bytes, str, dict],  # type: ignore[override]
                      binary: bool = False) -> "Future[None]":
        stream = self._hixie_stream
        if stream is None:
            return super().write_message(message, binary)
        if stream.closed():
            raise websocket.WebSocketClosedError()
        payload = message if isinstance(message, bytes) else to_utf8(str(message))
        written = stream.write(hixie76.encode_frame(payload))
        written.add_done_callback(_consume_stream_error)
        return written

    def close(self, code: Optional[int] = None, reason: Optional[str] = None) -> None:
        stream = self._hixie_stream
        if stream is None:
            super().close(code, reason)
        elif not stream.closed():
            stream.write(hixie76.CLOSE_FRAME).add_done_callback(lambda _: stream.close())


def _when_read(session: Session) -> "Future[None]":
    """A future done once ``session`` has handled every payload it was given."""
    done: "Future[None]" = Future()

    def finish() -> None:
        if not done.done():
            done.set_result(None)

    session.when_read(finish)
    return done


def _retrieve_outcome(future: "Future[None]") -> None:
    if not future.cancelled():
        future.exception()


def _consume_stream_error(future: "Future[None]") -> None:
    # A peer that vanished mid-write is normal; anything else is worth a log.
    error = future.exception()
    if error is not None and not isinstance(error, StreamClosedError):
        logger.error("flashsocket write failed", exc_info=error)
