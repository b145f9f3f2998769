"""HTTP transports: xhr-polling, jsonp-polling and htmlfile.

This module owns HTTP and JavaScript framing only: how a payload of packets is
written into a response (a body, an ``io.j[i](...)`` call, a ``<script>``
chunk) and read out of a POST body. The session decides what to send and when,
including the long poll's timeout; a handler waits for the session to hand it
packets (``send_messages``) or for the client to go away.
"""

import logging
from typing import Optional, Sequence, Tuple
from urllib.parse import parse_qs

from tornado.concurrent import Future
from tornado.iostream import IOStream, StreamBufferFullError, StreamClosedError

from tornadio2.exceptions import SessionClosedError
from tornadio2.preflight import PreflightHandler, Server
from tornadio2.proto import encode_frames, json_dumps, json_load, to_utf8
from tornadio2.session import NOT_HANDSHAKEN, Session
from tornadio2.stats import utf8_length

__all__ = [
    "TornadioPollingHandlerBase", "TornadioXHRPollingHandler",
    "TornadioJSONPHandler", "TornadioHtmlFileHandler", "js_string", "jsonp_string",
]

#: What starts every htmlfile stream: the ``_`` function the client's iframe
#: calls, padded to 256 bytes so that browsers start running it at once.
HTMLFILE_PRELUDE = (
    "<html><body><script>var _ = function (msg) { parent.s._(msg, document); };</script>"
).ljust(256)


def js_string(text: str) -> str:
    """``text`` as a JavaScript string literal that is safe inside ``<script>``.

    For the htmlfile transport, whose chunks are inline scripts: every ``/``
    is escaped (so ``</script>`` cannot end the block), every ``<`` too (a
    ``<!--<script`` in a message would otherwise make the browser read every
    later chunk as part of one script), and U+2028/U+2029, which older
    JavaScript engines reject in string literals.
    """
    return (json_dumps(text).replace("/", "\\/").replace("<", "\\u003c")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def jsonp_string(text: str) -> str:
    """``text`` as the JSON string of a jsonp-polling answer, ``/`` as it is.

    What ``JSON.stringify`` writes, as the native server does (quotes,
    backslashes and control characters escaped), plus two escapes it lacks:
    U+2028/U+2029, which older JavaScript engines reject in string literals,
    and the ``/`` of ``</`` only, so that ``</script>`` never appears. A
    client that reads the string as JSON gets the text back either way
    (wire-notes#jsonp-polling).
    """
    return (json_dumps(text).replace("</", "<\\/")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))

logger = logging.getLogger("tornadio2.polling")


class TornadioPollingHandlerBase(PreflightHandler):
    """A long-polling GET that receives packets, a POST that delivers them.

    Subclasses say how a payload is wrapped (:meth:`write_payload`) and how a
    POST body is unwrapped (:meth:`read_payload`).
    """

    name = "polling"
    oneshot = True

    def initialize(self, server: Server) -> None:  # type: ignore[override]
        super().initialize(server)
        self.session: Optional[Session] = None
        self._answered: Optional["Future[None]"] = None
        self.body = bytearray()
        # Where payload bytes are counted; None unless the router's stats count them.
        self._bytes = server.stats.bytes_for(self.name)

    def data_received(self, chunk: bytes) -> None:
        # Streamed (PreflightHandler) so that the body limit applies before the
        # body is read; decoded once, whole, so that no character is split.
        self.body += chunk

    async def get(self, session_id: str) -> None:
        """Hold the request until the session has packets or gives up the poll."""
        if "disconnect" in self.request.query_arguments:
            self.server.force_disconnect(session_id, self.request)
            self.safe_finish()
            return
        session = self.server.session_for(session_id, self.request)
        if session is None:
            self._not_handshaken()
            return
        self.session = session
        self._answered = Future()
        self.start_response()
        try:
            session.attach(self)
        except SessionClosedError:
            self.session = None
            self._not_handshaken()
            return
        if not self._finished:
            await self._answered

    def _not_handshaken(self) -> None:
        self.send_messages([NOT_HANDSHAKEN])
        self.session_closed()

    async def post(self, session_id: str) -> None:
        """Hand the POSTed packets to the session and answer ``1`` once they are handled."""
        session = self.server.session_for(session_id, self.request)
        if session is not None:
            payload = self.read_payload()
            if payload is None or not session.receive_frames(payload):
                self.send_error(400, reason="Bad payload")
                return
            if self._bytes is not None:
                self._bytes.bytes_in += utf8_length(payload)
            if session.reading:  # a large payload, handled a slice per turn of the loop
                read: "Future[None]" = Future()
                session.when_read(lambda: read.done() or read.set_result(None))
                await read
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.set_cors_headers()
        if self.origin:
            self.set_header("X-XSS-Protection", "0")
        self.safe_finish("1")

    def read_payload(self) -> Optional[str]:
        """The POST body as text, or ``None`` when it cannot be read."""
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            logger.warning("POST body of %s is not UTF-8", self.request.path)
            return None

    def start_response(self) -> None:
        """Called before the session may send; streaming transports write headers here."""

    def write_payload(self, payload: str) -> None:
        """Answer the GET with ``payload`` (already framed)."""
        raise NotImplementedError

    # -- Transport -----------------------------------------------------------------

    def send_messages(self, packets: Sequence[str]) -> None:
        """Answer the pending GET with these packets, framed when several."""
        if not self._finished and self.request.connection is not None:
            self.write_payload(self.frame(packets))
        self._done()

    def busy(self) -> bool:
        """Whether an earlier response is still being written on this connection."""
        stream = getattr(self.request.connection, "stream", None)
        return stream is not None and stream.writing()

    def frame(self, packets: Sequence[str]) -> str:
        """``packets`` as one payload, counted in the payload bytes sent."""
        payload = encode_frames(packets)
        if self._bytes is not None:
            self._bytes.bytes_out += utf8_length(payload)
        return payload

    def session_closed(self) -> None:
        """The session ended with nothing to say: end the GET empty."""
        self.safe_finish()
        self._done()

    def on_connection_close(self) -> None:
        super().on_connection_close()
        if self.session is not None:
            self.session.detach(self)
        self._done()

    def _done(self) -> None:
        if self._answered is not None and not self._answered.done():
            self._answered.set_result(None)


