"""``StatsCollector`` under TornadIO2's names, and the stats page with both key sets."""

import json

import pytest

from tornadio2 import SocketConnection, event
from tornadio2.stats import MovingAverage, StatsCollector

CURRENT_KEYS = {
    "sessions_active", "sessions_max", "sessions_total",
    "connections_active", "connections_max", "connections_total", "connections_ps",
    "packets_sent_total", "packets_recv_total", "packets_sent_ps", "packets_recv_ps",
    "volatile_dropped",
    "packets_dropped", "payloads_refused", "opening_overflows", "queue_overflows", "write_overflows",
    "broker_connected", "broker_dropped",
}
ORIGINAL_KEYS = {
    "active_sessions", "max_sessions", "active_connections", "max_connections",
    "connections_ps", "packets_sent_ps", "packets_recv_ps",
}


def test_original_counter_attributes_follow_sessions_and_connections():
    stats = StatsCollector()
    stats.session_opened()
    stats.session_opened()
    stats.session_closed()
    stats.connection_opened()
    assert (stats.active_sessions, stats.max_sessions) == (1, 2)
    assert (stats.active_connections, stats.max_connections) == (1, 1)
    assert (stats.sessions_active, stats.sessions_max) == (1, 2)


def test_original_packet_methods_feed_the_per_second_averages():
    stats = StatsCollector()
    stats.on_packet_sent(6)
    stats.on_packet_recv(2)
    stats.connection_opened()
    stats.tick()
    assert isinstance(stats.packets_sent_ps, MovingAverage)
    assert stats.packets_sent_ps.last_average == 6
    assert stats.packets_recv_ps.last_average == 2
    assert stats.connections_ps.last_average == 1
    assert stats.packets_sent_total == 6


def test_original_dump_keys_are_there_with_the_current_ones():
    stats = StatsCollector()
    stats.session_opened()
    dump = stats.dump()
    assert set(dump) == CURRENT_KEYS | ORIGINAL_KEYS
    assert dump["active_sessions"] == dump["sessions_active"] == 1
    assert dump["max_sessions"] == dump["sessions_max"] == 1


def test_moving_average_adds_into_the_current_second_until_flush():
    average = MovingAverage(period=2)
    average.add(3)
    average.add(1)
    assert average.last_average == 0
    average.flush()
    assert average.last_average == 4
    average.add(2)
    average.flush()
    average.flush()
    assert average.last_average == 1  # (2 + 0) / 2: the 4 left the window


def test_start_ticks_on_the_loop_until_stopped(io_loop):
    stats = StatsCollector()
    stats.start(io_loop)
    timer = stats.periodic_callback
    assert timer is not None and timer.is_running
    stats.start(io_loop)  # a second start does nothing
    assert stats.periodic_callback is timer
    stats.stop()
    assert stats.periodic_callback is None and not timer.is_running


class PingConnection(SocketConnection):
    @event
    def ping(self, client):
        return client


@pytest.fixture
def connection():
    return PingConnection


@pytest.mark.gen_test
async def test_stats_page_serves_current_and_original_keys(wire, http_client, base_url):
    conn = await wire.ws_session()
    conn.write_message('5:1+::{"name":"ping","args":["a"]}')
    response = await http_client.fetch(base_url + "/stats")
    stats = json.loads(response.body)
    assert CURRENT_KEYS | ORIGINAL_KEYS <= set(stats)
    assert stats["active_sessions"] == stats["sessions_active"] == 1
    assert stats["active_connections"] == stats["connections_active"] >= 1
    assert stats["max_connections"] == stats["connections_max"] >= 1
