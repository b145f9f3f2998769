"""MovingAverage and StatsCollector, driven by hand (no clock)."""

import pytest

from tornadio2.stats import MovingAverage, StatsCollector

DUMP_KEYS = {
    "sessions_active", "sessions_max", "sessions_total",
    "connections_active", "connections_max", "connections_total", "connections_ps",
    "packets_sent_total", "packets_recv_total", "packets_sent_ps", "packets_recv_ps",
    "volatile_dropped",
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
