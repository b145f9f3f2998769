"""Live sessions by id, and the one expiry sweep that serves all of them.

This module owns session ids (from :mod:`secrets`) and the deadlines of
detached sessions, kept in one heap so a sweep touches only what is due.
Sessions do not know their container: they report through the
:class:`~tornadio2.session.SessionHooks` that :attr:`SessionContainer.hooks`
gives the router to pass them. It must not import Tornado: the router calls
:meth:`SessionContainer.expire` from its periodic callback, and tests call it
with ``now=``. TornadIO2's :class:`SessionBase` is here for applications
that keep objects of their own in a container.
"""

import heapq
import math
import secrets
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

from tornadio2.session import Session, SessionHooks

__all__ = ["SessionBase", "SessionContainer", "new_session_id", "node_of"]

#: Random bytes in a session id: 15 bytes are 20 URL-safe characters, as native ids.
SESSION_ID_BYTES = 15


#: Between a node id and the random part of a session id: never in the random
#: part (URL-safe base64), nor a separator of the handshake body or the URL.
NODE_SEPARATOR = "."


def new_session_id(node_id: Optional[str] = None) -> str:
    """An unpredictable, URL-safe session id, after ``node_id.`` when one is given."""
    token = secrets.token_urlsafe(SESSION_ID_BYTES)
    return token if node_id is None else node_id + NODE_SEPARATOR + token


def node_of(session_id: str) -> Optional[str]:
    """The node id in ``session_id``, or None if it has none."""
    node, separator, _ = session_id.partition(NODE_SEPARATOR)
    return node if separator else None


class SessionBase:
    """TornadIO2's base for objects kept in a :class:`SessionContainer`.

    For applications that keep their own expiring objects in a container:
    ``session_id`` (a fresh one when not given), ``expiry`` in seconds
    (``None``: never expires), :meth:`promote` to keep the object alive
    another ``expiry`` from now, and :meth:`on_delete`, called with
    ``forced=True`` by :meth:`SessionContainer.remove` and ``False`` when
    the object expires (promoting it then keeps it). Times are
    :func:`time.monotonic` values, the clock ``expire()`` uses by default.
    tornadio2's own sessions do not derive from it.
    """

    def __init__(self, session_id: Optional[str] = None, expiry: Optional[float] = None) -> None:
        self.session_id = session_id or new_session_id()
        self.expiry = expiry
        #: When the object expires, if it has an expiry.
        self.expiry_date: Optional[float] = None
        #: The new expiry time set by the last :meth:`promote`, if any.
        self.promoted: Optional[float] = None
        if expiry is not None:
            self.expiry_date = time.monotonic() + expiry

    @property
    def sid(self) -> str:
        """The id the container files it under (``session_id``)."""
        return self.session_id

    @property
    def expires_at(self) -> Optional[float]:
        """When the container expires it: the later of its expiry and its promotion."""
        if self.expiry_date is None:
            return None
        return max(self.expiry_date, self.promoted or 0.0)

    def is_alive(self) -> bool:
        """True until the expiry time has passed (always, without an expiry)."""
        return self.expiry_date is None or self.expiry_date > time.monotonic()

    def promote(self) -> None:
        """Keep the object alive for another ``expiry`` seconds from now."""
        if self.expiry is not None:
            self.promoted = time.monotonic() + self.expiry

    def on_delete(self, forced: bool) -> None:
        """Called when the object is removed (``forced``) or expires; does nothing."""


class SessionContainer:
    """Sessions by id, with a heap of expiry deadlines for detached ones.

    A session has one entry in the heap, or two when its deadline moved
    earlier (a session that attached and left before its handshake
    deadline): when an entry comes due but the session was used meanwhile,
    it is pushed again with the session's current deadline instead of
    leaving stale entries behind.
    """

    def __init__(self, node_id: Optional[str] = None) -> None:
        #: Put in front of every id this container makes (see :func:`new_session_id`).
        self.node_id = node_id
        self._sessions: Dict[str, Session] = {}
        self._deadlines: List[Tuple[float, str]] = []
        # id -> the earliest deadline it has an entry for in the heap
        self._in_heap: Dict[str, float] = {}
        #: What sessions of this container report to (give it to :class:`Session`).
        self.hooks = SessionHooks(expiring=self.schedule_expiry, ended=self.discard)

    def new_id(self) -> str:
        """A fresh id not used by a live session."""
        prefix = "" if self.node_id is None else self.node_id + NODE_SEPARATOR
        sid = prefix + new_session_id()
        while sid in self._sessions:
            sid = prefix + new_session_id()
        return sid

    def add(self, session: Session) -> None:
        """Keep ``session``; it expires unless a transport attaches in time."""
        self._sessions[session.sid] = session
        self.schedule_expiry(session)

    def get(self, sid: str) -> Optional[Session]:
        """The session with id ``sid``, or ``None``."""
        return self._sessions.get(sid)

    def remove(self, sid: str) -> Optional[Any]:
        """Forget session ``sid`` (its heap entry is dropped when it comes due).

        A :class:`SessionBase` gets ``on_delete(True)``.
        """
        session = self._sessions.pop(sid, None)
        if isinstance(session, SessionBase):
            session.on_delete(True)
        return session

    def discard(self, session: Session) -> None:
        """Forget ``session`` if it is the one kept under its id (it has ended)."""
        if self._sessions.get(session.sid) is session:
            del self._sessions[session.sid]

    def schedule_expiry(self, session: Session) -> None:
        """Make sure the sweep will look at ``session`` by its ``expires_at``."""
        deadline = session.expires_at
        if deadline is not None and deadline < self._in_heap.get(session.sid, math.inf):
            self._in_heap[session.sid] = deadline
            heapq.heappush(self._deadlines, (deadline, session.sid))

    def expire(self, now: Optional[float] = None,
               current_time: Optional[float] = None) -> List[Session]:
        """Remove and return every detached session whose deadline has passed.

        ``now`` (TornadIO2: ``current_time``) is a :func:`time.monotonic`
        value, the current time when omitted. A :class:`SessionBase` gets
        ``on_delete(False)`` first and stays if that promoted it.
        """
        if now is None:
            now = current_time if current_time is not None else time.monotonic()
        expired = []
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            due, sid = heapq.heappop(heap)
            if self._in_heap.get(sid) != due:
                continue  # a later entry of a session that has an earlier one
            del self._in_heap[sid]
            session = self._sessions.get(sid)
            if session is None:
                continue
            if session.expires_at is None:
                continue  # attached again: the next detach schedules it anew
            if session.expires_at <= now and isinstance(session, SessionBase):
                session.on_delete(False)  # its chance to promote itself
            if session.expires_at <= now:
                del self._sessions[sid]
                expired.append(session)
            else:
                self.schedule_expiry(session)
        return expired

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, sid: object) -> bool:
        return sid in self._sessions

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._sessions.values()))
