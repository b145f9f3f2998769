"""MovingAverage and StatsCollector, driven by hand (no clock)."""

import pytest

from tests.fakes import FakeTransport, RecordingConnection
from tornadio2.stats import MovingAverage, StatsCollector, utf8_length

DUMP_KEYS = {
    "sessions_active", "sessions_max", "sessions_total",
    "connections_active", "connections_max", "connections_total", "connections_ps",
    "packets_sent_total", "packets_recv_total", "packets_sent_ps", "packets_recv_ps",
    "volatile_dropped",
    "packets_dropped", "payloads_refused", "opening_overflows", "queue_overflows", "write_overflows",
    "broker_connected", "broker_dropped",
    # TornadIO2's names
    "active_sessions", "max_sessions", "active_connections", "max_connections",
}


def sample(average, value):
    """Add one one-second sample: accumulate it, then close the interval."""
    average.add(value)
    average.flush()


def test_moving_average_is_zero_before_any_sample():
    assert MovingAverage(3).value == 0
    assert MovingAverage(3).last_average == 0


def test_moving_average_is_mean_of_partial_window():
    average = MovingAverage(3)
    sample(average, 4)
    assert average.value == 4
    sample(average, 2)
    assert average.value == 3


def test_moving_average_add_accumulates_until_flush():
    average = MovingAverage(3)
    average.add(1)
    average.add(2)
    assert average.last_average == 0
    average.flush()
    assert average.last_average == 3
    average.flush()  # a quiet interval is a zero sample
    assert average.last_average == pytest.approx(1.5)


def test_moving_average_forgets_samples_outside_window():
    average = MovingAverage(3)
    for value in (1, 2, 3):
        sample(average, value)
    assert average.value == 2
    sample(average, 10)
    assert average.value == 5  # (2 + 3 + 10) / 3
    sample(average, 0)
    sample(average, 0)
    assert average.value == pytest.approx(10 / 3)
    sample(average, 0)
    assert average.value == 0


def test_moving_average_window_of_one_is_last_sample():
    average = MovingAverage(1)
    for value in (7, 3, 9):
        sample(average, value)
        assert average.value == value


def test_moving_average_stays_accurate_over_many_fractional_samples():
    average = MovingAverage(10)
    for _ in range(100000):
        sample(average, 0.1)
    assert average.value == pytest.approx(0.1)
    for _ in range(10):
        sample(average, 0)
    assert average.value == pytest.approx(0, abs=1e-9)


def test_new_collector_dumps_zeros_under_every_key():
    dump = StatsCollector().dump()
    assert set(dump) == DUMP_KEYS
    assert dump.pop("broker_connected") == 1  # the in-process broker is always there
    assert all(value == 0 for value in dump.values())


def test_session_counters_track_active_total_and_max():
    stats = StatsCollector()
    for _ in range(3):
        stats.session_opened()
    stats.session_closed()
    stats.session_closed()
    stats.session_opened()

    dump = stats.dump()
    assert dump["sessions_active"] == 2
    assert dump["sessions_total"] == 4
    assert dump["sessions_max"] == 3


def test_connection_counters_track_active_total_and_max():
    stats = StatsCollector()
    stats.connection_opened()
    stats.connection_opened()
    stats.connection_closed()
    stats.connection_opened()
    stats.connection_opened()
    stats.connection_closed()
    stats.connection_closed()

    dump = stats.dump()
    assert dump["connections_active"] == 1
    assert dump["connections_total"] == 4
    assert dump["connections_max"] == 3


def test_packet_counters_add_counts():
    stats = StatsCollector()
    stats.packets_sent_total += 1
    stats.packets_sent_total += 5
    stats.packets_recv_total += 3
    stats.packets_recv_total += 1

    dump = stats.dump()
    assert dump["packets_sent_total"] == 6
    assert dump["packets_recv_total"] == 4


def test_rates_are_zero_until_the_first_tick():
    stats = StatsCollector()
    stats.connection_opened()
    stats.packets_sent_total += 10
    stats.packets_recv_total += 4
    dump = stats.dump()
    assert (dump["connections_ps"], dump["packets_sent_ps"], dump["packets_recv_ps"]) == (0, 0, 0)


def test_tick_turns_counts_since_last_tick_into_rates():
    stats = StatsCollector(period=4)
    for _ in range(4):
        stats.connection_opened()
    stats.packets_sent_total += 8
    stats.packets_recv_total += 2
    stats.tick()

    dump = stats.dump()
    assert dump["connections_ps"] == 4
    assert dump["packets_sent_ps"] == 8
    assert dump["packets_recv_ps"] == 2

    stats.tick()  # a quiet second halves the average over two samples
    dump = stats.dump()
    assert dump["connections_ps"] == 2
    assert dump["packets_sent_ps"] == 4
    assert dump["packets_recv_ps"] == 1


