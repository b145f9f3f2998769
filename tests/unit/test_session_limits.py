"""The session's limits on what a client sends and on what waits for it.

The packet budget of a payload, large payloads read a slice per loop turn,
the queue of an endpoint still opening, the outbound queue in bytes, and a
socket that does not take what is written to it; with their counters.
"""

import asyncio
import logging

from tests.fakes import RecordingConnection
from tornadio2 import proto
from tornadio2.session import SessionConfig


def payload(packets):
    return proto.encode_frames(list(packets))


def messages(conn):
    return [call[1] for call in conn.calls if call[0] == "message"]


# -- the packet budget of a payload ---------------------------------------------------


def test_decode_frames_stops_one_packet_past_its_limit():
    frames = proto.decode_frames(payload(["8::"] * 1000), limit=10)
    assert len(frames) == 11
    assert len(proto.decode_frames(payload(["8::"] * 10), limit=10)) == 10


def test_a_payload_over_the_budget_closes_the_session_unread(make_session, transport, stats):
    session = make_session(max_payload_packets=10)
    session.attach(transport)
    assert session.receive_frames(payload(["3:::m%d" % n for n in range(11)])) is False
    assert messages(session.conn) == []
    assert session.is_closed
    assert transport.packets[-1] == "0::"
    assert stats.payloads_refused == 1
    assert stats.disconnects["flood"] == 1


def test_a_payload_at_the_budget_is_read(make_session, transport, stats):
    session = make_session(max_payload_packets=10)
    session.attach(transport)
    assert session.receive_frames(payload(["3:::m%d" % n for n in range(10)])) is True
    assert len(messages(session.conn)) == 10
    assert not session.is_closed and stats.payloads_refused == 0


def test_a_large_payload_is_read_a_slice_per_turn(make_session, transport, scheduler, stats):
    session = make_session(payload_slice_packets=4)
    session.attach(transport)
    turns = []  # the continuations the session asks for, run by hand: one per loop turn
    scheduler.call_later = lambda delay, callback: turns.append((delay, callback))
    read = []
    assert session.receive_frames(payload(["3:::m%d" % n for n in range(10)]))
    session.when_read(lambda: read.append(True))
    assert messages(session.conn) == ["m0", "m1", "m2", "m3"] and session.reading
    assert transport.packets[-4:] == ["3:::got m%d" % n for n in range(4)]
    delay, next_slice = turns.pop()
    assert delay == 0
    next_slice()
    assert len(messages(session.conn)) == 8 and not read
    turns.pop()[1]()
    assert messages(session.conn) == ["m%d" % n for n in range(10)]
    assert read == [True] and not session.reading and not turns
    assert session.transport is not None and stats.packets_recv_total == 10


def test_payloads_received_meanwhile_wait_their_turn(make_session, transport, scheduler):
    session = make_session(payload_slice_packets=4)
    session.attach(transport)
    session.receive_frames(payload(["3:::a%d" % n for n in range(6)]))
    session.receive_frames("3:::b0")  # a lone packet, from a second POST
    assert session.receive_frame(payload(["3:::c0", "3:::c1"])) is True
    scheduler.advance(0)
    assert messages(session.conn) == ["a%d" % n for n in range(6)] + ["b0", "c0", "c1"]


def test_when_read_calls_at_once_when_nothing_waits(make_session):
    session = make_session()
    called = []
    session.when_read(lambda: called.append(1))
    assert called == [1] and not session.reading


def test_a_backlog_over_the_budget_closes_the_session(make_session, transport, scheduler, stats):
    session = make_session(max_payload_packets=10, payload_slice_packets=2)
    session.attach(transport)
    read = []
    assert session.receive_frames(payload(["3:::a%d" % n for n in range(10)]))
    session.when_read(lambda: read.append(True))
    assert session.receive_frames(payload(["3:::b%d" % n for n in range(5)])) is False
    assert session.is_closed and stats.payloads_refused == 1
    scheduler.advance(0)
    assert read == [True] and not session.reading
    assert messages(session.conn) == ["a0", "a1"]


def test_a_backlog_over_the_byte_budget_closes_the_session(make_session, transport, stats):
    session = make_session(payload_slice_packets=2, max_backlog_bytes=1000)
    session.attach(transport)
    assert session.receive_frames(payload(["3:::" + "x" * 300] * 3))
    assert not session.receive_frames(payload(["3:::" + "y" * 300] * 3))
    assert session.is_closed and stats.disconnects["flood"] == 1


def test_a_socket_frame_says_whether_it_is_still_being_read(make_session, transport, scheduler):
    session = make_session(payload_slice_packets=2)
    session.attach(transport)
    assert session.receive_frame("3:::one") is False
    assert session.receive_frame(payload(["3:::a", "3:::b"])) is False
    assert session.receive_frame(payload(["3:::c", "3:::d", "3:::e"])) is True
    scheduler.advance(0)
    assert not session.reading


# -- what the client causes is counted, and logged within limits ------------------------


def test_bad_packets_are_counted_and_their_log_is_rate_limited(make_session, transport, stats,
                                                                caplog):
    session = make_session()
    session.attach(transport)
    with caplog.at_level(logging.WARNING, logger="tornadio2.session"):
        session.receive_frames(payload(["x" * 10_000] * 50))
    assert stats.packets_dropped == 50
    lines = [r.getMessage() for r in caplog.records if "bad packet" in r.getMessage()]
    assert len(lines) == 5
    assert all(len(line) < 300 for line in lines)
    assert not session.is_closed


