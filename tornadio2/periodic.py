"""The only module that touches the IOLoop clock.

Everything else that depends on time takes a :class:`~tornadio2.session.Scheduler`
(sessions) or a ``now=`` argument (the session container, stats), so tests can
drive a fake clock. This module provides the real scheduler on Tornado's
IOLoop, and TornadIO2's ``Callback`` (a periodic call whose next run can be
pushed back) for applications that used it.
"""

from typing import Any, Callable, Optional

from tornado.ioloop import IOLoop

__all__ = ["IOLoopScheduler", "Callback", "Timeout"]


class Timeout:
    """A one-shot call on the IOLoop that can be cancelled."""

    __slots__ = ("_loop", "_handle")

    def __init__(self, loop: IOLoop, delay: float, callback: Callable[[], None]) -> None:
        self._loop = loop
        self._handle: Any = loop.call_later(delay, callback)

    def cancel(self) -> None:
        """Forget the call; harmless if it already ran."""
        if self._handle is not None:
            self._loop.remove_timeout(self._handle)
            self._handle = None


class IOLoopScheduler:
    """A :class:`~tornadio2.session.Scheduler` on the current IOLoop's clock."""

    def __init__(self, loop: Optional[IOLoop] = None) -> None:
        self._loop = loop or IOLoop.current()

    def now(self) -> float:
        """The IOLoop's monotonic time, in seconds."""
        return self._loop.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timeout:
        """Run ``callback`` after ``delay`` seconds."""
        return Timeout(self._loop, delay, callback)


class Callback:
    """Call ``callback`` every ``period`` seconds; :meth:`delay` pushes the next run back.

    ``period`` is in seconds (TornadIO2 took milliseconds for its own timers;
    the name stays, the unit follows Tornado's ``call_later``).
    """

    def __init__(self, callback: Callable[[], None], period: float,
                 loop: Optional[IOLoop] = None) -> None:
        self.callback = callback
        self.period = period
        self._loop = loop or IOLoop.current()
        self._timeout: Optional[Timeout] = None
        self._deadline = 0.0

    @property
    def is_running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._timeout is not None

    def start(self) -> None:
        """Start calling, the first call ``period`` seconds from now."""
        if self._timeout is None:
            self._deadline = self._loop.time() + self.period
            self._timeout = Timeout(self._loop, self.period, self._run)

    def stop(self) -> None:
        """Stop calling."""
        if self._timeout is not None:
            self._timeout.cancel()
            self._timeout = None

    def delay(self) -> None:
        """Push the next call back to ``period`` seconds from now."""
        self._deadline = self._loop.time() + self.period

    def _run(self) -> None:
        remaining = self._deadline - self._loop.time()
        if remaining > 0:
            self._timeout = Timeout(self._loop, remaining, self._run)
            return
        self._deadline = self._loop.time() + self.period
        self._timeout = Timeout(self._loop, self.period, self._run)
        self.callback()
