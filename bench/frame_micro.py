#!/usr/bin/env python3
"""Server instructions per echo, by engine (lean or Tornado's handler), or over xhr-polling.

    python bench/frame_micro.py --engine lean                 # wall time per echo
    python bench/frame_micro.py --engine lean --instructions  # instructions per echo (valgrind)
    python bench/frame_micro.py --engine tornado --kind event --instructions  # ping -> pong
    python bench/frame_micro.py --kind xhr --instructions     # POST 3:::, echo on the long poll
    python bench/frame_micro.py --engine tornado --clients 100 --instructions  # 100 sessions

The server (a router whose connection echoes messages) runs in this process;
a child process (plain blocking sockets) makes one session and sends
``count`` messages, each after the echo of the one before (C=1); with
``--clients N``, N websocket sessions, and each round sends one message on
every one before reading every answer. ``--kind event`` sends an event
``ping`` that an ``@event`` answers with ``emit('pong')``; ``--kind xhr``
POSTs each message over xhr-polling while a long-poll GET waits for its echo
(two keep-alive connections); ``--kind connect`` makes a session (handshake,
upgrade, ``1::``) and closes its socket, ``count`` times. With ``--instructions`` the server runs under
valgrind's cachegrind at two counts and the difference in instructions is
divided by the difference in round trips, so start-up drops out; the child
is not traced. Kernel time is not counted: this is the user-space cost of
one message in, one session dispatch, one message out.
Needs ``valgrind``; Python runs with ``PYTHONHASHSEED=0``.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rawclient import child_script  # noqa: E402

CLIENT = child_script(r"""
port, count, kind, clients = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
sid = handshake(port)
if kind == "xhr":
    def request(sock, method, body=b""):
        sock.sendall(method + b" /socket.io/1/xhr-polling/" + sid + b" HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def response(sock, buf):
        while b"\r\n\r\n" not in buf:
            buf += sock.recv(65536)
        head, buf = buf.split(b"\r\n\r\n", 1)
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        while len(buf) < length:
            buf += sock.recv(65536)
        return buf[:length], buf[length:]

    import socket
    polling, posting = (socket.create_connection(("127.0.0.1", port)) for _ in range(2))
    request(polling, b"GET")
    body, polled = response(polling, b"")
    assert body == b"1::", body
    payload, posted = b"3:::" + b"m" * 60, b""
    for _ in range(count):
        request(polling, b"GET")
        request(posting, b"POST", payload)
        body, posted = response(posting, posted)
        body, polled = response(polling, polled)
        assert body == payload, body
    sys.exit(0)
if kind == "connect":  # a session made and left, count times
    upgrade(port, sid).close()
    for _ in range(count):
        upgrade(port, handshake(port)).close()
    sys.exit(0)
sockets = [upgrade(port, sid)] + [upgrade(port, handshake(port)) for _ in range(clients - 1)]
if kind == "event":
    payload = b'5:::{"name":"ping","args":[' + b"7" * 32 + b']}'
    want = 2 + len(payload)  # the answer, pong, has a name of the same length
else:
    payload = b"3:::" + b"m" * 60
    want = 2 + len(payload)
frame = bytes((0x81, 0x80 | len(payload))) + b"\0\0\0\0" + payload  # mask 0: payload as is
for _ in range(count):
    for w in sockets:
        w.sendall(frame)
    for w in sockets:
        got = b""
        while len(got) < want:
            got += w.recv(4096)
for w in sockets:
    w.close()
""")


async def serve(engine: str, count: int, kind: str = "echo", clients: int = 1) -> float:
    from tornado.httpserver import HTTPServer
    from tornado.netutil import bind_sockets
    from tornado.web import Application

    from tornadio2 import SocketConnection, TornadioRouter, event

    class Echo(SocketConnection):
        def on_message(self, message: str) -> None:
            self.send(message)

        @event
        def ping(self, number: int) -> None:
            self.emit("pong", number)

    router = TornadioRouter(Echo, {"websocket_engine": engine, "heartbeat_interval": 600,
                                   "enabled_protocols": ["websocket", "xhr-polling"], "client_path": None})
    server = HTTPServer(Application(router.urls))
    sockets = bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    started = time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLIENT, str(sockets[0].getsockname()[1]), str(count), kind, str(clients))
    await child.wait()
    took = time.perf_counter() - started
    server.stop()
    router.stop()
    return took


def instructions(engine: str, count: int, kind: str = "echo", clients: int = 1) -> float:
    """Instructions per round trip: cachegrind totals at ``count`` and ``6 * count`` rounds."""
    totals = []
    env = dict(os.environ, PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (count, 6 * count):
            out = os.path.join(tmp, "cachegrind.%d" % n)
            subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                            "--cachegrind-out-file=" + out, sys.executable, __file__,
                            "--engine", engine, "--count", str(n), "--kind", kind,
                            "--clients", str(clients)],
                           check=True, env=env, capture_output=True)
            with open(out, encoding="utf-8") as stats:
                summary = [line for line in stats if line.startswith("summary:")]
            totals.append(int(summary[0].split()[1]))
    return (totals[1] - totals[0]) / (5 * count * clients)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--engine", default="lean", choices=["lean", "tornado"])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--kind", default="echo", choices=["echo", "event", "xhr", "connect"],
                        help="echo: '3:::' message echoed; event: ping answered by an emitted pong; "
                        "xhr: the echo over xhr-polling (the engine does not apply); "
                        "connect: handshake, websocket upgrade, 1::, close")
    parser.add_argument("--clients", type=int, default=1,
                        help="websocket sessions; each round sends one message on every one, "
                        "then reads every answer")
    parser.add_argument("--instructions", action="store_true")
    args = parser.parse_args()
    if args.instructions:
        rounds = max(300 // args.clients, 10)
        print("%s %s C=%d: %.0f instructions per round trip"
              % (args.engine, args.kind, args.clients,
                 instructions(args.engine, rounds, args.kind, args.clients)))
    else:
        took = asyncio.run(serve(args.engine, args.count, args.kind, args.clients))
        print("%s %s C=%d: %.1f us per round trip (wall clock)"
              % (args.engine, args.kind, args.clients, took / args.count / args.clients * 1e6))


if __name__ == "__main__":
    main()
