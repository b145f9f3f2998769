"""Memory per idle websocket session, measured with tracemalloc in the server process.

    .venv/bin/python bench/ws_memory.py --engine lean --sessions 1000 5000 10000

The server runs here, under ``tracemalloc``; a child process (plain blocking
sockets, no Tornado) makes the sessions: handshake, upgrade, read ``1::``,
then holds them. The figure is the growth of traced memory between a warm
server with no session and the same server holding N idle sessions, over N,
after ``gc.collect()``; the growth of the process's RSS is printed too.
Heartbeats are pushed out of the window (interval 600 s). ``connect_per_s``
is how fast the (sequential) client got its sessions: a rough connection
storm figure, for ``--tune-gc`` (``tornadio2.server.tune_gc``) on and off.
"""

import argparse
import asyncio
import gc
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tornado.httpserver import HTTPServer  # noqa: E402
from tornado.netutil import bind_sockets  # noqa: E402
from tornado.web import Application  # noqa: E402

from tornadio2 import SocketConnection, TornadioRouter  # noqa: E402
from tornadio2.server import tune_gc  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rawclient import child_script  # noqa: E402

CLIENT = child_script(r"""
port, count = int(sys.argv[1]), int(sys.argv[2])
held = [upgrade(port, handshake(port)) for _ in range(count)]
print("ready", flush=True)
sys.stdin.read()
""")


def rss_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


async def hold(port: int, count: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLIENT, str(port), str(count),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    line = await proc.stdout.readline()
    assert line.strip() == b"ready", line
    return proc


async def release(proc: asyncio.subprocess.Process, router: TornadioRouter) -> None:
    proc.stdin.close()
    await proc.wait()
    while len(router.sessions):
        await asyncio.sleep(0.05)


async def measure(engine: str, counts: list, tuned: bool) -> list:
    router = TornadioRouter(SocketConnection, {
        "websocket_engine": engine, "heartbeat_interval": 600, "session_expiry": 600,
        "enabled_protocols": ["websocket"], "client_path": None})
    server = HTTPServer(Application(router.urls))
    sockets = bind_sockets(0, "127.0.0.1", backlog=4096)
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    await release(await hold(port, 50), router)  # warm every code path and cache
    if tuned:
        tune_gc()
    rows = []
    for count in counts:
        gc.collect()
        before, rss_before = tracemalloc.get_traced_memory()[0], rss_kb()
        started = time.perf_counter()
        proc = await hold(port, count)
        took = time.perf_counter() - started
        gc.collect()
        after, rss_after = tracemalloc.get_traced_memory()[0], rss_kb()
        assert len(router.sessions) == count, len(router.sessions)
        rows.append({"engine": engine, "sessions": count,
                     "traced_kb_per_session": round((after - before) / count / 1024, 2),
                     "rss_kb_per_session": round((rss_after - rss_before) / count, 2),
                     "connect_per_s": round(count / took), "tune_gc": tuned})
        print(json.dumps(rows[-1]), flush=True)
        await release(proc, router)
    server.stop()
    router.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--engine", default="lean", choices=["lean", "tornado"])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1000])
    parser.add_argument("--tune-gc", action="store_true", help="call tornadio2.server.tune_gc()")
    parser.add_argument("--no-trace", action="store_true",
                        help="no tracemalloc (for connect_per_s; traced figures are then 0)")
    args = parser.parse_args()
    if not args.no_trace:
        tracemalloc.start()
    asyncio.run(measure(args.engine, args.sessions, args.tune_gc))


if __name__ == "__main__":
    main()
