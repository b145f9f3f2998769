"""Blocking raw-socket steps of a Socket.IO 0.9 client, for the micro benchmarks' child processes.

A micro benchmark runs its server in its own process and its client in a
child (``python -c SCRIPT``), so that the client's work is not counted;
:func:`child_script` lets such a script use these helpers. Loopback only.
"""

import base64
import os
import socket
from pathlib import Path

__all__ = ["child_script", "get_until_closed", "handshake", "upgrade"]

BENCH_DIR = str(Path(__file__).resolve().parent)


def child_script(body: str) -> str:
    """``body`` (Python source) preceded by the import of these helpers."""
    return "import sys\nsys.path.insert(0, %r)\nfrom rawclient import *\n%s" % (BENCH_DIR, body)


def get_until_closed(port: int, path: bytes) -> bytes:
    """``GET path`` on a new connection (``Connection: close``): the whole response."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    sock.close()
    return data


def handshake(port: int) -> bytes:
    """A new session's id."""
    return get_until_closed(port, b"/socket.io/1/").split(b"\r\n\r\n", 1)[1].split(b":")[0]


def upgrade(port: int, sid: bytes) -> socket.socket:
    """A websocket of session ``sid`` (no Nagle), once ``1::`` came."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(b"GET /socket.io/1/websocket/" + sid + b" HTTP/1.1\r\nHost: x\r\n"
                 b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                 + base64.b64encode(os.urandom(16)) + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
    got = b""
    while not got.endswith(b"1::"):
        got += sock.recv(4096)
    return sock
