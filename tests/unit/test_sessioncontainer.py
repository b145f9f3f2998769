"""SessionContainer: session ids and the expiry sweep of detached sessions.

Small stand-ins carry only what the container looks at (``sid``,
``expires_at``); the clock is the ``now=`` argument.
"""

import gc
import re
import weakref

from tornadio2 import sessioncontainer
from tornadio2.sessioncontainer import SessionContainer, new_session_id

URL_SAFE_20 = re.compile(r"[A-Za-z0-9_-]{20}\Z")


class StubSession:
    """What the container needs of a session: an id and an expiry deadline."""

    def __init__(self, sid, expires_at):
        self.sid = sid
        self.expires_at = expires_at


def detached(container, sid, deadline):
    """Add a session that no transport holds, due to expire at ``deadline``."""
    session = StubSession(sid, deadline)
    container.add(session)
    return session


def test_session_ids_are_url_safe_and_20_characters():
    ids = [new_session_id() for _ in range(200)]
    for sid in ids:
        assert URL_SAFE_20.match(sid), sid


def test_session_ids_are_unique():
    container = SessionContainer()
    ids = {container.new_id() for _ in range(5000)}
    assert len(ids) == 5000
    for sid in ids:
        assert URL_SAFE_20.match(sid), sid


def test_new_id_skips_ids_of_live_sessions(monkeypatch):
    container = SessionContainer()
    detached(container, "taken", 10)
    candidates = iter(["taken", "taken", "fresh"])
    monkeypatch.setattr(sessioncontainer, "new_session_id", lambda: next(candidates))
    assert container.new_id() == "fresh"


def test_added_session_can_be_found_and_removed():
    container = SessionContainer()
    session = detached(container, "a", 10)
    assert container.get("a") is session
    assert "a" in container
    assert len(container) == 1
    assert list(container) == [session]
    assert container.remove("a") is session
    assert container.get("a") is None
    assert "a" not in container
    assert len(container) == 0
    assert container.remove("a") is None


def test_expire_removes_only_sessions_past_their_deadline():
    container = SessionContainer()
    early = detached(container, "early", 10)
    late = detached(container, "late", 20)
    attached = StubSession("attached", None)
    container.add(attached)

    assert container.expire(now=5) == []
    assert container.expire(now=15) == [early]

    assert container.get("early") is None
    assert container.get("late") is late
    assert container.get("attached") is attached


def test_expire_returns_all_due_sessions_in_deadline_order():
    container = SessionContainer()
    c = detached(container, "c", 30)
    a = detached(container, "a", 10)
    b = detached(container, "b", 20)
    assert container.expire(now=100) == [a, b, c]
    assert len(container) == 0


def test_session_attached_again_is_not_expired():
    container = SessionContainer()
    session = detached(container, "s", 10)
    session.expires_at = None  # a transport attached before the deadline

    assert container.expire(now=100) == []
    assert container.get("s") is session


def test_session_detached_again_after_reattach_expires_at_its_new_deadline():
    container = SessionContainer()
    session = detached(container, "s", 10)
    session.expires_at = None
    assert container.expire(now=11) == []

    session.expires_at = 50  # detached again; the session asks to be watched
    container.schedule_expiry(session)
    assert container.expire(now=49) == []
    assert container.expire(now=51) == [session]


def test_detach_while_old_entry_pending_expires_at_new_deadline():
    container = SessionContainer()
    session = detached(container, "s", 10)
    session.expires_at = None           # attached
    session.expires_at = 25             # detached again before the old entry came due
    container.schedule_expiry(session)

    assert container.expire(now=15) == []
    assert container.get("s") is session
    assert container.expire(now=26) == [session]


def test_deadline_pushed_later_is_rescheduled_not_dropped():
    container = SessionContainer()
    session = detached(container, "s", 10)
    session.expires_at = 30  # used meanwhile: the deadline slid

    assert container.expire(now=15) == []
    assert container.get("s") is session
    assert container.expire(now=29) == []
    assert container.expire(now=31) == [session]
    assert len(container) == 0


def test_deadline_pushed_many_times_is_still_honoured():
    container = SessionContainer()
    session = detached(container, "s", 10)
    for now in range(5, 100, 5):
        session.expires_at = now + 10
        assert container.expire(now=now) == []
    # the last push (at now=95) moved the deadline to 105
    assert container.expire(now=104) == []
    assert container.expire(now=106) == [session]


def test_heap_holds_at_most_one_entry_per_session():
    container = SessionContainer()
    sessions = [detached(container, "s%d" % i, 10 + i) for i in range(50)]
    for round_ in range(1, 20):
        for session in sessions:
            session.expires_at = 10 + 100 * round_
            container.schedule_expiry(session)
            container.schedule_expiry(session)
        container.expire(now=10 + 100 * round_ - 50)
        assert len(container._deadlines) <= len(sessions)
    assert len(container) == len(sessions)


def test_removed_session_is_not_returned_by_expire():
    container = SessionContainer()
    session = detached(container, "s", 10)
    container.remove("s")
    assert container.expire(now=100) == []
    assert container._deadlines == []
    assert session.expires_at == 10  # no one touched the forgotten session


def test_sweep_of_ten_thousand_sessions_empties_the_container():
    container = SessionContainer()
    refs = []
    for i in range(10000):
        session = detached(container, container.new_id(), 1000 + i % 97)
        refs.append(weakref.ref(session))
    del session

    assert container.expire(now=999) == []
    expired = container.expire(now=2000)

    assert len(expired) == 10000
    assert len(container) == 0
    assert list(container) == []
    assert container._deadlines == []
    del expired
    gc.collect()
    assert all(ref() is None for ref in refs)


def test_expire_without_now_uses_the_monotonic_clock():
    container = SessionContainer()
    past = detached(container, "past", -1.0)  # monotonic time is never negative
    future = detached(container, "future", float("inf"))
    assert container.expire() == [past]
    assert container.get("future") is future
