"""A target server in its own process, and a raw 0.9 client to hit it with.

The client writes bytes by hand (HTTP/1.1 requests, masked RFC 6455
frames) so that the tests can send what no well-behaved library would, and
it shares no code with tornadio2.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "target_app.py")
IO_TIMEOUT = 5.0


def unused_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TargetServer:
    """``target_app.py`` running in a subprocess, its stderr kept in a file."""

    def __init__(self, settings: Dict[str, Any], log_path: str) -> None:
        self.port = unused_port()
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, APP, str(self.port), json.dumps(settings)],
            stdout=subprocess.PIPE, stderr=self._log, cwd=ROOT, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            self.stop()
            raise RuntimeError("target app did not start: %r\n%s" % (line, self.log()))

    def log(self) -> str:
        """What the server logged so far."""
        self._log.flush()
        with open(self.log_path) as log:
            return log.read()

    def stop(self) -> None:
        """Stop the process by pid and close its log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()


# -- HTTP ------------------------------------------------------------------------

class Response:
    """Status, lower-cased headers and body of one HTTP response."""

    def __init__(self, status: int, headers: Dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


async def read_head(reader: asyncio.StreamReader) -> Tuple[int, Dict[str, str]]:
    """Read a status line and headers."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IO_TIMEOUT)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def read_response(reader: asyncio.StreamReader) -> Response:
    """Read one whole response (Content-Length or chunked)."""
    status, headers = await read_head(reader)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await asyncio.wait_for(reader.readline(), IO_TIMEOUT)).strip() or b"0", 16)
            chunk = await asyncio.wait_for(reader.readexactly(size + 2), IO_TIMEOUT)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        length = int(headers.get("content-length", "0"))
        body = await asyncio.wait_for(reader.readexactly(length), IO_TIMEOUT)
    return Response(status, headers, body)


def request_bytes(method: str, path: str, body: bytes = b"",
                  headers: Optional[Dict[str, str]] = None) -> bytes:
    """A well-formed HTTP/1.1 request."""
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1"]
    for name, value in (headers or {}).items():
        lines.append("%s: %s" % (name, value))
    if body or method == "POST":
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class HttpClient:
    """One keep-alive connection; requests one after another."""

    def __init__(self, port: int, source: str = "127.0.0.1") -> None:
        self.port = port
        self.source = source
        self._streams: Optional[Tuple[asyncio.StreamReader, asyncio.StreamWriter]] = None

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: Optional[Dict[str, str]] = None) -> Response:
        if self._streams is None:
            self._streams = await asyncio.open_connection("127.0.0.1", self.port,
                                                          local_addr=(self.source, 0))
        reader, writer = self._streams
        writer.write(request_bytes(method, path, body, headers))
        response = await read_response(reader)
        if response.headers.get("connection", "").lower() == "close":
            await self.close()
        return response

    async def handshake(self) -> str:
        """A new session id."""
        response = await self.request("GET", "/socket.io/1/?t=%d" % time.monotonic_ns())
        assert response.status == 200, response.text
        return response.text.split(":")[0]

    async def close(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass


async def health(port: int) -> Dict[str, int]:
    """The target's memory, descriptors and live sessions."""
    client = HttpClient(port)
    try:
        response = await client.request("GET", "/_health", headers={"Connection": "close"})
        return json.loads(response.body)
    finally:
        await client.close()


async def handshake_time(port: int) -> float:
    """Seconds a fresh client waits for a handshake (the "is anyone else served" probe)."""
    started = time.monotonic()
    client = HttpClient(port)
    try:
        await asyncio.wait_for(client.handshake(), IO_TIMEOUT)
    finally:
        await client.close()
    return time.monotonic() - started


# -- websocket -------------------------------------------------------------------

def ws_frame(payload: bytes, opcode: int = 0x1, fin: bool = True, mask: bytes = b"\x01\x02\x03\x04") -> bytes:
    """A masked client frame."""
    head = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([0x80 | size])
    elif size < 65536:
        head += bytes([0x80 | 126]) + size.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + size.to_bytes(8, "big")
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return head + mask + masked


async def read_ws_frame(reader: asyncio.StreamReader) -> Tuple[int, bytes]:
    """One unmasked server frame: (opcode, payload)."""
    first, second = await asyncio.wait_for(reader.readexactly(2), IO_TIMEOUT)
    size = second & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8), "big")
    return first & 0x0F, await asyncio.wait_for(reader.readexactly(size), IO_TIMEOUT)


async def ws_open(port: int, sid: str) -> Tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Upgrade to the websocket transport of ``sid``; the 101 has been read."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request_bytes("GET", "/socket.io/1/websocket/%s" % sid, headers={
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "http://127.0.0.1"}))
    status, _ = await read_head(reader)
    assert status == 101, status
    return reader, writer


async def ws_cycle(client: HttpClient, port: int) -> None:
    """Handshake, websocket connect, read ``1::``, disconnect with ``0::``."""
    sid = await client.handshake()
    reader, writer = await ws_open(port, sid)
    try:
        opcode, payload = await read_ws_frame(reader)
        assert (opcode, payload) == (1, b"1::"), (opcode, payload)
        writer.write(ws_frame(b"0::"))
        writer.write(ws_frame(b"", opcode=0x8))
        await asyncio.wait_for(reader.read(), IO_TIMEOUT)  # until the server closes
    finally:
        writer.close()


async def xhr_cycle(client: HttpClient) -> None:
    """Handshake, one xhr-polling GET (``1::``), disconnect with a ``0::`` POST."""
    sid = await client.handshake()
    path = "/socket.io/1/xhr-polling/%s" % sid
    opened = await client.request("GET", path + "?t=1")
    assert (opened.status, opened.text) == (200, "1::"), (opened.status, opened.text)
    closed = await client.request("POST", path + "?t=2", b"0::", {"Content-Type": "text/plain"})
    assert closed.status == 200, closed.status


async def run_cycles(port: int, transport: str, count: int, workers: int, deadline: float) -> int:
    """Run ``count`` cycles over ``workers`` connections; stop at ``deadline``. Returns cycles done."""
    done = [0]

    async def worker(share: int) -> None:
        client = HttpClient(port)
        try:
            for _ in range(share):
                if time.monotonic() > deadline:
                    return
                if transport == "websocket":
                    await ws_cycle(client, port)
                else:
                    await xhr_cycle(client)
                done[0] += 1
        finally:
            await client.close()

    shares: List[int] = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
    await asyncio.gather(*(worker(share) for share in shares))
    return done[0]
