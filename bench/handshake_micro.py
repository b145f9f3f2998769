#!/usr/bin/env python3
"""Server CPU per handshake answer: Tornado's ``RequestHandler`` against a target below it.

    python bench/handshake_micro.py handler 5000
    python bench/handshake_micro.py below 5000

An experiment on plain Tornado, not on tornadio2: how much of a handshake's
cost is the ``RequestHandler`` machinery (construction, ``_execute``,
``finish``, the access log) rather than HTTP parsing, the socket and the
kernel. ``handler`` answers ``GET /socket.io/1/`` with a ``RequestHandler``
(etags off, as tornadio2's handlers have them); ``below`` answers from a
callable URL target (Tornado's ``_CallableAdapter``) that writes the same
status line and the same headers (``Server``, ``Content-Type``, ``Date``,
``Content-Length``) on the connection itself. A child process on core 1
makes ``count`` handshakes one after the other, each on a new connection;
the figure is the server process's user + system CPU over them, divided by
``count``. Pin the server: ``taskset -c 0 python bench/handshake_micro.py ...``.
"""

import asyncio
import resource
import subprocess
import sys
import time
from pathlib import Path

import tornado
from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPHeaders, ResponseStartLine, format_timestamp
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rawclient import child_script  # noqa: E402

BODY = b"abcdefghijklmnopqrst:60:60:websocket,xhr-polling"
CLIENT = child_script(r"""
port, count = int(sys.argv[1]), int(sys.argv[2])
for _ in range(count):
    answer = get_until_closed(port, b"/socket.io/1/?t=1")
    assert answer.endswith(b"websocket,xhr-polling"), answer
""")


class Handshake(RequestHandler):
    def compute_etag(self) -> None:
        return None

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.finish(BODY)


def below(request) -> None:  # type: ignore[no-untyped-def]
    headers = HTTPHeaders({"Server": "TornadoServer/%s" % tornado.version,
                           "Content-Type": "text/plain", "Date": format_timestamp(time.time()),
                           "Content-Length": str(len(BODY))})
    request.connection.write_headers(ResponseStartLine("HTTP/1.1", 200, "OK"), headers, BODY)
    request.connection.finish()


async def measure(kind: str, count: int) -> float:
    target = Handshake if kind == "handler" else below
    server = HTTPServer(Application([(r"/socket\.io/1/", target)]))
    sockets = bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    before = resource.getrusage(resource.RUSAGE_SELF)
    child = await asyncio.create_subprocess_exec(
        "taskset", "-c", "1", sys.executable, "-c", CLIENT,
        str(sockets[0].getsockname()[1]), str(count), stdout=subprocess.DEVNULL)
    await child.wait()
    after = resource.getrusage(resource.RUSAGE_SELF)
    server.stop()
    if child.returncode:
        raise SystemExit("the client failed")
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / count


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "handler"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    if kind not in ("handler", "below"):
        raise SystemExit("usage: handshake_micro.py handler|below [count]")
    print("%s: %.1f us server CPU per handshake" % (kind, asyncio.run(measure(kind, count)) * 1e6))


if __name__ == "__main__":
    main()
