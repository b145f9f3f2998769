"""Fixtures of the RFC 6455 tests: a tornadio2 server per engine, a raw-socket client.

Every test that takes ``server`` runs twice, once with ``websocket_engine``
``'lean'`` and once with ``'tornado'``. The client is written here on raw
sockets (asyncio streams), not Tornado's, so that it can break the rules on
purpose (unmasked frames, reserved bits, bad UTF-8) and see every byte the
server sends.
"""

import asyncio
import base64
import hashlib
import os
import shutil
import ssl
import struct
import subprocess
from typing import Any, Dict, List, Optional, Tuple

import pytest
import tornado.web
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets

from tornadio2 import SocketConnection, TornadioRouter

TIMEOUT = 5.0
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "settings(**kwargs): router settings of this test's server")


class Events:
    """What the server-side connections saw, with awaitable conditions."""

    def __init__(self) -> None:
        self.items: List[Tuple[str, Any]] = []
        self.changed = asyncio.Event()

    def add(self, *item: Any) -> None:
        self.items.append(item)
        self.changed.set()

    async def wait_for(self, item: Tuple[str, Any], timeout: float = TIMEOUT) -> None:
        async def until() -> None:
            while item not in self.items:
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(until(), timeout)


EVENTS = Events()


class Echo(SocketConnection):
    """Echoes messages; ``flood:<count>:<size>`` sends ``count`` messages of ``size`` bytes,
    one per IOLoop turn, until the session closes."""

    def on_open(self, info: Any) -> None:
        self.flooded = 0

    def on_message(self, message: Any) -> None:
        if isinstance(message, str) and message.startswith("flood:"):
            _, count, size = message.split(":")
            IOLoop.current().add_callback(self._flood, int(count), "f" * int(size))
            return
        self.send(message)

    def _flood(self, left: int, text: str) -> None:
        if left <= 0 or self.session.is_closed:
            EVENTS.add("flood-stopped", self.flooded)
            return
        self.send(text)
        self.flooded += 1
        IOLoop.current().add_callback(self._flood, left - 1, text)

    def on_close(self) -> None:
        EVENTS.add("closed", self.session.session_id)


