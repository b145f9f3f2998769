"""Results that arrive later, with no event loop needed, and the generator runner.

This module owns what :mod:`tornadio2.gen` is built on: :class:`PendingResult`
(a future that completes in the call that completes it), :class:`Task` (a
callback-style call as a result), the keyed :class:`Callback` / :class:`Wait`
/ :class:`WaitAll` of old Tornado code, and :func:`start`, which calls a
function and drives the generator it may return, resuming it as soon as
what it yielded is done. Futures and coroutines need the loop they belong
to; everything else runs without one, as under TornadIO2.
"""

import asyncio
import functools
import inspect
import logging
import types
from typing import (Any, Callable, Dict, Generator, Iterable, List, NamedTuple, Optional,
                    Tuple)

from tornado.concurrent import future_add_done_callback, is_future
from tornado.gen import BadYieldError

__all__ = ["PendingResult", "Task", "Arguments", "Callback", "Wait", "WaitAll",
           "KeyReuseError", "UnknownKeyError", "start"]

logger = logging.getLogger("tornadio2.gen")


class Arguments(NamedTuple):
    """What a callback passed when it got keyword arguments or several positionals."""

    args: Tuple[Any, ...]
    kwargs: Dict[str, Any]


class KeyReuseError(Exception):
    """A generator made a second :class:`Callback` with a key still in use."""


class UnknownKeyError(Exception):
    """A generator waited for a key no :class:`Callback` made."""


def _callback_result(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    # Tornado's rule: one positional argument is the result, none is None,
    # anything more is an Arguments tuple.
    if kwargs or len(args) > 1:
        return Arguments(args, kwargs)
    return args[0] if args else None


class PendingResult:
    """A result that arrives later, with no event loop needed to deliver it.

    It answers ``done()``, ``result()`` and ``add_done_callback(fn)`` like a
    future (callbacks run as soon as it completes, in the completing call),
    and can be awaited from a coroutine. ``sync_engine`` and ``engine``
    return one per call; :class:`Task` is one.
    """

    __slots__ = ("_done", "_value", "_error", "_callbacks")

    def __init__(self) -> None:
        self._done = False
        self._value: Any = None
        self._error: Optional[BaseException] = None
        self._callbacks: List[Callable[["PendingResult"], None]] = []

    def done(self) -> bool:
        """Whether the result (or an exception) has arrived."""
        return self._done

    def result(self) -> Any:
        """The result; raises the exception instead if there was one."""
        if not self._done:
            raise asyncio.InvalidStateError("the result has not arrived yet")
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self) -> Optional[BaseException]:
        """The exception the work ended with, or ``None``."""
        if not self._done:
            raise asyncio.InvalidStateError("the result has not arrived yet")
        return self._error

    def add_done_callback(self, fn: Callable[["PendingResult"], None]) -> None:
        """Call ``fn(self)`` once done: at once if it already is."""
        if self._done:
            fn(self)
        else:
            self._callbacks.append(fn)

    def set_result(self, value: Any) -> None:
        """Complete with ``value`` and run the callbacks."""
        self._complete(value, None)

    def set_exception(self, error: BaseException) -> None:
        """Complete with ``error`` and run the callbacks."""
        self._complete(None, error)

    def _complete(self, value: Any, error: Optional[BaseException]) -> None:
        if self._done:
            raise asyncio.InvalidStateError("the result has already arrived")
        self._done, self._value, self._error = True, value, error
        callbacks, self._callbacks = self._callbacks, []
        for fn in callbacks:
            try:
                fn(self)
            except Exception:
                logger.error("error in a completion callback", exc_info=True)

    def __await__(self) -> Generator[Any, None, Any]:
        if not self._done:
            waiter = asyncio.get_running_loop().create_future()
            self.add_done_callback(functools.partial(_wake, waiter))
            yield from waiter
        return self.result()


def _wake(waiter: "asyncio.Future[None]", _pending: PendingResult) -> None:
    if not waiter.done() and not waiter.get_loop().is_closed():
        waiter.set_result(None)


class Task(PendingResult):
    """Call ``func(*args, callback=..., **kwargs)`` now; the result is what the callback gets.

    Yield it from a generator run by :func:`sync_engine` or :func:`engine`,
    or await it. A callback called with one argument gives that argument,
    with none ``None``, with several (or with keyword arguments) an
    :class:`Arguments` tuple. Calls of the callback after the first are
    ignored.
    """

    __slots__ = ()

    def __init__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        func(*args, callback=self._callback, **kwargs)

    def _callback(self, *args: Any, **kwargs: Any) -> None:
        if not self._done:
            self.set_result(_callback_result(args, kwargs))


class _YieldPoint:
    """Something only the generator runner understands (TornadIO2's keyed callbacks)."""

    __slots__ = ()


class Callback(_YieldPoint):
    """``yield Callback(key)`` gives a callback; ``yield Wait(key)`` gives what it got."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key


class Wait(_YieldPoint):
    """``yield Wait(key)``: the result of the callback made by ``Callback(key)``."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key


