"""Rooms: which connections of this process are in which room, per endpoint.

A room is named per endpoint, as the native server keys them
(``endpoint + '/' + name``): ``'lobby'`` on ``/chat`` and ``'lobby'`` on
the main endpoint are two rooms. Every open connection is in two rooms it
never joined: the whole endpoint, and a room named after its session id (so
"send to one client" is a room send). A connection leaves every room when
it closes, whatever ended it; a room goes away with its last member.

:class:`Audience` is what an application emits to: the members of a room,
of the whole endpoint, with or without the sender, volatile or not. A packet
is encoded once per audience, whatever its size.

The registry is local to this process. Its :attr:`RoomRegistry.broker`
(:mod:`tornadio2.broker`) carries room sends to other processes: an
audience delivers to local members at once and, when the broker is shared,
publishes the send once; :meth:`RoomRegistry.apply` applies another
process's message to the local members. This module must not import
Tornado or the session and connection classes.
"""

import weakref
from typing import Any, Dict, FrozenSet, Iterator, List, Optional, Protocol, Set, Tuple

from tornadio2 import broker as messages
from tornadio2 import proto

__all__ = ["RoomRegistry", "Audience", "Member", "ALL"]


class _All:
    """The room every connection of an endpoint is in."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ALL"


#: Stands for the whole endpoint where a room name is expected.
ALL: Any = _All()

_RoomKey = Tuple[str, Any]  # (endpoint, room name or ALL)


class Member(Protocol):
    """What the registry needs of a member's session: a way to send, now or never."""

    sid: str

    def send_volatile(self, packet: str) -> bool:
        """Send ``packet`` if the client can take it now; ``False`` if it was dropped."""


class _Entry:
    """One connection in the registry."""

    __slots__ = ("endpoint", "session", "send", "rooms")

    def __init__(self, endpoint: str, session: Member, send: Any) -> None:
        self.endpoint = endpoint
        self.session = session
        self.send = send  # the connection's outlet's send
        self.rooms: Set[Any] = set()


