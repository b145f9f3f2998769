"""Live sessions by id, and the one expiry sweep that serves all of them.

This module owns session ids (from :mod:`secrets`) and the deadlines of
detached sessions, kept in one heap so a sweep touches only what is due.
Sessions do not know their container: they report through the
:class:`~tornadio2.session.SessionHooks` that :attr:`SessionContainer.hooks`
gives the router to pass them. It must not import Tornado: the router calls
:meth:`SessionContainer.expire` from its periodic callback, and tests call it
with ``now=``.
"""

import heapq
import secrets
import time
from typing import Dict, Iterator, List, Optional, Set, Tuple

from tornadio2.session import Session, SessionHooks

__all__ = ["SessionContainer", "new_session_id"]

#: Random bytes in a session id: 15 bytes are 20 URL-safe characters, as native ids.
SESSION_ID_BYTES = 15


def new_session_id() -> str:
    """An unpredictable, URL-safe session id."""
    return secrets.token_urlsafe(SESSION_ID_BYTES)


class SessionContainer:
    """Sessions by id, with a heap of expiry deadlines for detached ones.

    A session has at most one entry in the heap: when its entry comes due
    but the session was used meanwhile, the entry is pushed again with the
    session's current deadline instead of leaving stale entries behind.
    """

    def __init__(self) -> None:
        self._sessions: Dict[str, Session] = {}
        self._deadlines: List[Tuple[float, str]] = []
        self._in_heap: Set[str] = set()  # ids with an entry in the deadline heap
        #: What sessions of this container report to (give it to :class:`Session`).
        self.hooks = SessionHooks(expiring=self.schedule_expiry, ended=self.discard)

    def new_id(self) -> str:
        """A fresh id not used by a live session."""
        sid = new_session_id()
        while sid in self._sessions:
            sid = new_session_id()
        return sid

    def add(self, session: Session) -> None:
        """Keep ``session``; it expires unless a transport attaches in time."""
        self._sessions[session.sid] = session
        self.schedule_expiry(session)

    def get(self, sid: str) -> Optional[Session]:
        """The session with id ``sid``, or ``None``."""
        return self._sessions.get(sid)

    def remove(self, sid: str) -> Optional[Session]:
        """Forget session ``sid`` (its heap entry is dropped when it comes due)."""
        return self._sessions.pop(sid, None)

    def discard(self, session: Session) -> None:
        """Forget ``session`` if it is the one kept under its id (it has ended)."""
        if self._sessions.get(session.sid) is session:
            del self._sessions[session.sid]

    def schedule_expiry(self, session: Session) -> None:
        """Make sure the sweep will look at ``session`` by its ``expires_at``."""
        if session.expires_at is not None and session.sid not in self._in_heap:
            self._in_heap.add(session.sid)
            heapq.heappush(self._deadlines, (session.expires_at, session.sid))

    def expire(self, now: Optional[float] = None) -> List[Session]:
        """Remove and return every detached session whose deadline has passed."""
        if now is None:
            now = time.monotonic()
        expired = []
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            _, sid = heapq.heappop(heap)
            self._in_heap.discard(sid)
            session = self._sessions.get(sid)
            if session is None:
                continue
            if session.expires_at is None:
                continue  # attached again: the next detach schedules it anew
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