def test_packets_for_unknown_endpoints_are_counted_and_names_cut_short(
        make_session, transport, stats, caplog):
    session = make_session()
    session.attach(transport)
    name = "/" + "n" * 100_000
    with caplog.at_level(logging.WARNING, logger="tornadio2.session"):
        session.receive_frames(payload(["3::%s:x" % name, "1::%s" % name, "3::/a\nb:x"]))
    assert stats.packets_dropped == 3
    assert max(len(r.getMessage()) for r in caplog.records) < 300
    assert "'/a\\nb'" in caplog.text


def test_unknown_acks_and_events_are_logged_within_limits(make_session, transport, caplog):
    session = make_session()
    session.attach(transport)
    with caplog.at_level(logging.WARNING, logger="tornadio2.conn"):
        session.receive_frames(payload(["6:::%d" % n for n in range(1, 100)]))
        session.receive_frames(payload(['5:::{"name":"%s"}' % ("e" * 5000)] * 100))
    lines = [r.getMessage() for r in caplog.records if r.name == "tornadio2.conn"]
    assert len(lines) == 10
    assert max(len(line) for line in lines) < 200


# -- an endpoint still opening ----------------------------------------------------------


def _flood_opening(packets, **config):
    """Send ``packets`` to ``/slow`` while its async ``on_open`` waits; the session and its stats."""

    async def scenario():
        gate = asyncio.get_running_loop().create_future()

        class Slow(RecordingConnection):
            async def on_open(self, info):
                await gate

        class Main(RecordingConnection):
            __endpoints__ = {"/slow": Slow}

        from tests.fakes import FakeScheduler, FakeTransport
        from tornadio2.session import ConnectionInfo, Session
        from tornadio2.stats import StatsCollector
        stats = StatsCollector()
        base = SessionConfig(global_heartbeats=False, **config)
        session = Session("sid", Main, ConnectionInfo("127.0.0.1", {}, None), base,
                          FakeScheduler(), stats)
        assert await session.open()
        transport = FakeTransport()
        session.attach(transport)
        session.receive_frames("1::/slow")
        for packet in packets:
            session.receive_frames(packet)
        gate.set_result(None)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return session, stats, transport

    return asyncio.run(scenario())


def test_packets_for_an_opening_endpoint_are_bounded_in_count():
    session, stats, transport = _flood_opening(["3::/slow:m"] * 11, max_queue_length=10)
    assert session.is_closed
    assert (stats.opening_overflows, stats.disconnects["flood"]) == (1, 1)
    assert transport.packets[-1] == "0::"


def test_packets_for_an_opening_endpoint_are_bounded_in_bytes():
    session, stats, _ = _flood_opening(["3::/slow:" + "x" * 400] * 3, max_queue_bytes=1000)
    assert session.is_closed and stats.opening_overflows == 1


def test_packets_within_the_bounds_wait_for_the_endpoint():
    session, stats, transport = _flood_opening(["3::/slow:m"] * 10, max_queue_length=10)
    assert not session.is_closed and stats.opening_overflows == 0
    assert transport.packets[-10:] == ["3::/slow:got m"] * 10


# -- the outbound queue in bytes, and a socket that does not read ------------------------


def test_the_outbound_queue_is_bounded_in_bytes(make_session, stats):
    session = make_session(max_queue_bytes=1000)
    session.conn.send("x" * 600)
    assert not session.is_closed
    session.conn.send("y" * 600)
    assert session.is_closed
    assert stats.queue_overflows == 1 and stats.disconnects["queue_overflow"] == 1


def test_the_queue_bytes_count_starts_again_after_a_flush(make_session):
    session = make_session(max_queue_bytes=1000)
    poll = __import__("tests.fakes", fromlist=["FakeTransport"]).FakeTransport(oneshot=True)
    for _ in range(5):
        session.conn.send("x" * 600)
        session.attach(poll)
    assert not session.is_closed


def test_queue_bytes_count_utf8(make_session):
    session = make_session(max_queue_bytes=1000)
    session.conn.send("\u00e9" * 499)  # 998 bytes in UTF-8, plus "3:::"
    assert session.is_closed


def test_a_socket_over_its_write_limit_closes_the_session(make_session, transport, stats):
    session = make_session(websocket_write_limit=1000)
    session.attach(transport)
    session.transport_buffered(transport, 1000)
    assert not session.is_closed
    session.transport_buffered(transport, 1001)
    assert session.is_closed and transport.closed
    assert stats.write_overflows == 1 and stats.disconnects["queue_overflow"] == 1


def test_volatile_packets_are_dropped_first_while_a_socket_has_a_backlog(
        make_session, transport, stats):
    session = make_session(websocket_write_limit=1000)
    session.attach(transport)
    transport.writing = True
    session.transport_buffered(transport, 500)
    assert session.send_volatile("3:::v") is False
    assert stats.volatile_dropped == 1 and not session.is_closed


def test_a_report_from_a_transport_no_longer_attached_is_ignored(make_session, transport):
    from tests.fakes import FakeTransport
    session = make_session(websocket_write_limit=10)
    session.attach(transport)
    session.transport_buffered(FakeTransport(), 10_000)
    assert not session.is_closed


def test_an_over_budget_payload_to_a_closed_session_is_not_counted_again(make_session, stats):
    session = make_session(max_payload_packets=2)
    session.close()
    assert not session.receive_frames(payload(["8::"] * 3))
    assert stats.payloads_refused == 0 and stats.disconnects["flood"] == 0
