"""The two transports of the test client: websocket and xhr-polling.

A transport moves text and nothing else: it hands every payload it receives
to the client's ``on_payload`` callback, sends the packet strings the client
gives it, and reports its end through ``on_closed``. Decoding and encoding
packets is the client's job (:mod:`tornadio2.testing.client`), except the
polling POST body, which is framed with :func:`tornadio2.proto.encode_frames`
exactly as the 0.9 client frames what it buffered.

It uses Tornado's own clients (:func:`tornado.websocket.websocket_connect`,
:class:`tornado.httpclient.AsyncHTTPClient`) and no server-side module.
"""

import asyncio
import itertools
import logging
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect

from tornadio2 import proto
from tornadio2.testing.errors import ClientDisconnected

__all__ = ["ClientTransport", "WebSocketTransport", "XhrPollingTransport", "TRANSPORTS"]

logger = logging.getLogger("tornadio2.testing")

#: Seconds ``close()`` lets a pending long poll end by itself before abandoning it.
CLOSE_GRACE = 2.0
#: Seconds added to the announced close timeout to get a long poll's request timeout.
POLL_SLACK = 5.0

PayloadCallback = Callable[[str], None]
ClosedCallback = Callable[[str], None]


class ClientTransport:
    """What the client needs from a transport; subclasses implement one each.

    ``on_payload(text)`` receives every websocket frame or poll response body;
    ``on_closed(reason)`` is called once when the transport ends by itself.
    """

    #: The transport's name in the handshake and in its URL.
    name = ""

    def __init__(self, http: AsyncHTTPClient, on_payload: PayloadCallback,
                 on_closed: ClosedCallback) -> None:
        self.http = http
        self.on_payload = on_payload
        self.on_closed = on_closed
        self.closing = False

    async def open(self, url: str, timeout: float, close_timeout: float) -> None:
        """Open the transport at ``url`` (an ``http://`` URL of the session)."""
        raise NotImplementedError

    def send(self, packets: Sequence[str]) -> "asyncio.Future[None]":
        """Queue ``packets`` in order now; the future ends once they were written."""
        raise NotImplementedError

    async def close(self) -> None:
        """Stop the transport; what is still in flight is abandoned."""
        raise NotImplementedError


class WebSocketTransport(ClientTransport):
    """One websocket; each frame the server writes is one packet."""

    name = "websocket"

    def __init__(self, http: AsyncHTTPClient, on_payload: PayloadCallback,
                 on_closed: ClosedCallback) -> None:
        super().__init__(http, on_payload, on_closed)
        self._conn: Optional[WebSocketClientConnection] = None
        self._reader: Optional["asyncio.Future[None]"] = None

    async def open(self, url: str, timeout: float, close_timeout: float) -> None:
        """Connect the websocket and start reading frames."""
        ws_url = "ws" + url[len("http"):] if url.startswith("http") else url
        # No websocket pings: the 0.9 protocol has its own heartbeats, and the
        # native server answers pings with a broken frame.
        self._conn = await websocket_connect(ws_url, connect_timeout=timeout)
        self._reader = asyncio.ensure_future(self._read(self._conn))

    async def _read(self, conn: WebSocketClientConnection) -> None:
        while True:
            frame = await conn.read_message()
            if frame is None:
                break
            if isinstance(frame, bytes):
                logger.warning("binary websocket frame ignored (%d bytes)", len(frame))
                continue
            self.on_payload(frame)
        if not self.closing:
            self.on_closed("websocket closed by the server (code %s)" % conn.close_code)

    def send(self, packets: Sequence[str]) -> "asyncio.Future[None]":
        """Write each packet as one text frame."""
        futures = []
        for packet in packets:
            try:
                assert self._conn is not None, "send before open"
                futures.append(self._conn.write_message(packet))
            except WebSocketClosedError:
                failed: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
                failed.set_exception(ClientDisconnected("websocket is closed", "transport closed"))
                return failed
        return asyncio.ensure_future(_all_written(futures))

    async def close(self) -> None:
        """Close the websocket and wait (briefly) for the reader to stop."""
        self.closing = True
        if self._conn is not None:
            self._conn.close()
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, CLOSE_GRACE)
            except asyncio.TimeoutError:
                logger.debug("websocket reader did not stop in %ss", CLOSE_GRACE)