class RawWebSocket:
    """A client's side of one websocket, frame by frame."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def send_frame(self, opcode: int, payload: bytes = b"", fin: bool = True,
                   masked: bool = True, rsv: int = 0) -> None:
        size = len(payload)
        first = (0x80 if fin else 0) | rsv | opcode
        bit = 0x80 if masked else 0
        if size < 126:
            head = bytes((first, bit | size))
        elif size < 65536:
            head = struct.pack("!BBH", first, bit | 126, size)
        else:
            head = struct.pack("!BBQ", first, bit | 127, size)
        if masked:
            key = os.urandom(4)
            head += key
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if size < 4096 \
                else _mask_big(key, payload)
        self.writer.write(head + payload)

    def send_text(self, text: str) -> None:
        self.send_frame(0x1, text.encode("utf-8"))

    async def read_frame(self, timeout: float = TIMEOUT) -> Optional[Tuple[bool, int, bytes]]:
        """``(fin, opcode, payload)`` of the next server frame, ``None`` at end of stream."""
        try:
            head = await asyncio.wait_for(self.reader.readexactly(2), timeout)
        except (asyncio.IncompleteReadError, ConnectionResetError):
            return None
        assert not head[1] & 0x80, "a server frame must not be masked"
        size = head[1] & 0x7F
        if size == 126:
            size = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        payload = await asyncio.wait_for(self.reader.readexactly(size), timeout)
        return bool(head[0] & 0x80), head[0] & 0x0F, payload

    async def read_text(self) -> str:
        frame = await self.read_frame()
        assert frame is not None and frame[1] == 0x1 and frame[0], frame
        return frame[2].decode("utf-8")

    async def read_close(self) -> Tuple[Optional[int], bool]:
        """Read to the end: ``(code of the close frame or None, whether one came)``.

        Text frames before the close are skipped; the close is answered and the
        stream must end after it.
        """
        while True:
            frame = await self.read_frame()
            if frame is None:
                return None, False
            if frame[1] == 0x8:
                code = struct.unpack("!H", frame[2][:2])[0] if len(frame[2]) >= 2 else None
                try:  # answer it, as a client does (the server may wait for that)
                    self.send_frame(0x8, frame[2][:2])
                except ConnectionError:
                    pass
                rest = await self.read_frame()
                assert rest is None, rest
                return code, True

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass


def _mask_big(key: bytes, data: bytes) -> bytes:
    stream = (key * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(data), "big")


class Server:
    """A started tornadio2 server and how to reach it."""

    def __init__(self, port: int, router: TornadioRouter, engine: str, scheme: str,
                 client_ssl: Optional[ssl.SSLContext]) -> None:
        self.port = port
        self.router = router
        self.engine = engine
        self.scheme = scheme
        self.client_ssl = client_ssl
        self.sockets: List[RawWebSocket] = []

    async def _request(self, head: bytes) -> Tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", self.port, ssl=self.client_ssl,
            server_hostname="127.0.0.1" if self.client_ssl else None)
        writer.write(head)
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        return reader, writer, answer

    async def handshake(self) -> str:
        reader, writer, answer = await self._request(
            b"GET /socket.io/1/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        body = await asyncio.wait_for(reader.read(), TIMEOUT)
        writer.close()
        await writer.wait_closed()
        assert answer.startswith(b"HTTP/1.1 200"), answer
        return body.decode().split(":")[0]

    async def connect(self, sid: Optional[str] = None) -> RawWebSocket:
        """Handshake, upgrade and read the ``1::`` frame."""
        sid = sid or await self.handshake()
        key = base64.b64encode(os.urandom(16))
        reader, writer, answer = await self._request(
            b"GET /socket.io/1/websocket/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n" % (sid.encode(), key))
        assert answer.startswith(b"HTTP/1.1 101"), answer
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        fields = dict(line.split(b": ", 1) for line in answer.split(b"\r\n")[1:] if b": " in line)
        assert {k.lower(): v for k, v in fields.items()}[b"sec-websocket-accept"] == accept
        ws = RawWebSocket(reader, writer)
        self.sockets.append(ws)
        assert await ws.read_text() == "1::"
        return ws


def _start(io_loop: Any, engine: str, settings: Dict[str, Any],
           server_ssl: Optional[ssl.SSLContext] = None,
           client_ssl: Optional[ssl.SSLContext] = None) -> Tuple[Server, HTTPServer]:
    EVENTS.items.clear()
    router = TornadioRouter(Echo, dict(settings, websocket_engine=engine))
    http = HTTPServer(tornado.web.Application(router.urls), ssl_options=server_ssl)
    sockets = bind_sockets(0, "127.0.0.1")
    http.add_sockets(sockets)
    return Server(sockets[0].getsockname()[1], router, engine, "wss" if server_ssl else "ws",
                  client_ssl), http


def _stop(io_loop: Any, srv: Server, http: HTTPServer) -> None:
    async def close() -> None:
        for ws in srv.sockets:
            await ws.close()
        srv.router.stop()
        http.stop()
        await http.close_all_connections()
        for _ in range(3):
            await asyncio.sleep(0)
    io_loop.run_sync(close)


@pytest.fixture(params=["lean", "tornado"])
def engine(request: Any) -> str:
    return request.param


@pytest.fixture
def server_settings(request: Any) -> Dict[str, Any]:
    marker = request.node.get_closest_marker("settings")
    return dict(marker.kwargs) if marker else {}


@pytest.fixture
def server(io_loop: Any, engine: str, server_settings: Dict[str, Any]) -> Any:
    srv, http = _start(io_loop, engine, server_settings)
    yield srv
    _stop(io_loop, srv, http)


@pytest.fixture
def tls_contexts(tmp_path: Any) -> Tuple[ssl.SSLContext, ssl.SSLContext]:
    """``(server, client)`` TLS contexts for a throwaway certificate of 127.0.0.1."""
    if not shutil.which("openssl"):
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs the openssl command for the wss test")
        pytest.skip("no openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(str(cert), str(key))
    return server_context, ssl.create_default_context(cafile=str(cert))


@pytest.fixture
def tls_server(io_loop: Any, engine: str, tls_contexts: Any) -> Any:
    srv, http = _start(io_loop, engine, {}, *tls_contexts)
    yield srv
    _stop(io_loop, srv, http)
