#!/usr/bin/env python3
"""tornadio2's own cost per packet, without sockets or Tornado.

Feeds packets to a :class:`tornadio2.session.Session` through
``receive_frame`` the way the websocket transport does, with an application
that echoes messages (``on_message`` -> ``send``) and answers ``ping`` with
``pong``, and a transport that drops what it is given. What is measured is
the session, the codec and the connection class: the part of a server's
time per message that the library adds on top of Tornado.

    python bench/session_micro.py                  # microseconds per packet, best of 5
    python bench/session_micro.py --instructions   # CPU instructions per packet (valgrind)
    python bench/session_micro.py --instructions --handler [--metrics]

``--handler`` feeds the packets through the websocket transport's
``on_message`` instead (Tornado's handler, made without a connection, whose
``write_message`` drops the frame), so the transport's share is measured
too; ``--metrics`` turns on what :func:`tornadio2.metrics.register` turns on
(the counting of payload bytes).

Time on a shared machine wanders by several percent from one run to the
next; ``--instructions`` counts instructions under valgrind's cachegrind
instead, which gives the same number every time (run with two packet counts,
the difference is divided by the difference in packets, so start-up and
import costs drop out). It needs ``valgrind`` on the PATH, and runs Python
with ``PYTHONHASHSEED=0``: hash randomisation moves the count by a hundred
or so instructions from one run to the next.
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, List, Optional, Sequence

# The checkout's package, whatever is installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tornadio2 import SocketConnection, event  # noqa: E402
from tornadio2.session import ConnectionInfo, Session, SessionConfig  # noqa: E402
from tornadio2.stats import StatsCollector  # noqa: E402

#: What each case feeds the session, one packet per call.
CASES = {
    "echo": "3:::hello world 12345",
    "event": '5:::{"name":"ping","args":[1]}',
}


class _Handle:
    def cancel(self) -> None:
        pass


class _Clock:
    """A scheduler whose timers never fire: nothing here runs long enough."""

    def now(self) -> float:
        return 0.0

    def call_later(self, delay: float, callback: Callable[[], None]) -> _Handle:
        return _Handle()


class _NullSocket:
    """A socket transport that drops every packet."""

    name = "websocket"
    oneshot = False

    def send_messages(self, packets: Sequence[str]) -> None:
        pass

    def session_closed(self) -> None:
        pass


class Bench(SocketConnection):
    """The benchmark application: echo, and ``ping`` -> ``pong``."""

    def on_message(self, message: Any) -> None:
        self.send(message)

    @event
    def ping(self, *args: Any) -> None:
        self.emit("pong", *args)


def make_session(transport: Any = None, stats: Optional[StatsCollector] = None) -> Session:
    """An open session with a socket attached, as after the websocket upgrade."""
    session = Session("bench", Bench, ConnectionInfo("127.0.0.1", {}, None), SessionConfig(),
                      _Clock(), stats or StatsCollector())
    asyncio.run(session.open())
    session.attach(transport or _NullSocket())
    return session


class _Router:
    """What the websocket handler asks of its router."""

    def __init__(self, metrics: bool) -> None:
        self.stats = StatsCollector()
        if metrics:
            self.stats.count_bytes = True
        self.settings = {"websocket_check": False}


def make_handler_receiver(metrics: bool) -> Callable[[str], None]:
    """The ``on_message`` of a websocket handler serving an open session.

    The handler is made without a request or a connection (nothing here
    reads them); ``open()`` is the transport's own, and ``write_message``
    drops the frame.
    """
    from tornadio2.persistent import TornadioWebSocketHandler  # Tornado only when asked for
    router = _Router(metrics)
    handler = TornadioWebSocketHandler.__new__(TornadioWebSocketHandler)
    handler.initialize(router)  # type: ignore[arg-type]
    handler.write_message = lambda message, binary=False: None  # type: ignore[method-assign,assignment]
    if metrics:  # what open() does, before it attaches, when the stats count bytes
        handler._bytes = router.stats.bytes_for(handler.name)
    handler.session = make_session(handler, router.stats)
    return handler.on_message


def feed(packet: str, count: int, handler: bool = False, metrics: bool = False) -> float:
    """Seconds ``count`` packets take through a fresh session (or handler and session)."""
    receive = make_handler_receiver(metrics) if handler else make_session().receive_frame
    start = time.perf_counter()
    for _ in range(count):
        receive(packet)
    return time.perf_counter() - start


def instructions(case: str, count: int, flags: Sequence[str] = ()) -> float:
    """Instructions per packet: cachegrind totals at ``count`` and ``6 * count`` packets."""
    totals: List[int] = []
    env = dict(os.environ, PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (count, 6 * count):
            out = os.path.join(tmp, "cachegrind.%d" % n)
            subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                            "--cachegrind-out-file=" + out, sys.executable,
                            os.path.abspath(__file__), "--case", case, "--count", str(n),
                            "--repeat", "1", "--quiet", *flags],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env=env)
            with open(out) as stats:
                summary = [line for line in stats if line.startswith("summary:")]
            totals.append(int(summary[0].split()[1]))
    return (totals[1] - totals[0]) / (5 * count)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append",
                        help="what to feed (default: every case)")
    parser.add_argument("--count", type=int, default=200000, help="packets per run")
    parser.add_argument("--repeat", type=int, default=5, help="runs; the best one counts")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under valgrind instead of timing")
    parser.add_argument("--handler", action="store_true",
                        help="feed the websocket transport's on_message, not the session")
    parser.add_argument("--metrics", action="store_true",
                        help="with --handler: count payload bytes, as tornadio2.metrics does")
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    flags = [flag for flag, on in (("--handler", args.handler), ("--metrics", args.metrics)) if on]
    cases = args.case or sorted(CASES)
    if args.instructions and shutil.which("valgrind") is None:
        print("valgrind is not on the PATH", file=sys.stderr)
        return 2
    for case in cases:
        if args.instructions:
            per_packet = instructions(case, min(args.count, 2000), flags)
            result = "%8.0f instructions per packet" % per_packet
        else:
            best = min(feed(CASES[case], args.count, args.handler, args.metrics)
                       for _ in range(args.repeat))
            result = "%8.2f us per packet" % (best / args.count * 1e6)
        if not args.quiet:
            print("%-6s %s   (%s)" % (case, result, CASES[case]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
