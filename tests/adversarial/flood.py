"""What the adversarial tests share: a server in its own process, a probe, raw sockets.

The server under attack runs in a subprocess (``python -m
tests.adversarial.flood SETTINGS_JSON``), so that its memory (peak RSS) and
its log are its own, and a held event loop shows as a late answer to
another client. It serves ``Echo`` (echoes every message; a ``/slow``
endpoint whose ``on_open`` never finishes) and ``/status``: the stats'
``dump()``, the disconnects by reason, and the process's current and peak
RSS.

:func:`probe` is the other client: a handshake, then a websocket echo,
timed. :class:`Attack` runs probes while an attack runs and keeps the
slowest answer.
"""

import asyncio
import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
from typing import Any, Awaitable, Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: Longest a probe may wait for the server, during and after an attack.
PROBE_DEADLINE = 1.0
#: Seconds a server process gets to start.
START_TIMEOUT = 15.0


# -- the server side (runs in the subprocess) -------------------------------------------


def _status_kb(field: str) -> int:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of this process, in KiB.

    Not ``ru_maxrss``: it survives ``exec``, so a child of a large test
    process would report the parent's peak.
    """
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0  # pragma: no cover - Linux only


def _serve(settings: Dict[str, Any]) -> None:  # pragma: no cover - runs in the subprocess
    import logging

    import tornado.httpserver
    import tornado.netutil
    import tornado.web

    from tornadio2 import SocketConnection, TornadioRouter

    class Slow(SocketConnection):
        async def on_open(self, info: Any) -> None:
            await asyncio.Event().wait()  # never finishes: packets for it wait

    class Echo(SocketConnection):
        __endpoints__ = {"/slow": Slow}

        def on_message(self, message: Any) -> None:
            self.send(message)

    class Status(tornado.web.RequestHandler):
        def get(self) -> None:
            self.write({
                "stats": router.stats.dump(),
                "disconnects": router.stats.disconnects,
                "sessions": len(list(router.sessions)),
                "rss_kb": _status_kb("VmRSS"),
                "maxrss_kb": _status_kb("VmHWM"),
            })

    async def main() -> None:
        app = tornado.web.Application([(r"/status", Status)] + router.urls)
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        tornado.httpserver.HTTPServer(app).add_sockets(sockets)
        print("PORT %d" % sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s %(message)s")
    router = TornadioRouter(Echo, {"client_path": None, **settings})
    asyncio.run(main())


# -- the test side ---------------------------------------------------------------------------


class Server:
    """A tornadio2 server in a subprocess, with ``settings``; use as a context manager."""

    def __init__(self, settings: Dict[str, Any], log_path: str) -> None:
        self.settings = settings
        self.log_path = log_path
        self.process: Optional[subprocess.Popen] = None
        self.port = 0

    def __enter__(self) -> "Server":
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.adversarial.flood", json.dumps(self.settings)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self._log)
        assert self.process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        line = b""
        while time.monotonic() < deadline and not line.startswith(b"PORT "):
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                break
        assert line.startswith(b"PORT "), "the server did not start: %r" % self.log()
        self.port = int(line.split()[1])
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a wedged server
            self.process.kill()
            self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()
        self._log.close()

    @property
    def base_url(self) -> str:
        return "http://127.0.0.1:%d" % self.port

    def log(self) -> str:
        """What the server logged so far."""
        with open(self.log_path, "rb") as log:
            return log.read().decode("utf-8", "replace")

    async def status(self) -> Dict[str, Any]:
        """The server's ``/status``: stats, disconnects, RSS."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(b"GET /status HTTP/1.0\r\nHost: x\r\n\r\n")
            raw = await asyncio.wait_for(reader.read(), 10)
        finally:
            writer.close()
        return json.loads(raw.split(b"\r\n\r\n", 1)[1])


