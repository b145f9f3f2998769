"""The broker seam: how room sends reach the connections of other processes.

Rooms stay local to each process (:mod:`tornadio2.rooms`). A send to a
room, a broadcast, ``close_room`` and a disconnect by session id are
applied here at once and, when the broker is shared between processes,
published once; every other process applies the message to its own
members. A process ignores its own messages (by ``host_id``), so nothing is
delivered twice.

This module holds the :class:`Broker` protocol, the in-process default
(:class:`LocalBroker`: publishes nothing, costs nothing) and the message
format, shared with :mod:`tornadio2.redisbroker` and
:mod:`tornadio2.emitter`. A message is a small JSON object in the shape of
python-socketio's pub/sub manager messages (``method`` ``emit``,
``disconnect``, ``close_room``, ``enter_room``, ``leave_room``; ``namespace``
``'/'`` is tornadio2's main endpoint ``''``), plus two fields of tornadio2's
own: ``packet``, the encoded Socket.IO 0.9 packet (so a receiver does not
encode it again), and ``volatile``. It must not import Tornado.
"""

import json
import secrets
from typing import Any, Callable, Dict, List, Optional, Protocol

from tornadio2 import proto

__all__ = ["Broker", "LocalBroker", "Message", "emit_message", "send_message",
           "disconnect_message", "close_room_message", "encode", "decode",
           "namespace_of", "endpoint_of", "new_host_id", "SeenSequences", "DEFAULT_CHANNEL"]

#: A broker message (see the module docstring and the scaling guide).
Message = Dict[str, Any]

#: The pub/sub channel, the default of python-socketio's managers too.
DEFAULT_CHANNEL = "socketio"


class Broker(Protocol):
    """What the rooms need of a broker; the session never sees it."""

    #: True when messages go to other processes (False: in-process only).
    shared: bool
    #: This process's id in messages; its own messages come back and are ignored.
    host_id: str

    def publish(self, message: Message) -> None:
        """Send ``message`` to every other process (never blocks)."""

    async def start(self, apply: Callable[[Message], Any], degraded: bool = False) -> None:
        """Connect, and call ``apply`` with every message of another process.

        With ``degraded``, an unreachable broker is retried in the background
        instead of raising.
        """

    def stop(self) -> None:
        """Stop listening and publishing."""

    async def wait_closed(self) -> None:
        """Wait until what :meth:`stop` began is over (connections closed)."""


class LocalBroker:
    """The in-process default: every member is in this process, nothing is published."""

    shared = False

    def __init__(self) -> None:
        self.host_id = new_host_id()

    def publish(self, message: Message) -> None:
        """Nothing to do: there is no other process."""

    async def start(self, apply: Callable[[Message], Any], degraded: bool = False) -> None:
        """Nothing to connect to."""

    def stop(self) -> None:
        """Nothing to stop."""

    async def wait_closed(self) -> None:
        """Nothing to wait for."""


def new_host_id() -> str:
    """A random id for one process's messages (32 hex digits, as python-socketio's)."""
    return secrets.token_hex(16)


def namespace_of(endpoint: Optional[str]) -> str:
    """The pub/sub ``namespace`` of a tornadio2 endpoint ('' is '/')."""
    return endpoint or "/"


def endpoint_of(namespace: Optional[str]) -> str:
    """The tornadio2 endpoint of a pub/sub ``namespace`` ('/' and None are '')."""
    return "" if not namespace or namespace == "/" else namespace


def emit_message(endpoint: Optional[str], room: Optional[str], name: str, args: List[Any],
                 kwargs: Optional[Dict[str, Any]] = None, skip_sid: Optional[str] = None,
                 volatile: bool = False) -> Message:
    """An ``emit`` of the event ``name`` to ``room`` (None: the whole endpoint)."""
    data = list(args) if args or not kwargs else [kwargs]
    packet = proto.event(endpoint, name, None, *args, **(kwargs or {}))
    return _emit(endpoint, room, name, data, packet, skip_sid, volatile)


def send_message(endpoint: Optional[str], room: Optional[str], message: Any,
                 force_json: bool = False, skip_sid: Optional[str] = None,
                 volatile: bool = False) -> Message:
    """A message packet to ``room``; readers of the python-socketio shape see event 'message'."""
    packet = proto.message(endpoint, message, None, force_json)
    return _emit(endpoint, room, "message", [message], packet, skip_sid, volatile)


def _emit(endpoint: Optional[str], room: Optional[str], name: str, data: List[Any],
          packet: str, skip_sid: Optional[str], volatile: bool) -> Message:
    return {"method": "emit", "event": name, "data": data, "namespace": namespace_of(endpoint),
            "room": room, "skip_sid": skip_sid, "callback": None, "packet": packet,
            "volatile": volatile}


def disconnect_message(sid: str, endpoint: Optional[str] = None) -> Message:
    """Close session ``sid`` (or only its ``endpoint``) wherever it lives."""
    return {"method": "disconnect", "sid": sid, "namespace": namespace_of(endpoint)}


def close_room_message(room: str, endpoint: Optional[str] = None) -> Message:
    """Empty ``room`` of ``endpoint`` in every process."""
    return {"method": "close_room", "room": room, "namespace": namespace_of(endpoint)}


def encode(message: Message, host_id: str, seq: Optional[int] = None) -> str:
    """``message`` as the JSON text published, stamped with ``host_id`` (and ``seq``)."""
    stamped = dict(message)
    stamped["host_id"] = host_id
    if seq is not None:
        stamped["seq"] = seq
    return json.dumps(stamped, separators=(",", ":"))


def decode(data: Any) -> Optional[Message]:
    """The message in published ``data`` (bytes or text), or None if it is not one."""
    try:
        message = json.loads(data)
    except (TypeError, ValueError):
        return None
    if not isinstance(message, dict) or not isinstance(message.get("method"), str):
        return None
    return message


class SeenSequences:
    """The last ``seq`` applied from each publisher: a message that comes again is refused.

    A publisher numbers its messages 1, 2, 3 ... and sends them in order; if
    a pipelined batch fails half-way it is sent again whole, and the part
    that had gone through arrives twice. Messages without a ``seq`` (from
    python-socketio, say) are always new. At most ``max_hosts`` publishers
    are remembered, the least recently heard forgotten first.
    """

    def __init__(self, max_hosts: int = 1024) -> None:
        self.max_hosts = max_hosts
        self._last: Dict[str, int] = {}  # host_id -> last seq, least recent first

    def is_new(self, message: Message) -> bool:
        """True for a message to apply; remembers its ``seq``."""
        seq, host = message.get("seq"), message.get("host_id")
        if seq.__class__ is not int or not isinstance(host, str):
            return True
        last = self._last.pop(host, 0)
        self._last[host] = max(last, seq)
        if len(self._last) > self.max_hosts:
            del self._last[next(iter(self._last))]
        return seq > last
