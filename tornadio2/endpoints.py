"""Where a connection's packets go, and the endpoints of a session as they open and close.

A connection never writes to its session directly: it sends through an
:class:`Outlet`, which the session opens, holds or closes. That keeps the
whole life of an endpoint (opening while its ``on_open`` runs, open, closed)
in the session layer, in one place:

* while ``on_open`` runs, what the connection sends is held, and what the
  client sends to the endpoint waits (:class:`Opening`);
* once accepted, the session announces the endpoint (``1::/chat``), then the
  held packets go out and the waiting ones are handled, in order;
* once closed (or refused), sends are dropped.

This module must not import Tornado or the connection classes.
"""

import logging
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

__all__ = ["Outlet", "Opening", "Endpoints"]

logger = logging.getLogger("tornadio2.endpoints")

#: A packet as the session's parser returns it: (type, endpoint, data, id, ack_data).
PacketFields = Tuple[int, str, str, str, bool]


class Outlet:
    """The way out of one connection: to the session, into a hold, or nowhere.

    ``send`` is swapped as the state changes, so that a send tests nothing;
    ``closed`` is what the connection's ``is_closed`` reports.
    """

    __slots__ = ("send", "closed", "_held")

    def __init__(self, send: Callable[[str], None], hold: bool = False) -> None:
        self.closed = False
        self._held: Optional[List[str]] = [] if hold else None
        self.send: Callable[[str], None] = self._held.append if self._held is not None else send

    def release(self, send: Callable[[str], None]) -> List[str]:
        """Stop holding: sends go to ``send`` from now on; returns what was held."""
        held, self._held = self._held or [], None
        if not self.closed:
            self.send = send
        return held

    def close(self) -> None:
        """Drop every later send (and whatever is held)."""
        self.closed = True
        self._held = None
        self.send = _drop


def _drop(packet: str) -> None:
    logger.debug("dropping a packet sent on a closed connection: %.80s", packet)


class Opening:
    """An endpoint whose ``on_open`` has not finished.

    ``waiting`` keeps the client's packets for the endpoint until it is
    accepted (``waiting_bytes`` is the size of their data, which the session
    bounds); ``close_requested`` records a ``close()`` made meanwhile,
    which refuses the endpoint when ``on_open`` returns.
    """

    __slots__ = ("conn", "outlet", "waiting", "waiting_bytes", "close_requested")

    def __init__(self, outlet: Outlet) -> None:
        self.conn: Any = None  # set once the connection exists (it asks for its outlet first)
        self.outlet = outlet
        self.waiting: List[PacketFields] = []
        self.waiting_bytes = 0
        self.close_requested = False


class Endpoints:
    """The endpoints of one session: those opening and those open, by name."""

    __slots__ = ("_open", "_outlets", "_opening")

    def __init__(self) -> None:
        self._open: Dict[str, Any] = {}
        self._outlets: Dict[str, Outlet] = {}
        self._opening: Dict[str, Opening] = {}

    def __contains__(self, name: object) -> bool:
        """True while ``name`` is opening or open."""
        return name in self._open or name in self._opening

    def get(self, name: str) -> Any:
        """The open connection of ``name``, or ``None``."""
        return self._open.get(name)

    def connections(self) -> Dict[str, Any]:
        """The open connections by name (the table itself: do not change it)."""
        return self._open

    def opening(self, name: str) -> Optional[Opening]:
        """The :class:`Opening` of ``name`` while its ``on_open`` runs, or ``None``."""
        return self._opening.get(name)

    def begin(self, name: str, send: Callable[[str], None]) -> Opening:
        """Start opening ``name``: its outlet holds until :meth:`finish`."""
        opening = self._opening[name] = Opening(Outlet(send, hold=True))
        return opening

    def finish(self, name: str) -> Optional[Opening]:
        """``name`` is done opening; its :class:`Opening`, or ``None`` if it was dropped."""
        return self._opening.pop(name, None)

    def add(self, name: str, opening: Opening) -> None:
        """``name`` is open, served by the connection of ``opening``."""
        self._open[name] = opening.conn
        self._outlets[name] = opening.outlet

    def remove(self, name: str) -> Optional[Tuple[Any, Outlet]]:
        """Forget the open endpoint ``name``; its ``(connection, outlet)``, or ``None``."""
        conn = self._open.pop(name, None)
        if conn is None:
            return None
        return conn, self._outlets.pop(name)

    def drain(self) -> Iterator[Tuple[Any, Outlet]]:
        """Forget every endpoint, yielding each ``(connection, outlet)`` once.

        Opening endpoints come first: their ``on_open`` has started, so they
        too are owed an ``on_close``.
        """
        openings, self._opening = list(self._opening.values()), {}
        for opening in openings:
            if opening.conn is not None:
                yield opening.conn, opening.outlet
        names, self._open = list(self._open.items()), {}
        outlets, self._outlets = self._outlets, {}
        for name, conn in names:
            yield conn, outlets[name]
