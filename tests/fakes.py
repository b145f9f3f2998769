"""Test doubles: a fake clock, a recording transport, a recording connection.

They implement the same small interfaces the real pieces do (Scheduler,
Transport, SocketConnection hooks), so unit tests drive a session without
sockets or sleeps.
"""

import heapq
import itertools
from typing import Any, Callable, List, Optional, Sequence, Tuple

from tornadio2 import SocketConnection, event


class FakeTimer:
    """A pending call of :class:`FakeScheduler`."""

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeScheduler:
    """A clock that moves only when a test calls :meth:`advance`."""

    def __init__(self) -> None:
        self.time = 1000.0
        self._timers: List[Tuple[float, int, FakeTimer]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self.time

    def call_later(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(self.time + delay, callback)
        heapq.heappush(self._timers, (timer.when, next(self._order), timer))
        return timer

    def advance(self, seconds: float) -> None:
        """Move the clock, firing due timers in order (including ones they add)."""
        until = self.time + seconds
        while self._timers and self._timers[0][0] <= until:
            when, _, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self.time = when
            timer.callback()
        self.time = until

    @property
    def pending(self) -> int:
        return sum(1 for _, _, timer in self._timers if not timer.cancelled)


class FakeTransport:
    """Records what the session hands it; ``oneshot`` mimics a polling GET."""

    def __init__(self, oneshot: bool = False, name: str = "fake") -> None:
        self.name = name
        self.oneshot = oneshot
        self.batches: List[List[str]] = []
        self.closed = False
        self.writing = False  # what busy() answers

    def busy(self) -> bool:
        return self.writing

    def send_messages(self, packets: Sequence[str]) -> None:
        self.batches.append(list(packets))

    def session_closed(self) -> None:
        self.closed = True

    @property
    def packets(self) -> List[str]:
        return [packet for batch in self.batches for packet in batch]


class RecordingConnection(SocketConnection):
    """Records every hook call in ``self.calls``; ``refuse`` makes on_open refuse."""

    refuse = False

    def __init__(self, session: Any, endpoint: Optional[str] = None) -> None:
        super().__init__(session, endpoint)
        self.calls: List[Tuple[Any, ...]] = []

    def on_open(self, info: Any) -> Any:
        self.calls.append(("open", info))
        return False if self.refuse else None

    def on_message(self, message: Any) -> Any:
        self.calls.append(("message", message))
        if message == "explode":
            raise RuntimeError("boom")
        if isinstance(message, str):
            self.send("got " + message)
            return "acked " + message
        return None

    @event
    def ping(self, *args: Any) -> None:
        self.calls.append(("ping", args))
        self.emit("pong", *args)

    @event
    def add(self, a: int, b: int) -> int:
        return a + b

    @event("pair")
    def make_pair(self, a: Any, b: Any) -> Tuple[Any, Any]:
        return a, b

    @event
    def login(self, user: str, password: str) -> str:
        self.calls.append(("login", user, password))
        return "welcome " + user

    def on_close(self) -> None:
        self.calls.append(("close",))
