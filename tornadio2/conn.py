"""The application-facing connection class and the ``@event`` decorator.

This module owns what a TornadIO2 application subclasses: ``SocketConnection``
with its ``on_*`` hooks, ``send``/``emit``/``emit_ack``, the per-endpoint ACK
bookkeeping and the event registry. It talks to the session only through the
session's small public surface and must not import Tornado.
"""

import logging
import time
from typing import (
    TYPE_CHECKING, Any, Callable, ClassVar, Dict, FrozenSet, Iterable, List, Optional, Tuple, Type,
    TypeVar, Union, overload,
)

from tornadio2 import proto
from tornadio2.peerlog import PeerLog
from tornadio2.rooms import Audience

if TYPE_CHECKING:  # pragma: no cover - imported for annotations only
    from tornadio2.session import ConnectionInfo, Session

__all__ = ["SocketConnection", "event", "broadcast", "AckCallback"]

logger = logging.getLogger("tornadio2.conn")
#: Unknown events and ACK ids come from the client: rate-limited, values cut short.
peer_log = PeerLog(logger)

#: ``callback(original_message, ack_args)`` called when the client acknowledges.
AckCallback = Callable[[Any, List[Any]], Any]

_F = TypeVar("_F", bound=Callable[..., Any])


@overload
def event(name_or_func: _F) -> _F: ...
@overload
def event(name_or_func: Optional[str] = None) -> Callable[[_F], _F]: ...


def event(name_or_func: Union[str, Callable[..., Any], None] = None) -> Any:
    """Mark a ``SocketConnection`` method as the handler of a client event.

    Use it bare (``@event``: the event is the method's name) or with a name
    (``@event('chat message')``). The method gets the event's arguments,
    or its keyword arguments when the client sent exactly one object; its
    return value is the ACK payload when the client asked for one.
    """
    if callable(name_or_func):
        name_or_func._tornadio_event = name_or_func.__name__  # type: ignore[attr-defined]
        return name_or_func

    def decorate(func: _F) -> _F:
        func._tornadio_event = name_or_func or func.__name__  # type: ignore[attr-defined]
        return func

    return decorate


def broadcast(connections: Iterable["SocketConnection"], name: str,
              *args: Any, **kwargs: Any) -> int:
    """Emit the event ``name`` to every connection, encoding it once per endpoint.

    Equivalent to calling ``conn.emit(name, *args, **kwargs)`` on each, but
    the JSON is built once instead of once per recipient. Closed connections
    are skipped. Returns how many connections it was sent to.
    """
    packets: Dict[Optional[str], str] = {}
    sent = 0
    for conn in connections:
        outlet = conn._outlet
        if outlet.closed:
            continue
        packet = packets.get(conn.endpoint)
        if packet is None:
            packet = packets[conn.endpoint] = proto.event(conn.endpoint, name, None, *args, **kwargs)
        outlet.send(packet)
        sent += 1
    return sent


def _collect_events(cls: type) -> Dict[str, Callable[..., Any]]:
    """Event name -> handler of ``cls``, from its ``@event`` methods and its bases'.

    A subclass attribute overriding a handler without ``@event`` takes its
    event away, as in TornadIO2 (whose registry held what the class's
    attributes resolved to); the closest definition of a method name wins.
    """
    events: Dict[str, Callable[..., Any]] = {}
    by_attribute: Dict[str, str] = {}  # method name -> the event it handled
    for klass in reversed(cls.__mro__):
        for attr_name, attr in vars(klass).items():
            previous = by_attribute.pop(attr_name, None)
            if previous is not None:
                events.pop(previous, None)
            name = getattr(attr, "_tornadio_event", None)
            if name is not None:
                events[name] = attr
                by_attribute[attr_name] = name
    return events


