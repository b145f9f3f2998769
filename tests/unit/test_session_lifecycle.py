"""Session life cycle: queueing, attaching, closing, expiry, limits."""

import asyncio

import pytest

from tests.fakes import FakeTransport, RecordingConnection
from tornadio2.exceptions import SessionClosedError
from tornadio2.session import Session, SessionConfig, SessionState


def test_first_attached_transport_receives_connect_packet(make_session, transport):
    session = make_session()
    session.attach(transport)
    assert transport.packets == ["1::"]
    assert session.state is SessionState.OPEN


def test_packets_sent_before_attach_wait_in_queue(make_session, transport):
    session = make_session()
    session.conn.send("early")
    assert transport.packets == []
    session.attach(transport)
    assert transport.batches == [["1::", "3:::early"]]


def test_replies_to_one_payload_leave_in_one_batch(make_session):
    session = make_session()
    poll = FakeTransport(oneshot=True)
    session.attach(poll)
    poll2 = FakeTransport(oneshot=True)
    session.receive_frames("\ufffd5\ufffd3:::a\ufffd5\ufffd3:::b")
    session.attach(poll2)
    assert poll2.batches == [["3:::got a", "3:::got b"]]


def test_oneshot_transport_is_detached_after_one_batch(make_session):
    session = make_session()
    poll = FakeTransport(oneshot=True)
    session.attach(poll)
    assert session.transport is None
    session.conn.send("later")
    assert poll.packets == ["1::"]
    next_poll = FakeTransport(oneshot=True)
    session.attach(next_poll)
    assert next_poll.packets == ["3:::later"]


def test_idle_poll_gets_noop_after_poll_timeout(make_session, scheduler):
    session = make_session(poll_timeout=20)
    session.attach(FakeTransport(oneshot=True))
    poll = FakeTransport(oneshot=True)
    session.attach(poll)
    scheduler.advance(19.9)
    assert poll.packets == []
    scheduler.advance(0.2)
    assert poll.packets == ["8::"]


def test_second_poll_releases_the_first_with_noop(make_session):
    session = make_session()
    session.attach(FakeTransport(oneshot=True))
    first, second = FakeTransport(oneshot=True), FakeTransport(oneshot=True)
    session.attach(first)
    session.attach(second)
    session.conn.send("x")
    assert first.packets == ["8::"]
    assert second.packets == ["3:::x"]


def test_client_disconnect_packet_closes_session_once(make_session, transport, container):
    session = make_session()
    session.attach(transport)
    session.receive_frames("0::")
    session.receive_frames("0::")
    assert session.is_closed
    assert session.conn.calls.count(("close",)) == 1
    assert transport.packets[-1] == "0::"
    assert transport.closed
    assert session.sid not in container


def test_server_close_sends_disconnect_and_calls_on_close(make_session, transport):
    session = make_session()
    session.attach(transport)
    session.conn.close()
    assert transport.packets == ["1::", "0::"]
    assert transport.closed
    assert session.conn.calls[-1] == ("close",)
    assert session.conn.is_closed


def test_close_while_detached_delivers_disconnect_on_next_poll(make_session, container):
    session = make_session()
    session.attach(FakeTransport(oneshot=True))
    session.conn.send("bye")
    session.close()
    assert session.sid in container
    poll = FakeTransport(oneshot=True)
    session.attach(poll)
    assert poll.packets == ["3:::bye", "0::"]
    assert session.sid not in container
    with pytest.raises(SessionClosedError):
        session.attach(FakeTransport(oneshot=True))


def test_send_after_close_is_dropped(make_session, transport):
    session = make_session()
    session.attach(transport)
    session.close(send_disconnect=False)
    session.conn.send("ghost")
    assert "3:::ghost" not in transport.packets


def test_detached_session_expires_and_calls_on_close(make_session, container, scheduler):
    session = make_session(session_expiry=30)
    session.attach(FakeTransport(oneshot=True))
    scheduler.advance(29)
    assert container.expire(scheduler.now()) == []
    scheduler.advance(2)
    expired = container.expire(scheduler.now())
    assert expired == [session]
    for item in expired:
        item.close(send_disconnect=False)
    assert session.conn.calls[-1] == ("close",)
    assert len(container) == 0


def test_attached_session_does_not_expire(make_session, container, scheduler, transport):
    session = make_session(session_expiry=30, heartbeat_interval=12, heartbeat_timeout=17)
    session.attach(transport)
    for _ in range(10):
        scheduler.advance(10)
        session.receive_frames("2::")
    assert container.expire(scheduler.now()) == []
    assert not session.is_closed


def test_session_never_attached_expires(make_session, container, scheduler):
    session = make_session(session_expiry=30)
    scheduler.advance(31)
    assert container.expire(scheduler.now()) == [session]


