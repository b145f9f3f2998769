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
import re
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Protocol, Sequence
from urllib.parse import parse_qs

__all__ = [
    "SessionState", "SessionConfig", "SessionHooks", "ConnectionInfo", "Connection",
    "Scheduler", "TimerHandle", "Transport", "parse_cookies", "KEPT_HEADER_BYTES",
]

#: Bytes of handshake headers (names and values) a session keeps for its
#: endpoints once the handshake is over (see :meth:`ConnectionInfo.compact`).
KEPT_HEADER_BYTES = 8192


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
    #: Bytes (UTF-8) the outbound queue, or an endpoint still opening, may hold.
    max_queue_bytes: int = 10 * 1024 * 1024
    #: Packets one payload, or the unread backlog of several, may carry.
    max_payload_packets: int = 10000
    #: Bytes the unread backlog of payloads may hold (the router's ``max_message_size``).
    max_backlog_bytes: int = 10 * 1024 * 1024
    #: Packets of a large payload handled per turn of the event loop.
    payload_slice_packets: int = 1000
    #: Bytes a socket may have handed to its stream and not yet written.
    websocket_write_limit: int = 10 * 1024 * 1024
    # How long a session lives after its handshake if no transport ever
    # attaches; None: session_expiry.
    handshake_expiry: Optional[float] = None


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
    Without ``cookies`` given, they are read from the ``Cookie`` header each
    time they are asked for: a session does not keep them parsed.
    """

    __slots__ = ("ip", "arguments", "_cookies", "headers", "path")

    def __init__(self, ip: str, arguments: Mapping[str, List[str]], cookies: Any,
                 headers: Optional[Mapping[str, str]] = None, path: str = "") -> None:
        self.ip = ip
        self.arguments = arguments
        self._cookies = cookies
        self.headers = headers if headers is not None else {}
        self.path = path

    @property
    def cookies(self) -> Any:
        """The cookies: those given, else a ``SimpleCookie`` read from the ``Cookie`` header."""
        if self._cookies is not None:
            return self._cookies
        return parse_cookies(self.headers.get("Cookie", ""))

    @cookies.setter
    def cookies(self, value: Any) -> None:
        self._cookies = value

    def get_argument(self, name: str) -> Optional[str]:
        """The first value of query argument ``name``, or ``None``."""
        values = self.arguments.get(name)
        return values[0] if values else None

    def get_cookie(self, name: str) -> Any:
        """The cookie ``name`` (a ``Morsel``), or ``None``."""
        cookies = self.cookies
        return cookies.get(name) if cookies is not None else None

    def with_query(self, query: str) -> "ConnectionInfo":
        """A copy whose arguments also hold the pairs of ``query``."""
        arguments = {name: list(values) for name, values in self.arguments.items()}
        for name, values in parse_qs(query, keep_blank_values=True).items():
            arguments.setdefault(name, []).extend(values)
        return ConnectionInfo(self.ip, arguments, self._cookies, self.headers, self.path)

    def compact(self, header_bytes: int = KEPT_HEADER_BYTES) -> "ConnectionInfo":
        """A copy that keeps headers only up to ``header_bytes`` in all.

        What a session keeps once its handshake is over: headers are kept in
        their order while they fit, and a header that does not fit is left
        out (the main connection's ``on_open`` saw them all).
        """
        headers = type(self.headers)() if not isinstance(self.headers, dict) else {}
        budget = header_bytes
        for name, value in self.headers.items():
            size = len(name) + len(value)
            if size <= budget:
                budget -= size
                headers[name] = value  # type: ignore[index]
        return ConnectionInfo(self.ip, self.arguments, self._cookies, headers, self.path)


def parse_cookies(header: str) -> SimpleCookie:
    """The cookies of a ``Cookie`` header, read as browsers write them (leniently)."""
    cookies: SimpleCookie = SimpleCookie()
    for chunk in header.split(";"):
        name, _, value = chunk.partition("=") if "=" in chunk else ("", "", chunk)
        name, value = name.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = _ESCAPE.sub(_unescape, value[1:-1])
        if name or value:
            try:
                cookies[name] = value
            except CookieError:
                pass  # a name SimpleCookie refuses: left out
    return cookies


_ESCAPE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))")


def _unescape(match: "re.Match[str]") -> str:
    octal, char = match.groups()
    return chr(int(octal, 8)) if octal else char


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