class WaitAll(_YieldPoint):
    """``yield WaitAll(keys)``: the results of several keyed callbacks, as a list."""

    __slots__ = ("keys",)

    def __init__(self, keys: Iterable[Any]) -> None:
        self.keys = list(keys)


def _done(value: Any = None, error: Optional[BaseException] = None) -> PendingResult:
    pending = PendingResult()
    pending._complete(value, error)
    return pending


def _from_future(future: Any) -> PendingResult:
    """A :class:`PendingResult` following an asyncio or concurrent future."""
    pending = PendingResult()

    def copy(done: Any) -> None:
        if done.cancelled():
            pending.set_exception(asyncio.CancelledError())
        elif done.exception() is not None:
            pending.set_exception(done.exception())
        else:
            pending.set_result(done.result())

    future_add_done_callback(future, copy)
    return pending


def _gather(parts: List[PendingResult], build: Callable[[List[Any]], Any]) -> PendingResult:
    """One result for several: ``build`` of their values, or the first exception."""
    combined = PendingResult()
    remaining = [len(parts)]

    def one_done(_: PendingResult) -> None:
        remaining[0] -= 1
        if remaining[0] == 0 and not combined.done():
            errors = [part.exception() for part in parts if part.exception() is not None]
            if errors:
                combined.set_exception(errors[0])
            else:
                combined.set_result(build([part.result() for part in parts]))

    if not parts:
        combined.set_result(build([]))
    for part in parts:
        part.add_done_callback(one_done)
    return combined


class _Runner:
    """Drives one generator, resuming it as what it yields completes."""

    __slots__ = ("_gen", "_outcome", "_keys")

    def __init__(self, gen: Generator[Any, Any, Any], outcome: PendingResult) -> None:
        self._gen = gen
        self._outcome = outcome
        self._keys: Dict[Any, PendingResult] = {}

    def run(self, value: Any = None, error: Optional[BaseException] = None) -> None:
        """Advance until the generator waits for something not done yet, or ends."""
        while True:
            try:
                if error is not None:
                    yielded = self._gen.throw(error)
                else:
                    yielded = self._gen.send(value)
            except StopIteration as stop:
                self._outcome.set_result(stop.value)
                return
            except Exception as exc:
                self._outcome.set_exception(exc)
                return
            try:
                pending = self._wait_for(yielded)
            except Exception as exc:
                pending = _done(error=exc)
            if not pending.done():
                pending.add_done_callback(self._resume)
                return
            value, error = pending._value, pending._error

    def _resume(self, pending: PendingResult) -> None:
        self.run(pending._value, pending._error)

    def _wait_for(self, yielded: Any) -> PendingResult:
        if isinstance(yielded, PendingResult):
            return yielded
        if isinstance(yielded, _YieldPoint):
            return self._keyed(yielded)
        if yielded is None:
            return _done()
        if isinstance(yielded, (list, tuple)):
            return _gather([self._wait_for(item) for item in yielded], list)
        if isinstance(yielded, dict):
            keys = list(yielded)
            return _gather([self._wait_for(yielded[key]) for key in keys],
                           lambda values: dict(zip(keys, values)))
        if is_future(yielded):
            return _from_future(yielded)
        if inspect.isawaitable(yielded):
            return _from_future(asyncio.ensure_future(yielded, loop=asyncio.get_running_loop()))
        raise BadYieldError("yielded unknown object %r" % (yielded,))

    def _keyed(self, point: _YieldPoint) -> PendingResult:
        if isinstance(point, Callback):
            if point.key in self._keys:
                raise KeyReuseError("key %r is already in use" % (point.key,))
            waiting = self._keys[point.key] = PendingResult()

            def callback(*args: Any, **kwargs: Any) -> None:
                if not waiting.done():
                    waiting.set_result(_callback_result(args, kwargs))

            return _done(callback)
        keys = [point.key] if isinstance(point, Wait) else point.keys  # type: ignore[attr-defined]
        unknown = [key for key in keys if key not in self._keys]
        if unknown:
            raise UnknownKeyError("no Callback was made for key %r" % (unknown[0],))
        parts = [self._keys.pop(key) for key in keys]
        if isinstance(point, Wait):
            return parts[0]
        return _gather(parts, list)


def start(func: Callable[..., Any], args: Tuple[Any, ...],
          kwargs: Dict[str, Any]) -> PendingResult:
    """Call ``func`` and follow whatever it gives back to its end.

    A generator is driven to its end here, a future or coroutine is followed
    on its loop, anything else is the result; an exception is the outcome's.
    """
    try:
        result = func(*args, **kwargs)
    except Exception as exc:
        return _done(error=exc)
    if isinstance(result, types.GeneratorType):
        outcome = PendingResult()
        _Runner(result, outcome).run()
        return outcome
    if isinstance(result, PendingResult):
        return result
    if is_future(result):
        return _from_future(result)
    if inspect.isawaitable(result):
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError as exc:
            _close_awaitable(result)
            return _done(error=exc)
        return _from_future(asyncio.ensure_future(result, loop=loop))
    return _done(result)


def _close_awaitable(awaitable: Any) -> None:
    # A coroutine that can never run is closed, so Python does not warn that
    # it was never awaited: the error is what gets reported.
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()
