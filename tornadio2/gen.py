"""Ordered asynchronous handlers for connections (TornadIO2's ``tornadio2.gen``).

``sync_engine`` makes the calls of one method on one connection run one at a
time, in arrival order, without blocking the IOLoop. It accepts ``async def``
methods and old-style generator methods that yield futures. ``Task`` turns a
callback-style function into an awaitable, as TornadIO2-era code expects.
"""

import asyncio
import functools
import inspect
import logging
from typing import Any, Awaitable, Callable, Dict, TypeVar

from tornado import gen as tornado_gen

__all__ = ["sync_engine", "Task"]

logger = logging.getLogger("tornadio2.gen")

_F = TypeVar("_F", bound=Callable[..., Any])


def sync_engine(func: _F) -> _F:
    """Run the decorated method's calls on one instance one after another.

    Each call returns a future of its own result. A call that raises is
    logged and does not stop the calls queued behind it; once the
    connection is closed, calls still waiting are dropped.
    """
    body = tornado_gen.coroutine(func) if inspect.isgeneratorfunction(func) else func
    tails_attr = "_tornadio2_sync_tails"

    @functools.wraps(func)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> "asyncio.Future[Any]":
        tails: Dict[Any, "asyncio.Future[Any]"] = self.__dict__.setdefault(tails_attr, {})
        previous = tails.get(func)

        async def run_in_turn() -> Any:
            if previous is not None and not previous.done():
                await asyncio.wait([previous])
            if getattr(self, "is_closed", False):
                return None
            try:
                result = body(self, *args, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
            except Exception:
                logger.error("error in %s; the calls queued behind it go on",
                             func.__qualname__, exc_info=True)
                return None
            return result

        future = asyncio.ensure_future(run_in_turn())
        tails[func] = future
        future.add_done_callback(functools.partial(_forget_tail, tails, func))
        return future

    return wrapper  # type: ignore[return-value]


def _forget_tail(tails: Dict[Any, Any], key: Any, future: "asyncio.Future[Any]") -> None:
    if tails.get(key) is future:
        del tails[key]


def Task(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Awaitable[Any]:  # noqa: N802
    """Call ``func(*args, callback=..., **kwargs)``; await the callback's argument.

    A callback called with several arguments resolves to their tuple, with
    none to ``None``.
    """
    future: "asyncio.Future[Any]" = asyncio.get_event_loop().create_future()

    def callback(*values: Any) -> None:
        if not future.done():
            future.set_result(values[0] if len(values) == 1 else (values or None))

    func(*args, callback=callback, **kwargs)
    return future
