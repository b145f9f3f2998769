"""Run one documentation snippet as its reader would, for ``test_snippets.py``.

Usage: ``python snippet_runner.py SNIPPET.py``. The snippet runs as
``__main__``. Each time one of its servers starts listening, this prints
``LISTENING <port>`` on stdout, so the test knows when to connect. SIGINT
stops it: the snippet's IOLoop ends with ``KeyboardInterrupt``, and this
prints ``STOPPED`` and exits 0. A snippet that returns by itself prints
``FINISHED``. An exception escaping the snippet fails the run (exit 1, with
the traceback on stderr).
"""

import runpy
import signal
import sys

from tornado.tcpserver import TCPServer


def _announce_listening() -> None:
    original = TCPServer.add_sockets

    def add_sockets(self, sockets):  # type: ignore[no-untyped-def]
        original(self, sockets)
        for sock in sockets:
            print("LISTENING %d" % sock.getsockname()[1], flush=True)

    TCPServer.add_sockets = add_sockets  # type: ignore[method-assign]


def main() -> int:
    # A test runner started in the background may have inherited an ignored
    # SIGINT; the snippet must still stop on it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _announce_listening()
    try:
        runpy.run_path(sys.argv[1], run_name="__main__")
    except KeyboardInterrupt:
        print("STOPPED", flush=True)
        return 0
    print("FINISHED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
