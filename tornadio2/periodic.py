"""The only module that touches the IOLoop clock.

Everything else that depends on time takes a :class:`~tornadio2.session.Scheduler`
(sessions) or a ``now=`` argument (the session container, stats), so tests can
drive a fake clock. This module provides the real scheduler on Tornado's
IOLoop, and TornadIO2's ``Callback`` (a periodic call whose next run can be
pushed back) for applications that used it.
"""

import heapq
import itertools
import math
from typing import Any, Callable, List, Optional, Tuple

from tornado.ioloop import IOLoop

from tornadio2 import usercode

__all__ = ["IOLoopScheduler", "ScheduledCall", "Callback", "Timeout"]



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


class ScheduledCall:
    """A call waiting in an :class:`IOLoopScheduler`; :meth:`cancel` forgets it."""

    __slots__ = ("callback", "_scheduler")

    def __init__(self, scheduler: "IOLoopScheduler", callback: Callable[[], None]) -> None:
        self.callback: Optional[Callable[[], None]] = callback
        self._scheduler = scheduler

    def cancel(self) -> None:
        """Forget the call; harmless if it already ran or was cancelled."""
        if self.callback is not None:
            self.callback = None
            self._scheduler._cancelled()


class IOLoopScheduler:
    """A :class:`~tornadio2.session.Scheduler` on the current IOLoop's clock.

    Every session keeps a timer or two (heartbeats, a held poll); with
    thousands of sessions, one IOLoop timeout each would fill the loop's own
    heap, whose entries compare in Python. Here every call waits in one heap
    of ``(deadline, order, call)`` tuples, and a single IOLoop timeout, set
    for the earliest deadline, runs whatever is due. A cancelled call stays in
    the heap until its deadline comes, unless cancelled calls grow to half of
    it; then the heap is rebuilt without them.
    """

    #: Below this many cancelled calls the heap is never rebuilt.
    MIN_CANCELLED_TO_PURGE = 100

    def __init__(self, loop: Optional[IOLoop] = None) -> None:
        self._loop = loop or IOLoop.current()
        self._heap: List[Tuple[float, int, ScheduledCall]] = []
        self._order = itertools.count()
        self._cancelled_count = 0
        self._wakeup: Any = None  # the IOLoop timeout for the earliest deadline
        self._wakeup_at = math.inf

    def now(self) -> float:
        """The IOLoop's monotonic time, in seconds."""
        return self._loop.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> ScheduledCall:
        """Run ``callback`` after ``delay`` seconds."""
        call = ScheduledCall(self, callback)
        deadline = self._loop.time() + delay
        heapq.heappush(self._heap, (deadline, next(self._order), call))
        if deadline < self._wakeup_at:
            self._wake_at(deadline)
        return call

    def __len__(self) -> int:
        """Calls waiting, cancelled ones included until they are dropped."""
        return len(self._heap)

    def close(self) -> None:
        """Drop every waiting call and the IOLoop timeout (at shutdown)."""
        if self._wakeup is not None:
            self._loop.remove_timeout(self._wakeup)
        self._wakeup, self._wakeup_at = None, math.inf
        self._heap.clear()
        self._cancelled_count = 0

    def _wake_at(self, deadline: float) -> None:
        if self._wakeup is not None:
            self._loop.remove_timeout(self._wakeup)
        self._wakeup_at = deadline
        self._wakeup = self._loop.call_at(deadline, self._run_due)

    def _run_due(self) -> None:
        self._wakeup, self._wakeup_at = None, math.inf
        heap = self._heap
        now = self._loop.time()
        while heap and heap[0][0] <= now:
            call = heapq.heappop(heap)[2]
            callback, call.callback = call.callback, None
            if callback is None:
                self._cancelled_count -= 1
                continue
            try:
                callback()
            except Exception as exc:
                usercode.report(exc, callback, "the other scheduled calls go on")
        # Calls made by the callbacks may have set a later wakeup than what is now first.
        if heap and heap[0][0] < self._wakeup_at:
            self._wake_at(heap[0][0])

    def _cancelled(self) -> None:
        self._cancelled_count += 1
        if (self._cancelled_count >= self.MIN_CANCELLED_TO_PURGE
                and self._cancelled_count * 2 > len(self._heap)):
            # In place: a sweep in progress holds the same list.
            self._heap[:] = [entry for entry in self._heap if entry[2].callback is not None]
            heapq.heapify(self._heap)
            self._cancelled_count = 0


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
        try:
            self.callback()
        except Exception as exc:
            usercode.report(exc, self.callback, "it runs again in %s s" % self.period)