class TornadioXHRPollingHandler(TornadioPollingHandlerBase):
    """xhr-polling: the payload is the response body, as UTF-8 text."""

    name = "xhr-polling"

    def write_payload(self, payload: str) -> None:
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.set_cors_headers()
        self.safe_finish(to_utf8(payload))


class TornadioJSONPHandler(TornadioPollingHandlerBase):
    """jsonp-polling: ``io.j[i]("payload");`` answers, form-encoded POSTs.

    The script index ``i`` must be digits (anything else is ``0``): it is
    pasted into JavaScript, so nothing else may get through.
    """

    name = "jsonp-polling"

    def write_payload(self, payload: str) -> None:
        index = self.get_query_argument("i", "0")
        if not (index.isascii() and index.isdigit()):
            index = "0"
        self.set_header("Content-Type", "text/javascript; charset=UTF-8")
        self.set_header("X-XSS-Protection", "0")
        self.safe_finish("io.j[%s](%s);" % (index, jsonp_string(payload)))

    def read_payload(self) -> Optional[str]:
        """The ``d`` form field, a JSON string holding the payload."""
        try:
            form = parse_qs(self.body.decode("ascii"), keep_blank_values=True)
            payload = json_load(form["d"][0])
        except (UnicodeDecodeError, KeyError, ValueError):
            logger.warning("jsonp POST to %s has no readable d field", self.request.path)
            return None
        if not isinstance(payload, str):
            logger.warning("jsonp POST to %s: d is JSON but not a string", self.request.path)
            return None
        return payload


class TornadioHtmlFileHandler(TornadioPollingHandlerBase):
    """htmlfile: one long chunked HTML response of ``<script>`` calls (IE).

    The stream stays attached and gets heartbeats; when it drops, the session
    waits for the client's next stream, then expires.
    """

    name = "htmlfile"
    oneshot = False
    _stream_limit: Optional[Tuple[IOStream, Optional[int]]] = None

    def start_response(self) -> None:
        stream = getattr(self.request.connection, "stream", None)
        if stream is not None:
            # A client that stops reading must not grow the server's buffer
            # without end: past the limit the stream refuses the write. The
            # connection's own limit comes back when the response ends.
            self._stream_limit = (stream, stream.max_write_buffer_size)
            stream.max_write_buffer_size = int(self.server.settings["websocket_write_limit"])
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self._write_chunk(HTMLFILE_PRELUDE)

    def on_finish(self) -> None:
        super().on_finish()
        if self._stream_limit is not None:
            stream, limit = self._stream_limit
            stream.max_write_buffer_size = limit
            self._stream_limit = None

    def send_messages(self, packets: Sequence[str]) -> None:
        if not self._headers_written:
            self.start_response()
        self._write_chunk("<script>_(%s);</script>" % js_string(self.frame(packets)))

    def session_closed(self) -> None:
        if not self._headers_written:
            self.start_response()
        super().session_closed()

    def _write_chunk(self, text: str) -> None:
        if self._finished or self.request.connection is None:
            return
        chunk = to_utf8(text)
        self.write(chunk)
        try:
            flushed = self.flush()
        except StreamBufferFullError:
            self._overflowed(len(chunk))
            return
        flushed.add_done_callback(_ignore_closed_stream)

    def _overflowed(self, refused: int) -> None:
        """The client has not taken ``websocket_write_limit`` bytes: end its session and stream."""
        if self.request.connection is not None:
            # Closed first: a chunk was lost, so nothing after it may be written.
            self.request.connection.close()
        if self.session is not None:
            limit = int(self.server.settings["websocket_write_limit"])
            self.session.transport_buffered(self, limit + refused)


def _ignore_closed_stream(future: "Future[None]") -> None:
    error = future.exception()
    if error is not None and not isinstance(error, StreamClosedError):
        logger.error("htmlfile write failed", exc_info=error)