def test_queue_over_limit_closes_session(make_session, container):
    session = make_session(max_queue_length=5)
    for number in range(10):
        session.conn.send(str(number))
    assert session.is_closed
    assert session.conn.calls[-1] == ("close",)
    poll = FakeTransport(oneshot=True)
    session.attach(poll)
    assert poll.packets == ["0::"]


def test_handler_exception_is_logged_and_closes_session(make_session, transport, caplog):
    session = make_session()
    session.attach(transport)
    session.receive_frames("3:::explode")
    assert "boom" in caplog.text
    assert session.is_closed
    assert transport.packets[-1] == "0::"


def test_bad_packets_are_ignored_and_session_goes_on(make_session, transport, caplog):
    session = make_session()
    session.attach(transport)
    for garbage in ["garbage", "5:::{not json", "4:::{bad", "6:::x", "99::", ""]:
        session.receive_frames(garbage)
    assert session.receive_frames("\ufffd12\ufffd3::") is False
    session.receive_frames("3:::still here")
    assert transport.packets[-1] == "3:::got still here"
    assert not session.is_closed
    assert "bad packet" in caplog.text


def test_refused_open_returns_false(scheduler, container, stats, info):
    class Refusing(RecordingConnection):
        refuse = True

    session = Session("sid", Refusing, info, SessionConfig(), scheduler, stats, container.hooks)
    assert asyncio.run(session.open()) is False
    assert session.is_closed
    assert stats.sessions_active == 0


def test_async_on_open_can_refuse(scheduler, container, stats, info):
    class AsyncRefusing(RecordingConnection):
        async def on_open(self, info):
            await asyncio.sleep(0)
            return False

    session = Session("sid", AsyncRefusing, info, SessionConfig(), scheduler, stats, container.hooks)
    assert asyncio.run(session.open()) is False


def test_stats_count_sessions_and_packets(make_session, stats, transport):
    session = make_session()
    assert stats.sessions_active == 1
    session.attach(transport)
    session.receive_frames("\ufffd5\ufffd3:::a\ufffd5\ufffd3:::b")
    assert stats.packets_recv_total == 2
    assert stats.packets_sent_total == 3  # 1::, then the two replies
    session.close()
    assert stats.sessions_active == 0


def test_socket_frames_are_handled_one_packet_or_a_payload_each(make_session, stats, transport):
    session = make_session()
    session.attach(transport)
    session.receive_frame("3:::a")
    session.receive_frame("\ufffd5\ufffd3:::b\ufffd5\ufffd3:::c")
    assert transport.packets[1:] == ["3:::got a", "3:::got b", "3:::got c"]
    assert stats.packets_recv_total == 3


def test_a_bad_socket_frame_is_logged_and_the_session_goes_on(make_session, transport, caplog):
    session = make_session()
    session.attach(transport)
    for frame in ["3", "\ufffd9\ufffd3:::", "3:::on"]:  # no type; a length past the end
        session.receive_frame(frame)
    assert transport.packets[-1] == "3:::got on"
    assert "bad packet" in caplog.text and "unreadable payload" in caplog.text
    assert not session.is_closed


def test_a_closed_session_ignores_socket_frames(make_session, stats, transport):
    session = make_session()
    session.attach(transport)
    session.close()
    session.receive_frame("3:::late")
    assert ("message", "late") not in session.conn.calls
    assert stats.packets_recv_total == 0


@pytest.mark.parametrize("path", ["client", "server", "expiry", "transport_lost"])
def test_on_close_called_exactly_once_on_every_path(make_session, transport, container,
                                                    scheduler, path):
    session = make_session()
    session.attach(transport)
    if path == "client":
        session.receive_frames("0::")
    elif path == "server":
        session.conn.close()
    elif path == "expiry":
        session.detach(transport)
        scheduler.advance(31)
        for item in container.expire(scheduler.now()):
            item.close(send_disconnect=False)
    else:
        session.detach(transport)
        session.close(send_disconnect=False)
    session.close()
    assert session.conn.calls.count(("close",)) == 1


def test_a_session_subclass_can_override_a_packet_handler(scheduler, container, info):
    seen = []

    class CountingNoops(Session):
        def _on_noop(self, endpoint, data, message_id, ack_data):
            seen.append((endpoint, data))

    session = CountingNoops("sid", RecordingConnection, info, SessionConfig(), scheduler, None,
                            container.hooks)
    asyncio.run(session.open())
    session.attach(FakeTransport())
    session.receive_frame("8::/x:data")
    session.receive_frames("\ufffd3\ufffd8::\ufffd3\ufffd3::")
    assert seen == [("/x", "data"), ("", "")]


def test_write_backlog_over_the_limit_closes_session(make_session, transport, stats):
    session = make_session(write_limit=1000)
    session.attach(transport)
    session.write_backlog(1000)
    assert not session.is_closed
    session.write_backlog(1001)
    assert session.is_closed
    assert session.conn.calls[-1] == ("close",)
    assert stats.queue_overflows == 1
    assert stats.disconnects.get("queue_overflow") == 1
