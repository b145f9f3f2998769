"""The only module that touches the IOLoop clock.

Everything else that depends on time takes a :class:`~tornadio2.session.Scheduler`
(sessions) or a ``now=`` argument (the session container, stats), so tests can
drive a fake clock. This module provides the real scheduler on Tornado's
IOLoop, and TornadIO2's ``Callback`` (a periodic call whose next run can be
pushed back, its period in milliseconds), which tornadio2's own periodic jobs
use too.
"""

import heapq
import itertools
import math
import time
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
    """TornadIO2's periodic call: ``callback`` every ``callback_time`` milliseconds.

    Like TornadIO2's (and Tornado's ``PeriodicCallback``) the period is in
    **milliseconds**. :meth:`delay` pushes the next run back by a period
    from now; a callback that returns a number sets the time of its next
    run. Times (``start(timeout)``, :attr:`next_run`, what the callback
    returns) are :func:`time.time` values, as in TornadIO2. ``io_loop`` is
    the loop to run on, the current one when omitted.
    """

    def __init__(self, callback: Callable[[], Any], callback_time: float,
                 io_loop: Optional[IOLoop] = None) -> None:
        self.callback = callback
        self.callback_time = callback_time
        self.io_loop = io_loop or IOLoop.current()
        #: When :meth:`delay` moved the next run to, until that run.
        self.next_run: Optional[float] = None
        self._timeout: Optional[Timeout] = None

    @property
    def is_running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._timeout is not None

    def calculate_next_run(self) -> float:
        """The time (:func:`time.time`) one period from now."""
        return time.time() + self.callback_time / 1000.0

    def start(self, timeout: Optional[float] = None) -> None:
        """Start calling: at time ``timeout`` (:func:`time.time`), or one period from now."""
        if self._timeout is not None:
            self._timeout.cancel()
        if timeout is None:
            delay = self.callback_time / 1000.0
        else:
            delay = max(0.0, timeout - time.time())
        self._timeout = Timeout(self.io_loop, delay, self._run)

    def stop(self) -> None:
        """Stop calling."""
        if self._timeout is not None:
            self._timeout.cancel()
            self._timeout = None

    def delay(self) -> None:
        """Push the next call back to one period from now."""
        self.next_run = self.calculate_next_run()

    def _run(self) -> None:
        self._timeout = None
        if self.next_run is not None and time.time() < self.next_run:
            self.start(self.next_run)  # delayed meanwhile
            self.next_run = None
            return
        self.next_run = None
        self.start()  # before the call, which may stop it or set its own next run
        try:
            next_call = self.callback()
        except Exception as exc:
            usercode.report(exc, self.callback, "it runs again in %s ms" % self.callback_time)
            return
        if (isinstance(next_call, (int, float)) and not isinstance(next_call, bool)
                and self._timeout is not None):
            self.start(next_call)
