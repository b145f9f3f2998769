"""Generator-driven handlers for connections (TornadIO2's ``tornadio2.gen``).

``sync_engine`` makes the calls of one method on one instance run one at a
time, in arrival order, without blocking the IOLoop; ``engine`` runs each call
on its own, as Tornado's removed ``gen.engine`` did. Both accept ``async def``
methods, generator functions that yield :class:`Task`, futures or other
awaitables, and plain methods that *return* such a generator (TornadIO2's
idiom of wrapping ``on_event`` so that ``@event`` generator handlers work).

The generator is driven without asyncio (:mod:`tornadio2.pending`): a call
starts at once and runs up to its first ``yield`` of something not done
yet, and a :class:`Task` whose callback is called synchronously resumes it
at once, so callback-style code works with no event loop running, as under
TornadIO2. Only futures and coroutines need the loop they belong to. This
module must not import the session or connection layers; it re-exports the
names of :mod:`tornadio2.pending` that TornadIO2 code imports from here.
"""

import collections
import functools
from typing import Any, Callable, Deque, Dict, Optional, Tuple

from tornadio2 import usercode
from tornadio2.pending import (
    Arguments, Callback, KeyReuseError, PendingResult, Task, UnknownKeyError, Wait, WaitAll,
    start,
)

__all__ = ["sync_engine", "engine", "Task", "PendingResult", "Arguments",
           "Callback", "Wait", "WaitAll", "KeyReuseError", "UnknownKeyError"]

_QUEUES_ATTR = "_tornadio2_call_queues"


def _handled(outcome: PendingResult, func: Callable[..., Any], owner: Any = None) -> PendingResult:
    """``outcome``, with an exception handed to :func:`_failed` and replaced by ``None``."""
    result = PendingResult()

    def finish(done: PendingResult) -> None:
        error = done.exception()
        if error is not None:
            _failed(owner, func, error)
            result.set_result(None)
        else:
            result.set_result(done.result())

    outcome.add_done_callback(finish)
    return result


def _failed(owner: Any, func: Callable[..., Any], error: BaseException) -> None:
    """The policy of :mod:`tornadio2.usercode`: log once; end the owner's session, if any.

    A connection's calls still queued are then dropped with it; calls of an
    object with no session (or of an ``engine`` function) go on.
    """
    session = getattr(owner, "session", None)
    close = getattr(session, "close", None)
    if callable(close) and not getattr(session, "is_closed", False):
        usercode.report(error, func, "closing the session")
        close()
    else:
        usercode.report(error, func, "the calls queued behind it go on")


class _CallQueue:
    """The calls of one method on one instance, waiting for their turn."""

    __slots__ = ("waiting", "busy")

    def __init__(self) -> None:
        self.waiting: Deque[Tuple[Tuple[Any, ...], Dict[str, Any], PendingResult]] = (
            collections.deque())
        self.busy = False


def _call_queue(owner: Any, func: Callable[..., Any]) -> _CallQueue:
    queues: Optional[Dict[Any, _CallQueue]] = getattr(owner, _QUEUES_ATTR, None)
    if queues is None:
        queues = {}
        setattr(owner, _QUEUES_ATTR, queues)
    queue = queues.get(func)
    if queue is None:
        queue = queues[func] = _CallQueue()
    return queue


def _drain(owner: Any, func: Callable[..., Any], queue: _CallQueue) -> None:
    """Run the queued calls in order until one has to wait."""
    queue.busy = True
    while queue.waiting:
        args, kwargs, call = queue.waiting.popleft()
        if getattr(owner, "is_closed", False):
            call.set_result(None)  # the connection went away while the call waited
            continue
        outcome = _handled(start(func, (owner,) + args, kwargs), func, owner)
        outcome.add_done_callback(lambda done, call=call: call.set_result(done.result()))
        if not outcome.done():
            outcome.add_done_callback(lambda _: _drain(owner, func, queue))
            return
    queue.busy = False


def sync_engine(func: Callable[..., Any]) -> Callable[..., PendingResult]:
    """Run the decorated method's calls on one instance one after another.

    A call made while no earlier call is running starts at once and runs up
    to its first wait; later calls wait their turn. Each call returns a
    :class:`PendingResult` of its own result. A call that raises gives
    ``None`` and follows the policy of :mod:`tornadio2.usercode`: it is
    logged, and the session of a connection is closed (the calls queued
    behind it are then dropped, as are calls still waiting whenever the
    instance's ``is_closed`` becomes true); on an object without a session
    the queued calls go on.
    """

    @functools.wraps(func)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> PendingResult:
        queue = _call_queue(self, func)
        call = PendingResult()
        queue.waiting.append((args, kwargs, call))
        if not queue.busy:
            _drain(self, func, queue)
        return call

    return wrapper


def engine(func: Callable[..., Any]) -> Callable[..., PendingResult]:
    """Run each call of the decorated function on its own, as Tornado's old ``gen.engine``.

    Calls do not wait for each other, so their results can come in any
    order; use :func:`sync_engine` to keep them in order. Each call starts
    at once and returns a :class:`PendingResult`; an exception is logged (see
    :mod:`tornadio2.usercode`) and gives ``None``.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> PendingResult:
        return _handled(start(func, args, kwargs), func)

    return wrapper
