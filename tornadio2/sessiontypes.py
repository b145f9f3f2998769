"""The vocabulary of sessions: their states and settings, and what they talk to.

This module holds the plain types the session layer is written in:
:class:`SessionState`, :class:`SessionConfig`, :class:`SessionHooks` (how a
session tells its container about its life), :class:`ConnectionInfo` (what
the handshake request told), and the protocols of what a session talks to:
a :class:`Scheduler` for time, a :class:`Transport` for bytes and a
:class:`Connection` for the application. It must not import Tornado or any
other part of tornadio2; :mod:`tornadio2.session` re-exports every name.
"""

import enum
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Protocol, Sequence
from urllib.parse import parse_qs

__all__ = [
    "SessionState", "SessionConfig", "SessionHooks", "ConnectionInfo", "Connection",
    "Scheduler", "TimerHandle", "Transport",
]


class SessionState(enum.Enum):
    """Where a session stands in its life."""

    NEW = "new"  #: The handshake's ``on_open`` is running.
    CONNECTING = "connecting"  #: Handshaken; no transport has attached yet.
    OPEN = "open"  #: A transport has attached; packets flow.
    CLOSED = "closed"  #: Ended; the session only delivers its last packets, if any.


@dataclass(frozen=True)
class SessionConfig:
    """The timings and limits a session follows, derived from router settings."""

    heartbeat_interval: float = 12
    heartbeat_timeout: float = 17  # how long the client has to answer a heartbeat
    global_heartbeats: bool = True
    session_expiry: float = 30
    poll_timeout: float = 20  # how long a polling GET is held before a noop
    max_queue_length: int = 10000
    write_limit: int = 1024 * 1024  # bytes a socket may hold unread by the client


def _ignore(session: Any) -> None:
    """A hook nobody listens to."""


class SessionHooks(NamedTuple):
    """How a session tells its owner (the router's container) about its life."""

    #: The session has no transport now and will expire at ``session.expires_at``.
    expiring: Callable[[Any], None] = _ignore
    #: The session is over: forget it.
    ended: Callable[[Any], None] = _ignore


class TimerHandle(Protocol):
    """A pending call that can be cancelled."""

    def cancel(self) -> None:
        """Forget the call; harmless if it already ran."""


class Scheduler(Protocol):
    """The clock sessions use; :mod:`tornadio2.periodic` provides the real one."""

    def now(self) -> float:
        """The current time in seconds, on a monotonic clock."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` once, ``delay`` seconds from now; the handle cancels it."""


class Transport(Protocol):
    """What a transport handler offers the session.

    ``oneshot`` transports (the polling GETs) take one batch of packets and
    are then detached; the others stay attached and get heartbeats.
    """

    name: str
    oneshot: bool

    def send_messages(self, packets: Sequence[str]) -> None:
        """Deliver encoded packets to the client, in order."""

    def session_closed(self) -> None:
        """The session has ended (or let this transport go): finish the response or close the socket."""

    def busy(self) -> bool:
        """Whether earlier packets are still being written (a volatile packet is then dropped)."""


class ConnectionInfo:
    """What the handshake request told about the client.

    ``arguments`` maps query names to lists of values and ``cookies`` is a
    :class:`http.cookies.SimpleCookie`; endpoints see the handshake's
    arguments and cookies, since the 0.9 client sends none of its own.
    """

    __slots__ = ("ip", "arguments", "cookies", "headers", "path")

    def __init__(self, ip: str, arguments: Mapping[str, List[str]], cookies: Any,
                 headers: Optional[Mapping[str, str]] = None, path: str = "") -> None:
        self.ip = ip
        self.arguments = arguments
        self.cookies = cookies
        self.headers = headers if headers is not None else {}
        self.path = path

    def get_argument(self, name: str) -> Optional[str]:
        """The first value of query argument ``name``, or ``None``."""
        values = self.arguments.get(name)
        return values[0] if values else None

    def get_cookie(self, name: str) -> Any:
        """The cookie ``name`` (a ``Morsel``), or ``None``."""
        return self.cookies.get(name) if self.cookies is not None else None

    def with_query(self, query: str) -> "ConnectionInfo":
        """A copy whose arguments also hold the pairs of ``query``."""
        arguments = {name: list(values) for name, values in self.arguments.items()}
        for name, values in parse_qs(query, keep_blank_values=True).items():
            arguments.setdefault(name, []).extend(values)
        return ConnectionInfo(self.ip, arguments, self.cookies, self.headers, self.path)


class Connection(Protocol):
    """What a session calls on a connection (:class:`~tornadio2.conn.SocketConnection`)."""

    def on_open(self, info: ConnectionInfo) -> Any:
        """The client connected; ``False`` refuses."""

    def on_message(self, message: Any) -> Any:
        """A text or JSON message."""

    def on_event(self, name: str, args: List[Any], kwargs: Dict[str, Any]) -> Any:
        """An event; the result is the ACK payload."""

    def on_close(self) -> Any:
        """The connection ended."""

    def deque_ack(self, ack_id: int, ack_args: List[Any]) -> Any:
        """The client acknowledged ``ack_id``."""

    @property
    def pending_acks(self) -> int:
        """How many ACKs the connection waits for from the client."""

    def get_endpoint(self, endpoint: str) -> Optional[Callable[[Any, str], "Connection"]]:
        """The class serving ``endpoint``, or ``None``."""