class RoomRegistry:
    """The rooms of one process, per endpoint (no I/O)."""

    def __init__(self, broker: Optional[messages.Broker] = None) -> None:
        #: Where sends for other processes go (in-process only by default).
        self.broker: messages.Broker = broker if broker is not None else messages.LocalBroker()
        self._rooms: Dict[_RoomKey, Dict[Any, _Entry]] = {}
        self._entries: Dict[Any, _Entry] = {}
        # Rooms joined while on_open runs, entered once it accepts; weak, so a
        # refused connection's joins go with it.
        self._opening: "weakref.WeakKeyDictionary[Any, Set[str]]" = weakref.WeakKeyDictionary()

    # -- membership -------------------------------------------------------------

    def enter(self, conn: Any, endpoint: Optional[str], session: Member, send: Any) -> None:
        """``conn`` is open: it joins its endpoint and its session's id room.

        ``send`` is how a packet reaches it (its outlet's ``send``).
        """
        entry = _Entry(endpoint or "", session, send)
        self._entries[conn] = entry
        self._add(conn, entry, ALL)
        self._add(conn, entry, session.sid)
        for room in self._opening.pop(conn, ()):
            self._add(conn, entry, room)

    def join(self, conn: Any, room: str, opening: bool = False) -> None:
        """Put ``conn`` in ``room`` of its endpoint; a closed connection joins nothing.

        With ``opening`` (its ``on_open`` runs), a connection not entered yet
        joins when it is entered, and never if it is refused.
        """
        entry = self._entries.get(conn)
        if entry is not None:
            self._add(conn, entry, _room_name(room))
        elif opening:
            self._opening.setdefault(conn, set()).add(_room_name(room))

    def leave(self, conn: Any, room: str) -> None:
        """Take ``conn`` out of ``room``; the room goes when it is empty."""
        entry = self._entries.get(conn)
        if entry is not None and room in entry.rooms:
            self._remove(conn, entry, room)
        elif entry is None and conn in self._opening:
            self._opening[conn].discard(room)

    def leave_all(self, conn: Any) -> None:
        """``conn`` has closed: it leaves every room, the implicit ones included."""
        self._opening.pop(conn, None)
        entry = self._entries.pop(conn, None)
        if entry is not None:
            for room in list(entry.rooms):
                self._remove(conn, entry, room)

    def rooms_of(self, conn: Any) -> FrozenSet[str]:
        """The named rooms ``conn`` is in, its session id room included."""
        entry = self._entries.get(conn)
        if entry is None:
            return frozenset(self._opening.get(conn, ()))
        return frozenset(room for room in entry.rooms if room is not ALL)

    def close_room(self, room: str, endpoint: Optional[str] = None) -> int:
        """Take every member out of ``room`` of ``endpoint``; how many there were."""
        members = self._rooms.get((endpoint or "", _room_name(room)))
        if not members:
            return 0
        count = len(members)
        for conn, entry in list(members.items()):
            self._remove(conn, entry, room)
        return count

    def connections(self, room: Any = ALL, endpoint: Optional[str] = None) -> List[Any]:
        """The connections in ``room`` of ``endpoint`` (all of it by default), in joining order."""
        return list(self._rooms.get((endpoint or "", room), ()))

    def __len__(self) -> int:
        """How many rooms exist (implicit ones included)."""
        return len(self._rooms)

    def __iter__(self) -> Iterator[Tuple[str, Any]]:
        """The ``(endpoint, room)`` keys of every room."""
        return iter(list(self._rooms))

    def _add(self, conn: Any, entry: _Entry, room: Any) -> None:
        members = self._rooms.get((entry.endpoint, room))
        if members is None:
            members = self._rooms[(entry.endpoint, room)] = {}
        members[conn] = entry
        entry.rooms.add(room)

    def _remove(self, conn: Any, entry: _Entry, room: Any) -> None:
        entry.rooms.discard(room)
        key = (entry.endpoint, room)
        members = self._rooms.get(key)
        if members is not None:
            members.pop(conn, None)
            if not members:
                del self._rooms[key]

    # -- delivery ---------------------------------------------------------------

    def deliver(self, endpoint: str, room: Any, packet: str, skip: Any = None,
                volatile: bool = False) -> int:
        """Hand ``packet`` to every member of ``room`` but ``skip``; how many got it.

        A volatile packet goes only to members whose client can take it now.
        """
        members = self._rooms.get((endpoint, room))
        if not members:
            return 0
        delivered = 0
        for conn, entry in list(members.items()):
            if conn is skip:
                continue
            if volatile:
                if entry.session.send_volatile(packet):
                    delivered += 1
            else:
                entry.send(packet)
                delivered += 1
        return delivered

    # -- messages of other processes ----------------------------------------------

    def apply(self, message: messages.Message) -> int:
        """Apply a broker message of another process to the local members.

        Returns how many local connections it touched; unknown methods and
        malformed messages touch none.
        """
        try:
            handler = _APPLY.get(message["method"])
            endpoint = messages.endpoint_of(message.get("namespace"))
            return handler(self, endpoint, message) if handler else 0
        except (KeyError, TypeError, ValueError):
            return 0

    def _apply_emit(self, endpoint: str, message: messages.Message) -> int:
        packet = message.get("packet")
        if not isinstance(packet, str):
            data = message.get("data")
            args = data if isinstance(data, list) else [data]
            packet = proto.event(endpoint, str(message["event"]), None, *args)
        room = message.get("room")
        skip = message.get("skip_sid")
        if isinstance(room, list) or isinstance(skip, list):
            skips = set(skip if isinstance(skip, list) else [skip])
            rooms = room if isinstance(room, list) else [room]
            return sum(self._deliver_skipping(endpoint, ALL if r is None else r, packet, skips)
                       for r in rooms)
        skip_conn = None
        if skip is not None:
            skipped = self.connections(skip, endpoint)
            skip_conn = skipped[0] if skipped else None
        return self.deliver(endpoint, ALL if room is None else _room_name(room), packet,
                            skip_conn, bool(message.get("volatile")))

    def _deliver_skipping(self, endpoint: str, room: Any, packet: str, skips: Set[Any]) -> int:
        delivered = 0
        for conn, entry in list(self._rooms.get((endpoint, room), {}).items()):
            if entry.session.sid not in skips:
                entry.send(packet)
                delivered += 1
        return delivered

    def _apply_disconnect(self, endpoint: str, message: messages.Message) -> int:
        conns = self.connections(_room_name(message["sid"]), endpoint)
        for conn in conns:
            conn.close()
        return len(conns)

    def _apply_close_room(self, endpoint: str, message: messages.Message) -> int:
        return self.close_room(message["room"], endpoint)

    def _apply_enter_room(self, endpoint: str, message: messages.Message) -> int:
        conns = self.connections(_room_name(message["sid"]), endpoint)
        for conn in conns:
            self.join(conn, message["room"])
        return len(conns)

    def _apply_leave_room(self, endpoint: str, message: messages.Message) -> int:
        conns = self.connections(_room_name(message["sid"]), endpoint)
        for conn in conns:
            self.leave(conn, message["room"])
        return len(conns)