async def http(port: int, method: str, path: str, body: bytes = b"",
               timeout: float = 30.0) -> "tuple[int, bytes]":
    """One HTTP/1.0 request on a fresh socket: ``(status, body)``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n" \
               "Content-Type: text/plain;charset=UTF-8\r\n\r\n" % (method, path, len(body))
        writer.write(head.encode("ascii") + body)
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    return int(status_line.split()[1]), rest.split(b"\r\n\r\n", 1)[-1]


async def handshake(port: int) -> str:
    """A new session id."""
    status, body = await http(port, "GET", "/socket.io/1/?t=1")
    assert status == 200, (status, body)
    return body.decode("ascii").split(":", 1)[0]


def frame(packets: List[str]) -> str:
    """A polling payload of ``packets`` (ASCII or BMP text only)."""
    return "".join("\ufffd%d\ufffd%s" % (len(packet), packet) for packet in packets)


async def probe(port: int) -> float:
    """Another client: handshake, websocket, one echo. Seconds it took."""
    from tornado.websocket import websocket_connect

    started = time.monotonic()
    sid = await handshake(port)
    conn = await websocket_connect("ws://127.0.0.1:%d/socket.io/1/websocket/%s" % (port, sid))
    try:
        assert await conn.read_message() == "1::"
        conn.write_message("3:::probe")
        assert await conn.read_message() == "3:::probe"
    finally:
        conn.close()
    return time.monotonic() - started


class Attack:
    """Probe the server every ``interval`` seconds while ``attack`` runs; keep the slowest."""

    def __init__(self, port: int, interval: float = 0.05) -> None:
        self.port = port
        self.interval = interval
        self.latencies: List[float] = []

    async def run(self, attack: Awaitable[Any], limit: float = 30.0) -> Any:
        """``attack``'s result; probes keep running alongside it."""
        task = asyncio.ensure_future(attack)
        while not task.done():
            self.latencies.append(await asyncio.wait_for(probe(self.port), limit))
            await asyncio.wait([task], timeout=self.interval)
        return task.result()

    @property
    def slowest(self) -> float:
        return max(self.latencies)


async def raw_websocket(port: int, sid: str, rcvbuf: int = 4096) -> "tuple[Any, Any]":
    """A websocket to session ``sid`` on a socket with a small receive buffer.

    Nothing reads from it after the upgrade (the stream pauses once its own
    small buffer is full), so what the server writes piles up on the server.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=rcvbuf)
    writer.write((
        "GET /socket.io/1/websocket/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n" % sid).encode("ascii"))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 101"), head
    return reader, writer


async def raw_htmlfile(port: int, sid: str, rcvbuf: int = 4096) -> "tuple[Any, Any]":
    """An htmlfile stream of session ``sid`` on a socket with a small receive buffer.

    As with :func:`raw_websocket`, nothing reads it after the headers.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=rcvbuf)
    writer.write(("GET /socket.io/1/htmlfile/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                  % sid).encode("ascii"))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 200"), head
    return reader, writer


def ws_frame(text: str) -> bytes:
    """A client's text frame (masked with a zero key, so the payload goes as is)."""
    payload = text.encode("utf-8")
    size = len(payload)
    if size < 126:
        header = bytes([0x81, 0x80 | size])
    elif size < 65536:
        header = bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        header = bytes([0x81, 0x80 | 127]) + size.to_bytes(8, "big")
    return header + b"\0\0\0\0" + payload


def figures(name: str, attack: Optional[Attack], before: Dict[str, Any],
            after: Dict[str, Any]) -> None:
    """Log what an attack cost (see them with ``--log-cli-level=INFO``)."""
    logging.getLogger("tests.adversarial").info(
        "%s: %d probes, slowest %.3f s; peak RSS %+d KiB (%d -> %d); stats %s; disconnects %s",
        name, len(attack.latencies) if attack else 0, attack.slowest if attack else 0,
        after["maxrss_kb"] - before["maxrss_kb"], before["maxrss_kb"], after["maxrss_kb"],
        {key: value for key, value in after["stats"].items()
         if key.endswith(("dropped", "refused", "overflows")) and value},
        {key: value for key, value in after["disconnects"].items() if value})


@contextlib.contextmanager
def server(tmp_path: Any, **settings: Any) -> Any:
    """``with server(tmp_path, max_payload_packets=...) as srv:`` a server under test."""
    with Server(settings, str(tmp_path / "server.log")) as srv:
        yield srv


if __name__ == "__main__":  # pragma: no cover - the subprocess
    _serve(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