class _AckRegistry:
    """Ids and callbacks of the ACKs this endpoint waits for from the client.

    ``pending`` maps an id to ``(time, callback, message)`` as TornadIO2's
    ``ack_queue`` did (``time`` from :func:`time.time`), and ``next_id`` is
    the id the next request gets (its ``ack_id``).
    """

    __slots__ = ("next_id", "pending")

    def __init__(self) -> None:
        self.next_id = 1
        self.pending: Dict[int, Tuple[float, AckCallback, Any]] = {}

    def add(self, message: Any, callback: AckCallback) -> int:
        ack_id = self.next_id
        self.next_id += 1
        self.pending[ack_id] = (time.time(), callback, message)
        return ack_id

    def pop(self, ack_id: int) -> Optional[Tuple[float, AckCallback, Any]]:
        return self.pending.pop(ack_id, None)

    def clear(self) -> None:
        self.pending.clear()

    def __len__(self) -> int:
        return len(self.pending)


class SocketConnection:
    """One client connection, or one endpoint of it; subclass it per application.

    The session creates one instance for the main connection at handshake
    time and one per endpoint the client connects to (``__endpoints__``).
    Override the ``on_*`` hooks and mark event handlers with :func:`event`;
    any hook may be ``async def``.
    """

    #: Endpoint name -> connection class, for multiplexing (``{'/chat': Chat}``).
    __endpoints__: ClassVar[Dict[str, Type["SocketConnection"]]] = {}
    #: Event name -> handler function, built from ``@event`` methods.
    _events: ClassVar[Dict[str, Callable[..., Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._events = _collect_events(cls)

    def __init__(self, session: "Session", endpoint: Optional[str] = None) -> None:
        self.session = session
        self.endpoint = endpoint
        self._text_prefix = proto.text_prefix(endpoint)
        self._acks = _AckRegistry()
        # Where sent packets go; the session holds, opens and closes it.
        self._outlet = session.outlet_for(endpoint)

    @property
    def is_closed(self) -> bool:
        """True once this connection (or endpoint) has closed, or was refused."""
        return self._outlet.closed

    # -- hooks for applications ------------------------------------------------

    def on_open(self, info: "ConnectionInfo") -> Any:
        """Called when the client connects; return ``False`` to refuse it.

        ``info`` carries the handshake's IP, query arguments, cookies, headers
        and path. Raising ``tornado.web.HTTPError`` also refuses the handshake.
        """

    def on_message(self, message: Any) -> Any:
        """Called with a text message (``str``) or a decoded JSON message."""

    def on_event(self, name: str, args: List[Any] = [], kwargs: Dict[str, Any] = {}) -> Any:  # noqa: B006
        """Called for every client event; dispatches to ``@event`` handlers.

        Returns the handler's result, which is the ACK payload when the client
        asked for one. Unknown events are logged and ignored.
        """
        handler = self._events.get(name)
        if handler is None:
            peer_log.warning("%s has no handler for event %s", type(self).__name__, name)
            return None
        return handler(self, *args, **kwargs)

    def on_close(self) -> Any:
        """Called once when the connection (or endpoint) closes, for any reason."""

    # -- sending ---------------------------------------------------------------

    def send(self, message: Any, callback: Optional[AckCallback] = None,
             force_json: bool = False) -> None:
        """Send a text message, or JSON for anything that is not a string.

        With ``callback`` the client is asked to acknowledge, and
        ``callback(message, ack_args)`` runs when it does. With
        ``force_json`` a string is sent as already encoded JSON.
        """
        if callback is None and message.__class__ is str and message and not force_json:
            self._outlet.send(self._text_prefix + message)  # plain text: the common case
            return
        message_id = self._acks.add(message, callback) if callback else None
        self._outlet.send(proto.message(self.endpoint, message, message_id, force_json))

    def emit(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Send the event ``name`` with positional or keyword arguments."""
        self._outlet.send(proto.event(self.endpoint, name, None, *args, **kwargs))

    def emit_ack(self, callback: AckCallback, name: str, *args: Any, **kwargs: Any) -> None:
        """Send an event the client must acknowledge.

        ``callback((name, args, kwargs), ack_args)`` runs with the arguments
        the client's handler passed to its acknowledgement function.
        """
        message_id = self._acks.add((name, args, kwargs), callback)
        self._outlet.send(proto.event(self.endpoint, name, message_id, *args, **kwargs))

    def close(self) -> None:
        """Disconnect this connection (the whole session for the main one)."""
        if self.endpoint:
            self.session.disconnect_endpoint(self.endpoint)
        else:
            self.session.close()

    # -- rooms -----------------------------------------------------------------

    def join(self, room: str) -> None:
        """Join ``room`` of this endpoint (native ``socket.join(room)``).

        Allowed in ``on_open``: the connection is in the room from the moment
        it is accepted (a refused one joins nothing).
        """
        self.session.rooms.join(self, room, opening=not self.is_closed)

    def leave(self, room: str) -> None:
        """Leave ``room`` (native ``socket.leave(room)``); every room is left on close."""
        self.session.rooms.leave(self, room)

    @property
    def rooms(self) -> FrozenSet[str]:
        """The rooms this connection is in, the one named after its session id included."""
        if self.is_closed:
            return frozenset()
        return self.session.rooms.rooms_of(self)

    def to(self, room: str) -> Audience:
        """Everyone in ``room`` of this endpoint, this connection included.

        Native ``io.of(endpoint).in(room)``: ``self.to('lobby').emit('news', 1)``.
        """
        return Audience(self.session.rooms, self.endpoint, room)

    def to_all(self) -> Audience:
        """Every connection of this endpoint, this one included (native ``io.of(endpoint)``)."""
        return Audience(self.session.rooms, self.endpoint)

    def to_others(self, room: Optional[str] = None) -> Audience:
        """Every connection of this endpoint (or of ``room``) but this one.

        Native ``socket.broadcast`` (and ``socket.broadcast.to(room)``).
        """
        audience = Audience(self.session.rooms, self.endpoint, skip=self)
        return audience if room is None else audience.to(room)

    @property
    def volatile(self) -> Audience:
        """This connection alone, for packets it may miss (native ``socket.volatile``).

        ``self.volatile.emit(...)`` is dropped unless the client can take it
        now; ``self.to(room).volatile`` does the same for a room.
        """
        return Audience(self.session.rooms, self.endpoint, self.session.sid, volatile=True,
                        local=True)

    # -- used by the session ---------------------------------------------------

    def get_endpoint(self, endpoint: str) -> Optional[Type["SocketConnection"]]:
        """The connection class for ``endpoint``, or ``None`` if there is none."""
        return self.__endpoints__.get(endpoint)

    def deque_ack(self, ack_id: int, ack_args: List[Any]) -> Any:
        """Run the callback waiting for ACK ``ack_id``; unknown ids are logged."""
        entry = self._acks.pop(ack_id)
        if entry is None:
            peer_log.warning("unknown ack id %s on endpoint %s", ack_id, self.endpoint or "")
            return None
        _, callback, message = entry
        return callback(message, ack_args)

    @property
    def pending_acks(self) -> int:
        """How many ACKs this connection still waits for."""
        return len(self._acks)

    # -- TornadIO2's ACK bookkeeping ---------------------------------------------

    def queue_ack(self, callback: AckCallback, message: Any) -> int:
        """Wait for an ACK: ``callback(message, ack_args)`` runs when it comes; its id."""
        return self._acks.add(message, callback)

    @property
    def ack_id(self) -> int:
        """The id the next ACK request of this connection gets."""
        return self._acks.next_id

    @ack_id.setter
    def ack_id(self, value: int) -> None:
        self._acks.next_id = value

    @property
    def ack_queue(self) -> Dict[int, Tuple[float, AckCallback, Any]]:
        """The ACKs waited for: id -> ``(time.time() when asked, callback, message)``.

        The live table, as in TornadIO2: removing an entry forgets that ACK.
        """
        return self._acks.pending