_APPLY = {
    "emit": RoomRegistry._apply_emit,
    "disconnect": RoomRegistry._apply_disconnect,
    "close_room": RoomRegistry._apply_close_room,
    "enter_room": RoomRegistry._apply_enter_room,
    "leave_room": RoomRegistry._apply_leave_room,
}


def _room_name(room: str) -> str:
    if not isinstance(room, str):
        raise TypeError("a room name is a str, not %s" % type(room).__name__)
    return room


class Audience:
    """Who a send goes to: a room or a whole endpoint, maybe without one connection.

    Made by :meth:`SocketConnection.to <tornadio2.conn.SocketConnection.to>`
    and friends, or by the router; ``emit`` and ``send`` encode once and
    deliver to every member, and return how many got it. An ACK callback
    has no single meaning for many recipients, so there is no ``emit_ack``.
    """

    __slots__ = ("_registry", "_endpoint", "_room", "_skip", "_volatile", "_local")

    def __init__(self, registry: RoomRegistry, endpoint: Optional[str], room: Any = ALL,
                 skip: Any = None, volatile: bool = False, local: bool = False) -> None:
        self._registry = registry
        self._endpoint = endpoint or ""
        self._room = room if room is ALL else _room_name(room)
        self._skip = skip
        self._volatile = volatile
        self._local = local  # the members are known to be in this process

    @property
    def volatile(self) -> "Audience":
        """The same audience, for packets dropped by clients that cannot take them now."""
        return Audience(self._registry, self._endpoint, self._room, self._skip, True, self._local)

    def to(self, room: str) -> "Audience":
        """The same audience narrowed to ``room`` (``others.to(room)`` is native ``broadcast.to``)."""
        return Audience(self._registry, self._endpoint, room, self._skip, self._volatile)

    @property
    def connections(self) -> List[Any]:
        """Who would get a packet now (in this process)."""
        return [conn for conn in self._registry.connections(self._room, self._endpoint)
                if conn is not self._skip]

    def emit(self, name: str, *args: Any, **kwargs: Any) -> int:
        """Send the event ``name`` to every member; positional or keyword arguments.

        Returns how many members of this process got it; with a shared
        broker the other processes deliver to theirs.
        """
        broker = self._registry.broker
        if broker.shared and not self._local:
            message = messages.emit_message(self._endpoint, self._room_or_none, name, list(args),
                                            kwargs, self._skip_sid, self._volatile)
            broker.publish(message)
            return self._deliver(message["packet"])
        return self._deliver(proto.event(self._endpoint, name, None, *args, **kwargs))

    def send(self, message: Any, force_json: bool = False) -> int:
        """Send a text message (or JSON for anything else) to every member."""
        broker = self._registry.broker
        if broker.shared and not self._local:
            published = messages.send_message(self._endpoint, self._room_or_none, message,
                                              force_json, self._skip_sid, self._volatile)
            broker.publish(published)
            return self._deliver(published["packet"])
        return self._deliver(proto.message(self._endpoint, message, None, force_json))

    @property
    def _room_or_none(self) -> Optional[str]:
        return None if self._room is ALL else self._room

    @property
    def _skip_sid(self) -> Optional[str]:
        return None if self._skip is None else self._skip.session.sid

    def _deliver(self, packet: str) -> int:
        return self._registry.deliver(self._endpoint, self._room, packet, self._skip,
                                      self._volatile)
