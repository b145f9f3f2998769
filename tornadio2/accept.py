"""Accepting connections without spinning when file descriptors run out.

Tornado's accept loop lets an ``accept()`` that fails with ``EMFILE`` (no
descriptor left in the process) or ``ENFILE`` (none in the system) escape to
the IOLoop, which logs a traceback and calls the loop again at once: the
listening socket stays readable, so the process spins at 100 % of a core and
writes a log line each turn, and clients are served no sooner. Here the
listening socket rests instead: it stops being watched for 50 ms, then twice
as long after each new failure up to a second, with one log line when a
burst of failures starts and one when connections are accepted again.
:class:`AcceptBackoff` gives any Tornado ``TCPServer`` this behaviour.
"""

import errno
import logging
import socket
from typing import Any, Callable, Iterable, Optional

from tornado.ioloop import IOLoop

from tornadio2.periodic import Timeout

__all__ = ["AcceptBackoff", "AcceptLoop", "FIRST_PAUSE", "LONGEST_PAUSE"]

logger = logging.getLogger("tornadio2.accept")

#: Seconds the first failing ``accept()`` of a burst rests the socket.
FIRST_PAUSE = 0.05
#: The longest rest: how late a client may be accepted once descriptors are free.
LONGEST_PAUSE = 1.0

# accept() errors that mean "no descriptor or memory left": retrying at once
# fails again.
_EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
# Connections accepted per readable event, as Tornado's own accept loop does.
_ACCEPTS_PER_EVENT = 128


class AcceptLoop:
    """Accepts connections on one listening socket; rests when descriptors run out.

    ``callback(connection, address)`` gets each accepted connection;
    :meth:`stop` stops watching the socket (its owner closes it).
    """

    def __init__(self, sock: socket.socket, callback: Callable[[socket.socket, Any], None]) -> None:
        self.sock: Optional[socket.socket] = sock
        self.callback = callback
        self.loop = IOLoop.current()
        self.pause = FIRST_PAUSE
        self.refused = 0  # accept() failures in the current burst
        self.resting: Optional[Timeout] = None
        self.loop.add_handler(sock, self._on_readable, IOLoop.READ)

    def stop(self) -> None:
        """Stop accepting."""
        if self.sock is None:
            return
        if self.resting is not None:
            self.resting.cancel()
            self.resting = None
        else:
            self.loop.remove_handler(self.sock)
        self.sock = None

    def _on_readable(self, fd: Any, events: int) -> None:
        for _ in range(_ACCEPTS_PER_EVENT):
            if self.sock is None:
                return
            try:
                connection, address = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno not in _EXHAUSTED:
                    raise
                self._rest(self.sock, exc)
                return
            if self.refused:
                logger.warning("accepting connections again after %d refused accept() calls",
                               self.refused)
                self.refused, self.pause = 0, FIRST_PAUSE
            self.callback(connection, address)

    def _rest(self, sock: socket.socket, exc: OSError) -> None:
        if not self.refused:
            logger.error("cannot accept connections (%s): pausing, then retrying with "
                         "growing pauses up to %.1f s", exc.strerror, LONGEST_PAUSE)
        self.refused += 1
        self.loop.remove_handler(sock)
        self.resting = Timeout(self.loop, self.pause, self._resume)
        self.pause = min(self.pause * 2, LONGEST_PAUSE)

    def _resume(self) -> None:
        self.resting = None
        if self.sock is not None:
            self.loop.add_handler(self.sock, self._on_readable, IOLoop.READ)


class AcceptBackoff:
    """Mixin for a Tornado ``TCPServer`` (put it first): accept with :class:`AcceptLoop`.

    ``class MyServer(AcceptBackoff, TCPServer)``. The server's sockets are
    registered by ``TCPServer.add_sockets`` as usual, then watched by an
    :class:`AcceptLoop` instead of Tornado's accept handler; ``stop()``
    works as before.
    """

    def add_sockets(self, sockets: Iterable[socket.socket]) -> None:
        """Start accepting connections on ``sockets`` (see Tornado's ``TCPServer``)."""
        sockets = list(sockets)
        super().add_sockets(sockets)  # type: ignore[misc]
        loop = IOLoop.current()
        for sock in sockets:
            # Tornado's accept handler, just registered, is swapped for one that rests.
            loop.remove_handler(sock)
            self._handlers[sock.fileno()] = AcceptLoop(  # type: ignore[attr-defined]
                sock, self._handle_connection).stop  # type: ignore[attr-defined]
