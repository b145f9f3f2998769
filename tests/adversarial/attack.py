"""What the adversarial tests share: a live server, raw sockets, a normal client.

Every attack here runs against a real server on 127.0.0.1, over raw TCP, so
that the tests see exactly what an attacker's script would: the bytes the
server answers, when it closes, how long a well-behaved client waits
meanwhile. Run as ``python -m tests.adversarial.attack serve LIMIT`` this
module is also the server process of the descriptor-exhaustion test.
"""

import asyncio
import os
import resource
import socket
import sys
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple, Type

import tornado.web
from tornado.netutil import bind_sockets

from tornadio2 import SocketConnection, TornadioRouter
from tornadio2.server import GuardedHTTPServer

LOOPBACK = "127.0.0.1"

#: How long a normal client may wait for its answer while an attack runs.
NORMAL_ANSWER_SECONDS = 1.0


class Echo(SocketConnection):
    """The application under attack: it echoes messages."""

    def on_message(self, message: Any) -> None:
        self.send(message)


class Server:
    """A router served by a :class:`GuardedHTTPServer` on a free port."""

    def __init__(self, router: TornadioRouter, http: GuardedHTTPServer, port: int) -> None:
        self.router = router
        self.http = http
        self.port = port


@asynccontextmanager
async def live_server(settings: Optional[Dict[str, Any]] = None,
                      connection: Optional[Type[SocketConnection]] = None,
                      **server_kwargs: Any) -> AsyncIterator[Server]:
    """Serve ``connection`` (:class:`Echo`) with router ``settings`` and ``GuardedHTTPServer`` kwargs."""
    router = TornadioRouter(connection or Echo, dict({"client_path": None}, **(settings or {})))
    http = GuardedHTTPServer(tornado.web.Application(router.urls), **server_kwargs)
    sockets = bind_sockets(0, LOOPBACK, family=socket.AF_INET)
    http.add_sockets(sockets)
    try:
        yield Server(router, http, sockets[0].getsockname()[1])
    finally:
        http.stop()
        router.stop()
        await http.close_all_connections()


async def open_raw(port: int) -> Tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A plain TCP connection to the server."""
    return await asyncio.open_connection(LOOPBACK, port)


async def read_response(reader: asyncio.StreamReader,
                        timeout: float = 2.0) -> Tuple[int, Dict[str, str], bytes]:
    """One HTTP response with a ``Content-Length`` body: status, headers, body."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await asyncio.wait_for(reader.readexactly(length), timeout) if length else b""
    return status, headers, body


async def request(port: int, text: bytes, timeout: float = 2.0) -> Tuple[int, Dict[str, str], bytes]:
    """Send ``text`` (a whole request) on a new connection; read the answer."""
    reader, writer = await open_raw(port)
    try:
        writer.write(text)
        return await read_response(reader, timeout)
    finally:
        writer.close()


async def normal_handshake(port: int, timeout: float = NORMAL_ANSWER_SECONDS) -> float:
    """A normal client's handshake; fails unless answered 200 in ``timeout``. Seconds taken."""
    started = time.monotonic()
    status, _, body = await asyncio.wait_for(
        request(port, b"GET /socket.io/1/ HTTP/1.1\r\nHost: t\r\n\r\n", timeout), timeout)
    assert status == 200, (status, body)
    assert body.count(b":") == 3, body
    return time.monotonic() - started


async def closed_by_server(reader: asyncio.StreamReader, timeout: float) -> bool:
    """Whether the server closes the connection within ``timeout`` (EOF or reset)."""
    try:
        while await asyncio.wait_for(reader.read(65536), timeout):
            pass
    except asyncio.TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


def open_descriptors() -> int:
    """How many file descriptors this process holds."""
    return len(os.listdir("/proc/self/fd"))


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` so far."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def close_all(writers: List[asyncio.StreamWriter]) -> None:
    """Close every attacker connection."""
    for writer in writers:
        writer.close()


def _serve(limit: int) -> None:
    """The server process of the descriptor-exhaustion test: one port, printed."""
    import logging

    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    # Tornado's access log would write a line per normal request; not what is measured.
    logging.getLogger("tornado.access").setLevel(logging.WARNING)

    async def main() -> None:
        # Attackers hold their sockets for the whole test: no timeout frees them.
        async with live_server(idle_connection_timeout=3600) as server:
            print(server.port, flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(main())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        _serve(int(sys.argv[2]))
    else:
        sys.exit("usage: python -m tests.adversarial.attack serve RLIMIT_NOFILE")
