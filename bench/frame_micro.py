#!/usr/bin/env python3
"""Server instructions per websocket echo, by engine (lean or Tornado's handler).

    python bench/frame_micro.py --engine lean                 # wall time per echo
    python bench/frame_micro.py --engine lean --instructions  # instructions per echo (valgrind)

The server (a router whose connection echoes messages) runs in this process;
a child process (plain blocking sockets) makes one session and sends
``count`` messages, each after the echo of the one before (C=1). With
``--instructions`` the server runs under valgrind's cachegrind at two counts
and the difference in instructions is divided by the difference in echoes,
so start-up drops out; the child is not traced. Kernel time is not counted:
this is the user-space cost of one frame in, one session dispatch, one frame
out. Needs ``valgrind``; Python runs with ``PYTHONHASHSEED=0``.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CLIENT = r"""
import base64, os, socket, struct, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET /socket.io/1/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sid = data.split(b"\r\n\r\n", 1)[1].split(b":")[0]
w = socket.create_connection(("127.0.0.1", port))
w.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
w.sendall(b"GET /socket.io/1/websocket/" + sid + b" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
          b"Connection: Upgrade\r\nSec-WebSocket-Key: " + base64.b64encode(os.urandom(16))
          + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
got = b""
while not got.endswith(b"1::"):
    got += w.recv(4096)
payload = b"3:::" + b"m" * 60
frame = bytes((0x81, 0x80 | len(payload))) + b"\0\0\0\0" + payload  # mask 0: payload as is
want = 2 + len(payload)
for _ in range(count):
    w.sendall(frame)
    got = b""
    while len(got) < want:
        got += w.recv(4096)
w.close()
"""


async def serve(engine: str, count: int) -> float:
    from tornado.httpserver import HTTPServer
    from tornado.netutil import bind_sockets
    from tornado.web import Application

    from tornadio2 import SocketConnection, TornadioRouter

    class Echo(SocketConnection):
        def on_message(self, message: str) -> None:
            self.send(message)

    router = TornadioRouter(Echo, {"websocket_engine": engine, "heartbeat_interval": 600,
                                   "enabled_protocols": ["websocket"], "client_path": None})
    server = HTTPServer(Application(router.urls))
    sockets = bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    started = time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLIENT, str(sockets[0].getsockname()[1]), str(count))
    await child.wait()
    took = time.perf_counter() - started
    server.stop()
    router.stop()
    return took


def instructions(engine: str, count: int) -> float:
    """Instructions per echo: cachegrind totals at ``count`` and ``6 * count`` echoes."""
    totals = []
    env = dict(os.environ, PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (count, 6 * count):
            out = os.path.join(tmp, "cachegrind.%d" % n)
            subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                            "--cachegrind-out-file=" + out, sys.executable, __file__,
                            "--engine", engine, "--count", str(n)],
                           check=True, env=env, capture_output=True)
            with open(out, encoding="utf-8") as stats:
                summary = [line for line in stats if line.startswith("summary:")]
            totals.append(int(summary[0].split()[1]))
    return (totals[1] - totals[0]) / (5 * count)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--engine", default="lean", choices=["lean", "tornado"])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--instructions", action="store_true")
    args = parser.parse_args()
    if args.instructions:
        print("%s: %.0f instructions per echo" % (args.engine, instructions(args.engine, 300)))
    else:
        took = asyncio.run(serve(args.engine, args.count))
        print("%s: %.1f us per echo (C=1, wall clock)" % (args.engine, took / args.count * 1e6))


if __name__ == "__main__":
    main()
