"""Rate-limited logging of what a peer caused, with its values made safe.

A client decides how often the server meets an unknown ACK, an unknown event
or a bad packet, and what strings those carry. Logged as they come, one
payload of tiny bad packets writes megabytes of log, and a name of megabytes
is written whole. :class:`PeerLog` writes at most ``burst`` lines per message
template per ``interval`` seconds and counts the rest; every argument is
shown as a short, escaped ``repr`` (:func:`peer_value`), so a client can
neither flood the log nor forge lines in it (newlines and control characters
are escaped).

Templates must be constants written in the code (one entry of state is kept
per template); everything the peer sent goes in the arguments.
"""

import logging
import reprlib
import time
import weakref
from typing import Any, Callable, Dict, List

__all__ = ["PeerLog", "peer_value", "reset_all"]

#: Marks a value cut short by :func:`peer_value`.
ELLIPSIS = "..."
#: Every PeerLog made, for :func:`reset_all`.
_INSTANCES: "weakref.WeakSet[PeerLog]" = weakref.WeakSet()
#: Plain numbers up to this many bits are passed to the logger unchanged (so ``%d`` works).
_PLAIN_INT_BITS = 64


def peer_value(value: Any, limit: int = 80) -> str:
    """``repr(value)``, escaped and cut to at most ``limit`` characters.

    The cost is bounded by ``limit``, not by the size of ``value``: strings
    and bytes are sliced before ``repr``, containers are shown to a few
    items and levels. Control characters, newlines and invisible format
    characters come out escaped, as ``repr`` writes them.
    """
    limit = max(limit, len(ELLIPSIS) + 1)
    if isinstance(value, (str, bytes, bytearray)):
        text = repr(value[:limit])
    else:
        shortener = reprlib.Repr()
        shortener.maxstring = shortener.maxother = shortener.maxlong = limit
        shortener.maxlevel = 3
        try:
            text = shortener.repr(value)
        except ValueError:  # an int past Python's int-to-string digit limit
            text = "<int of %d bits>" % value.bit_length() if isinstance(value, int) else "<unprintable>"
    if len(text) > limit:
        text = text[:limit - len(ELLIPSIS)] + ELLIPSIS
    return text


def _shown(arg: Any, limit: int) -> Any:
    if type(arg) is int and arg.bit_length() <= _PLAIN_INT_BITS:
        return arg
    if type(arg) is float:
        return arg
    return peer_value(arg, limit)


class _Window:
    """One template's count in the current interval, and what was held back."""

    __slots__ = ("start", "logged", "suppressed")

    def __init__(self, start: float) -> None:
        self.start = start
        self.logged = 0
        self.suppressed = 0


class PeerLog:
    """Warnings caused by peers, at most ``burst`` per template per ``interval`` seconds.

    Past the burst, lines with that template are counted, not written; the
    first line written after the interval ends is preceded by one line
    ``"N similar messages suppressed: <template>"``. Arguments are shown with
    :func:`peer_value` (at most ``limit`` characters each); small ``int`` and
    ``float`` arguments are passed unchanged, so ``%d`` works for counts the
    server computed. Use ``%s`` for anything the peer sent.
    """

    def __init__(self, logger: logging.Logger, *, burst: int = 5, interval: float = 10.0,
                 limit: int = 80, clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.burst = burst
        self.interval = interval
        self.limit = limit
        self.clock = clock
        self._windows: Dict[str, _Window] = {}
        _INSTANCES.add(self)

    def warning(self, msg: str, *args: Any) -> bool:
        """Log ``msg % args`` at WARNING unless this template is over its burst.

        Returns whether the line was written.
        """
        return self.log(logging.WARNING, msg, *args)

    def info(self, msg: str, *args: Any) -> bool:
        """Like :meth:`warning`, at INFO."""
        return self.log(logging.INFO, msg, *args)

    def log(self, level: int, msg: str, *args: Any) -> bool:
        """Log ``msg % args`` at ``level``, under the template's rate limit."""
        if not self.logger.isEnabledFor(level):
            return False
        now = self.clock()
        window = self._windows.get(msg)
        if window is None:
            window = self._windows[msg] = _Window(now)
        elif now - window.start >= self.interval:
            self._report_suppressed(level, msg, window)
            window.start, window.logged = now, 0
        if window.logged >= self.burst:
            window.suppressed += 1
            return False
        window.logged += 1
        limit = self.limit
        self.logger.log(level, msg, *[_shown(arg, limit) for arg in args])
        return True

    def flush(self) -> List[str]:
        """Write the pending "suppressed" lines now; return their templates."""
        flushed = []
        for msg, window in self._windows.items():
            if window.suppressed:
                self._report_suppressed(logging.WARNING, msg, window)
                flushed.append(msg)
        return flushed

    def suppressed(self, msg: str) -> int:
        """How many lines with template ``msg`` are held back, not yet reported."""
        window = self._windows.get(msg)
        return window.suppressed if window is not None else 0

    def reset(self) -> None:
        """Forget every count: the next lines of every template are written again."""
        self._windows.clear()

    def _report_suppressed(self, level: int, msg: str, window: _Window) -> None:
        if window.suppressed:
            self.logger.log(level, "%d similar messages suppressed: %s", window.suppressed, msg)
            window.suppressed = 0


def reset_all() -> None:
    """:meth:`PeerLog.reset` every PeerLog (for tests that look for a line)."""
    for peerlog in list(_INSTANCES):
        peerlog.reset()
