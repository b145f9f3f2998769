"""Heartbeats: sent on schedule, answered ones keep the session, missed ones end it."""

from tests.fakes import FakeTransport


def test_heartbeat_sent_after_interval_on_socket_transport(make_session, transport, scheduler):
    session = make_session(heartbeat_interval=12, heartbeat_timeout=17)
    session.attach(transport)
    scheduler.advance(11.9)
    assert "2::" not in transport.packets
    scheduler.advance(0.2)
    assert transport.packets[-1] == "2::"


def test_answered_heartbeats_keep_session_open(make_session, transport, scheduler):
    session = make_session(heartbeat_interval=12, heartbeat_timeout=17)
    session.attach(transport)
    for _ in range(5):
        scheduler.advance(12)
        assert transport.packets[-1] == "2::"
        scheduler.advance(1)
        session.receive_frames("2::")
    assert not session.is_closed
    assert transport.packets.count("2::") == 5


def test_next_heartbeat_counts_from_the_answer(make_session, transport, scheduler):
    session = make_session(heartbeat_interval=12, heartbeat_timeout=17)
    session.attach(transport)
    scheduler.advance(12)
    scheduler.advance(5)
    session.receive_frames("2::")
    scheduler.advance(11.9)
    assert transport.packets.count("2::") == 1
    scheduler.advance(0.2)
    assert transport.packets.count("2::") == 2


def test_missed_heartbeats_close_session(make_session, transport, scheduler):
    session = make_session(heartbeat_interval=12, heartbeat_timeout=17)
    session.attach(transport)
    scheduler.advance(12 + 16.9)
    assert not session.is_closed
    scheduler.advance(0.2)
    assert session.is_closed
    assert transport.closed
    assert session.conn.calls[-1] == ("close",)
    assert transport.packets[-1] == "2::"  # no 0:: to a client that stopped answering


def test_other_packets_do_not_count_as_heartbeat_answers(make_session, transport, scheduler):
    session = make_session(heartbeat_interval=12, heartbeat_timeout=17)
    session.attach(transport)
    scheduler.advance(12)
    for _ in range(17):
        session.receive_frames("3:::busy")
        scheduler.advance(1)
    assert session.is_closed


def test_no_heartbeats_on_polling_without_global_heartbeats(make_session, scheduler):
    session = make_session(global_heartbeats=False, heartbeat_interval=12)
    session.attach(FakeTransport(oneshot=True))
    scheduler.advance(15)
    poll = FakeTransport(oneshot=True)
    session.attach(poll)
    scheduler.advance(5)
    assert "2::" not in poll.packets
    assert scheduler.pending <= 1  # only the long-poll timer


def test_global_heartbeats_reach_polling_clients(make_session, scheduler):
    session = make_session(global_heartbeats=True, heartbeat_interval=12, poll_timeout=20)
    session.attach(FakeTransport(oneshot=True))
    poll = FakeTransport(oneshot=True)
    session.attach(poll)
    scheduler.advance(12.1)
    assert poll.packets == ["2::"]


def test_close_cancels_timers(make_session, transport, scheduler):
    session = make_session()
    session.attach(transport)
    session.close()
    assert scheduler.pending == 0


def test_unanswered_websocket_check_probe_is_closed_after_the_heartbeat_timeout(
        make_session, transport, scheduler):
    session = make_session(heartbeat_interval=12, heartbeat_timeout=17)
    session.probe(transport)
    assert transport.packets == ["2::"]
    scheduler.advance(16.9)
    assert not transport.closed
    scheduler.advance(0.2)
    assert transport.closed
    assert not session.is_closed  # the session waits for another transport
    assert session.transport is None


def test_answered_websocket_check_probe_is_kept(make_session, transport, scheduler):
    session = make_session(heartbeat_interval=12, heartbeat_timeout=17)
    session.probe(transport)
    scheduler.advance(5)
    session.attach(transport)  # what the handler does once the client answers
    scheduler.advance(20)
    assert not transport.closed
    assert session.transport is transport
