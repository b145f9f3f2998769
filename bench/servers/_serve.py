"""What the two Python benchmark servers share: command line, listening, shutdown, profiling.

Each server binds 127.0.0.1 (port 0 picks a free one), prints one JSON line
``{"listening": PORT}`` once it accepts connections and runs until SIGTERM or
SIGINT. With ``--profile FILE`` the IOLoop runs under cProfile and the stats
are written to FILE on shutdown (``python -m pstats FILE`` reads them).

Environment, for trying options on any server: ``BENCH_TUNE_GC=1`` freezes
the start-up objects out of the garbage collector's reach and raises the
young-generation threshold to 50,000 (what ``tornadio2.server.tune_gc``
does), ``BENCH_UVLOOP=1`` runs on uvloop (which must be installed).
"""

import argparse
import asyncio
import cProfile
import gc
import json
import logging
import os
import signal
import sys
from typing import Awaitable, Callable, Optional

import tornado.httpserver
import tornado.netutil
import tornado.web

__all__ = ["parse_args", "serve", "LISTEN_BACKLOG"]

#: Accept queue length: idle rows open sessions a hundred at a time.
LISTEN_BACKLOG = 1024


def parse_args(doc: Optional[str]) -> argparse.Namespace:
    """``--port``, ``--heartbeat`` (seconds, 0 = none), ``--profile`` and ``--metrics``."""
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument("--heartbeat", type=float, default=60,
                        help="heartbeat interval in seconds (0: no heartbeats)")
    parser.add_argument("--profile", metavar="FILE",
                        help="run under cProfile and write the stats to FILE on exit")
    parser.add_argument("--metrics", action="store_true",
                        help="tornadio2 only: Prometheus metrics on (bytes counted, /metrics)")
    parser.add_argument("--broker", metavar="URL",
                        help="tornadio2 only: broker_url (Redis), for the scale-out rows")
    parser.add_argument("--node", metavar="ID", help="tornadio2 only: node_id")
    parser.add_argument("--to-all", action="store_true",
                        help="tornadio2 only: broadcast with router.to_all() (implied by --broker)")
    return parser.parse_args()


def serve(make_app: Callable[[], tornado.web.Application], args: argparse.Namespace,
          before_listen: Optional[Callable[[], Awaitable[None]]] = None) -> None:
    """Listen on 127.0.0.1, announce the port, run until SIGTERM/SIGINT.

    ``before_listen`` is awaited once the application is made (a router's ``start``).
    """
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")

    async def main() -> None:
        sockets = tornado.netutil.bind_sockets(args.port, "127.0.0.1", backlog=LISTEN_BACKLOG)
        server = tornado.httpserver.HTTPServer(make_app())
        if before_listen is not None:
            await before_listen()
        server.add_sockets(sockets)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        if os.environ.get("BENCH_TUNE_GC") == "1":
            gc.collect()
            gc.freeze()
            gc.set_threshold(50000, *gc.get_threshold()[1:])
        print(json.dumps({"listening": sockets[0].getsockname()[1]}), flush=True)
        await stop.wait()
        server.stop()

    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    if os.environ.get("BENCH_UVLOOP") == "1":
        import uvloop  # an option only; never a dependency
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        asyncio.run(main())
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