def test_rates_average_over_the_window_only():
    stats = StatsCollector(period=2)
    stats.packets_sent_total += 100
    stats.tick()
    stats.packets_sent_total += 10
    stats.tick()
    assert stats.dump()["packets_sent_ps"] == 55
    stats.packets_sent_total += 20
    stats.tick()
    assert stats.dump()["packets_sent_ps"] == 15  # the 100 fell out of the window


def test_closing_connections_does_not_make_rates_negative():
    stats = StatsCollector()
    stats.connection_opened()
    stats.tick()
    stats.connection_closed()
    stats.tick()
    assert stats.dump()["connections_ps"] == pytest.approx(0.5)
    assert stats.dump()["connections_active"] == 0


# -- counters by transport and by reason (what tornadio2.metrics exports) ------------


def test_dump_keeps_its_keys_beside_the_new_counters():
    stats = StatsCollector()
    stats.handshake_refused("origin")
    stats.traffic_for("websocket").packets_out += 2
    assert set(stats.dump()) == DUMP_KEYS
    assert stats.dump()["packets_sent_total"] == 2


def test_packet_totals_add_up_every_transport_and_the_original_methods():
    stats = StatsCollector()
    stats.traffic_for("websocket").packets_in += 2
    stats.traffic_for("xhr-polling").packets_in += 3
    stats.on_packet_recv(4)
    stats.packets_recv_total += 1  # what TornadIO2-era code may write
    assert stats.packets_recv_total == 10
    assert stats.traffic_for("websocket").packets_in == 2


def test_a_session_counts_its_packets_under_the_transport_it_attached(make_session, stats):
    session = make_session()
    assert stats.traffic_for("none").sessions_active == 1
    session.attach(FakeTransport(name="websocket"))
    session.receive_frame("3:::a")
    assert stats.traffic_for("none").sessions_active == 0
    websocket = stats.traffic_for("websocket")
    assert (websocket.sessions_active, websocket.packets_in, websocket.packets_out) == (1, 1, 2)
    session.close()
    assert websocket.sessions_active == 0
    assert stats.disconnects["server"] == 1


def test_a_client_disconnect_packet_counts_as_client(make_session, stats, transport):
    session = make_session()
    session.attach(transport)
    session.receive_frame("0::")
    assert stats.disconnects["client"] == 1
    assert sum(stats.disconnects.values()) == 1


def test_missed_heartbeats_count_as_heartbeat_timeout(make_session, stats, scheduler):
    session = make_session(heartbeat_interval=1, heartbeat_timeout=2)
    session.attach(FakeTransport())
    scheduler.advance(3)
    assert session.is_closed
    assert stats.disconnects["heartbeat_timeout"] == 1


def test_a_handler_exception_counts_as_error(make_session, stats, transport, caplog):
    class Failing(RecordingConnection):
        def on_message(self, message):
            raise RuntimeError("boom")

    session = make_session(Failing)
    session.attach(transport)
    session.receive_frame("3:::x")
    assert session.is_closed
    assert stats.disconnects["error"] == 1


def test_a_queue_overflow_is_counted_with_its_disconnect(make_session, stats):
    session = make_session(max_queue_length=3)
    for n in range(4):  # 1:: is queued already
        session.send_packet("3:::%d" % n)
    assert session.is_closed
    assert (stats.queue_overflows, stats.disconnects["queue_overflow"]) == (1, 1)


def test_an_application_refusal_counts_a_refused_disconnect():
    stats = StatsCollector()
    stats.handshake_refused("unauthorized")
    stats.handshake_refused("origin")
    assert stats.handshake_refusals == {"unauthorized": 1, "origin": 1, "error": 0,
                                        "capacity": 0, "rate": 0}
    assert stats.disconnects["refused"] == 1


def test_connections_count_by_transport():
    stats = StatsCollector()
    stats.connection_opened("xhr-polling")
    stats.connection_opened()
    stats.connection_closed("xhr-polling")
    assert (stats.traffic["xhr-polling"].connections_active,
            stats.traffic["xhr-polling"].connections_total) == (0, 1)
    assert stats.traffic["other"].connections_active == 1
    assert (stats.active_connections, stats.connections_total) == (1, 2)


def test_pending_acks_of_a_session_add_up_its_connections(make_session, transport):
    session = make_session()
    session.attach(transport)
    session.conn.emit_ack(lambda message, args: None, "question")
    session.conn.send("x", callback=lambda message, args: None)
    assert session.pending_acks == 2
    session.receive_frame("6:::1")
    assert session.pending_acks == 1
    session.close()
    assert session.pending_acks == 0


@pytest.mark.parametrize("text, length", [
    ("3:::hi", 6), ("3:::h\u00e9", 7), ("3:::\U0001f600", 8), ("\ud800", 3),
])
def test_utf8_length_counts_bytes_not_characters(text, length):
    assert utf8_length(text) == length
