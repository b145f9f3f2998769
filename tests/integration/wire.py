"""A small, independent Socket.IO 0.9 (protocol 1) wire client for integration tests.

It speaks the raw protocol the way the stock 0.9 client does: the handshake
(plain and JSONP), xhr-polling GETs and POSTs, and the websocket transport
through ``tornado.websocket.websocket_connect``. Packets are plain strings
written by the tests; payload framing (``\\ufffd<len>\\ufffd<packet>``) is done
here by hand with lengths in UTF-16 code units, as JavaScript's
``String.length`` counts them. It deliberately shares no code with
``tornadio2.proto``, so a codec bug cannot hide itself.
"""

import asyncio
import socket
from typing import Dict, List, Optional, Sequence, Tuple, Union

from tornado.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse
from tornado.websocket import WebSocketClientConnection, websocket_connect

__all__ = [
    "SEP",
    "utf16_len",
    "frame",
    "unframe",
    "WireClient",
    "XhrSession",
    "read_message",
    "read_response_text",
    "read_until_closed",
    "unused_port",
    "RawHttpResponse",
    "raw_request",
]

SEP = "\ufffd"
REQUEST_TIMEOUT = 10.0
PLAIN_TEXT = "text/plain;charset=UTF-8"  # what the 0.9 client sends with its POSTs


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (JavaScript ``String.length``)."""
    return len(text.encode("utf-16-le")) // 2


def frame(packets: Sequence[str]) -> str:
    """Frame packets as a polling payload: ``\\ufffd<len>\\ufffd<packet>`` each."""
    return "".join("%s%d%s%s" % (SEP, utf16_len(p), SEP, p) for p in packets)


def unframe(body: str) -> List[str]:
    """Split a polling payload into packets; a body not starting with U+FFFD is one packet.

    Raises ``ValueError`` when the framing is inconsistent (bad length, length
    ending inside a surrogate pair, trailing bytes).
    """
    if not body.startswith(SEP):
        return [body]
    packets = []
    pos = 0
    while pos < len(body):
        if body[pos] != SEP:
            raise ValueError("expected a frame separator at %d in %r" % (pos, body))
        end = body.index(SEP, pos + 1)
        digits = body[pos + 1 : end]
        if not digits.isdigit():
            raise ValueError("bad frame length %r in %r" % (digits, body))
        wanted = int(digits)
        start = i = end + 1
        units = 0
        while units < wanted and i < len(body):
            units += 2 if ord(body[i]) > 0xFFFF else 1
            i += 1
        if units != wanted:
            raise ValueError("frame length %d does not fit %r" % (wanted, body))
        packets.append(body[start:i])
        pos = i
    return packets


def read_response_text(response: HTTPResponse) -> str:
    """The response body decoded as UTF-8 (empty string for no body)."""
    return (response.body or b"").decode("utf-8")


async def read_until_closed(
    conn: WebSocketClientConnection, timeout: float = 5.0
) -> List[str]:
    """Collect websocket messages until the server closes; fail after ``timeout`` seconds."""
    messages: List[str] = []

    async def collect() -> None:
        while True:
            msg = await conn.read_message()
            if msg is None:
                return
            messages.append(msg if isinstance(msg, str) else msg.decode("utf-8"))

    await asyncio.wait_for(collect(), timeout)
    return messages


class WireClient:
    """Raw HTTP/websocket access to one tornadio2 server.

    :param base_url: ``http://127.0.0.1:PORT``
    :param http_client: an ``AsyncHTTPClient``
    :param namespace: the router's resource prefix, without slashes
    """

    def __init__(
        self,
        base_url: str,
        http_client: AsyncHTTPClient,
        namespace: str = "socket.io",
    ) -> None:
        self.base_url = base_url
        self.http_client = http_client
        self.namespace = namespace
        self.websockets: List[WebSocketClientConnection] = []

    def url(self, path: str) -> str:
        """Absolute URL for a path below the namespace (``1/`` -> ``/socket.io/1/``)."""
        return "%s/%s/%s" % (self.base_url, self.namespace, path)

    async def fetch(
        self,
        path: str,
        method: str = "GET",
        body: Union[str, bytes, None] = None,
        headers: Optional[Dict[str, str]] = None,
        timeout: float = REQUEST_TIMEOUT,
        source_ip: Optional[str] = None,
    ) -> HTTPResponse:
        """One HTTP request to ``url(path)``; never raises on HTTP error codes.

        ``source_ip`` picks the local address (another loopback address, such as
        ``127.0.0.2``, looks like another client).
        """
        hdrs = dict(headers or {})
        if isinstance(body, str):
            body = body.encode("utf-8")
        if method == "POST":
            hdrs.setdefault("Content-Type", PLAIN_TEXT)
            if body is None:
                body = b""
        request = HTTPRequest(
            self.url(path),
            method=method,
            body=body,
            headers=hdrs,
            request_timeout=timeout,
            connect_timeout=timeout,
            allow_nonstandard_methods=True,
            follow_redirects=False,
            network_interface=source_ip,
        )
        return await self.http_client.fetch(request, raise_error=False)

    async def handshake(
        self, query: str = "", headers: Optional[Dict[str, str]] = None
    ) -> HTTPResponse:
        """``GET /socket.io/1/?t=...&<query>``, as the 0.9 client does it."""
        path = "1/?t=1700000000000"
        if query:
            path += "&" + query
        return await self.fetch(path, headers=headers)

    async def new_sid(
        self, query: str = "", headers: Optional[Dict[str, str]] = None
    ) -> str:
        """Handshake and return the session id; fails the test on a refusal."""
        response = await self.handshake(query, headers)
        assert response.code == 200, (response.code, response.body)
        return read_response_text(response).split(":", 1)[0]

    async def xhr(
        self,
        query: str = "",
        headers: Optional[Dict[str, str]] = None,
        connect: bool = True,
    ) -> "XhrSession":
        """A handshaken xhr-polling session; with ``connect`` its first GET (``1::``) is done."""
        sid = await self.new_sid(query, headers)
        session = XhrSession(self, sid, headers)
        if connect:
            first = await session.get_text()
            assert first == "1::", first
        return session

    def ws_url(self, sid: str, transport: str = "websocket", query: str = "") -> str:
        """``ws://host:port/socket.io/1/websocket/SID``."""
        url = "ws" + self.url("1/%s/%s" % (transport, sid))[len("http") :]
        return url + ("?" + query if query else "")

    async def websocket(
        self,
        sid: str,
        headers: Optional[Dict[str, str]] = None,
        transport: str = "websocket",
        query: str = "",
    ) -> WebSocketClientConnection:
        """Open the websocket transport of ``sid``; raises ``HTTPClientError`` when refused."""
        request = HTTPRequest(
            self.ws_url(sid, transport, query),
            headers=headers or {},
            request_timeout=REQUEST_TIMEOUT,
            connect_timeout=REQUEST_TIMEOUT,
        )
        conn = await websocket_connect(request)
        self.websockets.append(conn)
        return conn

    async def ws_session(
        self, query: str = "", headers: Optional[Dict[str, str]] = None
    ) -> WebSocketClientConnection:
        """Handshake, open the websocket and consume its first frame (must be ``1::``)."""
        sid = await self.new_sid(query, headers)
        conn = await self.websocket(sid, headers)
        first = await read_message(conn)
        assert first == "1::", first
        return conn

    def close(self) -> None:
        """Close every websocket this client opened."""
        for conn in self.websockets:
            conn.close()
        self.websockets.clear()


