"""Running application code, and the one policy for exceptions it raises.

The policy, everywhere tornadio2 calls code it did not write (connection
hooks, ``@event`` handlers, ACK callbacks, ``gen.sync_engine`` methods,
scheduled and periodic calls):

* A refusal is not an error: ``on_open`` returning ``False`` or raising
  :class:`~tornadio2.exceptions.ConnectionRejected` (or, at the handshake,
  ``tornado.web.HTTPError``) refuses the connection.
* Any other exception, raised at once or by an awaitable the code returned,
  is logged once, at ERROR with its traceback, by :func:`report`.
* Then the session the code belongs to ends and its client is told: ``0::``
  on an open session, ``500`` on a handshake. The server and every other
  session go on. A call that belongs to no session (a periodic callback, a
  scheduled call) is only logged; its timer goes on.

This module must not import Tornado or any other part of tornadio2.
"""

import asyncio
import functools
import inspect
import logging
from typing import Any, Callable, Optional

__all__ = ["run", "follow", "report", "describe"]

logger = logging.getLogger("tornadio2.usercode")

#: What gets a call's result (its awaited value for an awaitable).
ResultHandler = Callable[[Any], None]
#: What gets a failed call: the callable, and the exception it raised.
ErrorHandler = Callable[[Callable[..., Any], BaseException], None]


def describe(func: Any) -> str:
    """A readable name for ``func`` in logs: ``Class.method`` when there is one.

    A string is taken as the description itself.
    """
    if isinstance(func, str):
        return func
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    return name if isinstance(name, str) else repr(func)


def report(error: BaseException, func: Any, consequence: str) -> None:
    """Log ``error``, raised by ``func``, once at ERROR with its traceback.

    ``consequence`` says what follows, e.g. ``"closing session SID"``.
    """
    logger.error("error in %s; %s", describe(func), consequence, exc_info=error)


def run(func: Callable[..., Any], args: tuple, then: Optional[ResultHandler],
        failed: ErrorHandler) -> None:
    """Call ``func(*args)``; hand its result to ``then``, an exception to ``failed``.

    ``then`` may be ``None`` when the result does not matter; ``failed`` is
    called as ``failed(func, error)``. See :func:`follow` for awaitables.
    """
    try:
        result = func(*args)
    except Exception as exc:
        failed(func, exc)
        return
    follow(func, result, then, failed)


def follow(func: Callable[..., Any], result: Any, then: Optional[ResultHandler],
           failed: ErrorHandler) -> None:
    """What ``func`` returned goes to ``then``, once awaited if it is awaitable.

    An awaitable is run to completion on the running asyncio loop, so
    ``async def`` hooks and handlers need nothing more; its exception goes to
    ``failed``, and a cancelled one calls neither.
    """
    if result is not None and inspect.isawaitable(result):
        future = asyncio.ensure_future(result)
        future.add_done_callback(functools.partial(_settle, func, then, failed))
    elif then is not None:
        then(result)


def _settle(func: Callable[..., Any], then: Optional[ResultHandler], failed: ErrorHandler,
            future: "asyncio.Future[Any]") -> None:
    if future.cancelled():
        return
    error = future.exception()
    if error is not None:
        failed(func, error)
    elif then is not None:
        then(future.result())