async def _all_written(futures: List[Any]) -> None:
    try:
        for future in futures:
            await future
    except WebSocketClosedError:
        raise ClientDisconnected("websocket is closed", "transport closed") from None


class XhrPollingTransport(ClientTransport):
    """Long-polling GETs bring packets; POSTs carry the client's packets.

    Packets queued while a POST is in flight go together in the next POST,
    framed ``\\ufffdLEN\\ufffdPACKET`` when there are several.
    """

    name = "xhr-polling"

    def __init__(self, http: AsyncHTTPClient, on_payload: PayloadCallback,
                 on_closed: ClosedCallback) -> None:
        super().__init__(http, on_payload, on_closed)
        self._url = ""
        self._request_timeout = POLL_SLACK
        self._connect_timeout = POLL_SLACK
        self._poller: Optional["asyncio.Future[None]"] = None
        self._outbox: List[Tuple[Sequence[str], "asyncio.Future[None]"]] = []
        self._poster: Optional["asyncio.Future[None]"] = None
        self._cache_buster = itertools.count(1)

    async def open(self, url: str, timeout: float, close_timeout: float) -> None:
        """Start long-polling ``url``."""
        self._url = url
        self._connect_timeout = timeout
        self._request_timeout = close_timeout + POLL_SLACK
        self._poller = asyncio.ensure_future(self._poll())

    def _request(self, method: str, body: Optional[bytes] = None) -> HTTPRequest:
        joiner = "&" if "?" in self._url else "?"
        headers: Dict[str, str] = {}
        if body is not None:
            headers["Content-Type"] = "text/plain;charset=UTF-8"
        return HTTPRequest("%s%st=%d" % (self._url, joiner, next(self._cache_buster)),
                           method=method, body=body, headers=headers,
                           connect_timeout=self._connect_timeout,
                           request_timeout=self._request_timeout)

    async def _poll(self) -> None:
        reason = ""
        while not self.closing:
            try:
                response = await self.http.fetch(self._request("GET"), raise_error=False)
            except (OSError, HTTPClientError) as exc:
                reason = "poll failed: %s" % exc
                break
            if self.closing:
                break
            if response.code != 200:
                reason = "poll answered HTTP %d" % response.code
                break
            self.on_payload(response.body.decode("utf-8", "surrogatepass"))
        if not self.closing:
            self.on_closed(reason)

    def send(self, packets: Sequence[str]) -> "asyncio.Future[None]":
        """Queue ``packets`` for the next POST; start one if none is in flight."""
        done: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
        self._outbox.append((list(packets), done))
        if self._poster is None or self._poster.done():
            self._poster = asyncio.ensure_future(self._post_all())
        return done

    async def _post_all(self) -> None:
        while self._outbox:
            batch, self._outbox = self._outbox, []
            packets = [packet for queued, _ in batch for packet in queued]
            body = proto.encode_frames(packets).encode("utf-8", "surrogatepass")
            error: Optional[Exception] = None
            try:
                response = await self.http.fetch(self._request("POST", body), raise_error=False)
                if response.code != 200:
                    error = ClientDisconnected("POST answered HTTP %d" % response.code,
                                               "transport closed")
            except (OSError, HTTPClientError) as exc:
                error = ClientDisconnected("POST failed: %s" % exc, "transport closed")
            for _, done in batch:
                if done.done():
                    continue
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(error)

    async def close(self) -> None:
        """Stop polling; a poll the server does not end soon is abandoned."""
        self.closing = True
        for task in (self._poster, self._poller):
            if task is None or task.done():
                continue
            try:
                await asyncio.wait_for(asyncio.shield(task), CLOSE_GRACE)
            except asyncio.TimeoutError:
                logger.debug("xhr-polling request still pending after %ss; abandoned",
                             CLOSE_GRACE)
                task.cancel()


#: Transport classes by the name the handshake announces.
TRANSPORTS: Dict[str, Any] = {
    WebSocketTransport.name: WebSocketTransport,
    XhrPollingTransport.name: XhrPollingTransport,
}