async def read_message(conn: WebSocketClientConnection, timeout: float = 5.0) -> Optional[str]:
    """Next websocket message as text (``None`` once closed); fail after ``timeout``."""
    msg = await asyncio.wait_for(conn.read_message(), timeout)
    if isinstance(msg, bytes):
        return msg.decode("utf-8")
    return msg


class XhrSession:
    """One xhr-polling session: GET to poll, POST to send."""

    def __init__(
        self,
        client: WireClient,
        sid: str,
        headers: Optional[Dict[str, str]] = None,
        transport: str = "xhr-polling",
    ) -> None:
        self.client = client
        self.sid = sid
        self.headers = dict(headers or {})
        self.path = "1/%s/%s" % (transport, sid)

    async def get(
        self,
        query: str = "",
        headers: Optional[Dict[str, str]] = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> HTTPResponse:
        """One poll, ``GET .../xhr-polling/SID?t=...``."""
        path = self.path + "?t=1700000000001" + ("&" + query if query else "")
        return await self.client.fetch(
            path, headers={**self.headers, **(headers or {})}, timeout=timeout
        )

    async def get_text(self, timeout: float = REQUEST_TIMEOUT) -> str:
        """Poll and return the body; fails the test unless the answer is ``200``."""
        response = await self.get(timeout=timeout)
        assert response.code == 200, (response.code, response.body)
        return read_response_text(response)

    async def post(
        self,
        body: Union[str, bytes],
        headers: Optional[Dict[str, str]] = None,
    ) -> HTTPResponse:
        """``POST`` a raw body (one packet or a payload framed by the caller)."""
        return await self.client.fetch(
            self.path + "?t=1700000000002",
            method="POST",
            body=body,
            headers={**self.headers, **(headers or {})},
        )

    async def send(self, *packets: str) -> None:
        """POST one packet bare or several framed; fails the test unless answered ``200 1``."""
        body = packets[0] if len(packets) == 1 else frame(packets)
        response = await self.post(body)
        assert response.code == 200, (response.code, response.body)
        assert response.body == b"1", response.body


def unused_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for servers that bind themselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RawHttpResponse:
    """The head of an HTTP/1.1 response read off a raw socket, and its body chunk by chunk.

    Chunk boundaries are the server's own (``Transfer-Encoding: chunked``), so a
    test can check what each flush wrote.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 status: int, headers: List[Tuple[str, str]]) -> None:
        self.reader = reader
        self.writer = writer
        self.status = status
        self.header_list = headers
        self.headers = {name.lower(): value for name, value in headers}
        self.ended = False

    @property
    def chunked(self) -> bool:
        return self.headers.get("transfer-encoding", "").lower() == "chunked"

    async def read_chunk(self, timeout: float = 5.0) -> Optional[bytes]:
        """The next chunk's data; ``None`` after the last (zero-length) chunk."""
        assert self.chunked, self.headers

        async def read() -> Optional[bytes]:
            size_line = await self.reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            data = await self.reader.readexactly(size)
            assert await self.reader.readexactly(2) == b"\r\n"
            if size == 0:
                self.ended = True
                return None
            return data

        return await asyncio.wait_for(read(), timeout)

    async def read_body(self, timeout: float = 5.0) -> bytes:
        """The rest of the body: every chunk until the last, or ``Content-Length`` bytes."""
        if self.chunked:
            parts = []
            while True:
                chunk = await self.read_chunk(timeout)
                if chunk is None:
                    return b"".join(parts)
                parts.append(chunk)
        length = int(self.headers.get("content-length", "0"))
        return await asyncio.wait_for(self.reader.readexactly(length), timeout)

    def close(self) -> None:
        """Drop the TCP connection (a client that goes away mid-stream)."""
        self.writer.close()

    async def aclose(self) -> None:
        """Drop the TCP connection and wait until the socket is really closed."""
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass


async def raw_request(port: int, method: str, path: str,
                      headers: Optional[Dict[str, str]] = None, body: bytes = b"",
                      timeout: float = 5.0) -> RawHttpResponse:
    """Send one HTTP/1.1 request to ``127.0.0.1:port`` and read the response head."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    hdrs = {"Host": "127.0.0.1:%d" % port, **(headers or {})}
    if body or method == "POST":
        hdrs["Content-Length"] = str(len(body))
    head = "%s %s HTTP/1.1\r\n" % (method, path)
    head += "".join("%s: %s\r\n" % item for item in hdrs.items()) + "\r\n"
    writer.write(head.encode("latin-1") + body)
    raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers_out = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers_out.append((name.strip(), value.strip()))
    return RawHttpResponse(reader, writer, status, headers_out)
