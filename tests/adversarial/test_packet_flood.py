"""A POST (or frame) of a great many packets: budget, slices, logs and counters.

The attack that held the event loop for seconds: a 10 MB xhr POST of tiny
packets, bad or unknown ones writing a log line each. Each test attacks a
server in its own process while another client handshakes and echoes.
"""

import pytest

from tests.adversarial.flood import (
    PROBE_DEADLINE, Attack, figures, frame, handshake, http, probe, server,
)

#: Peak RSS the server may gain from an attack, in KiB.
RSS_BOUND_KB = 80 * 1024


def _log_lines(text, *needles):
    return [line for line in text.splitlines() if all(n in line for n in needles)]


@pytest.mark.gen_test(timeout=60)
async def test_a_10_mb_post_of_tiny_packets_is_refused_unread(tmp_path):
    with server(tmp_path) as srv:
        before = await srv.status()
        sid = await handshake(srv.port)
        body = frame(["8::"] * 1_045_000).encode("utf-8")
        assert 10_000_000 < len(body) <= 10 * 1024 * 1024
        attack = Attack(srv.port)
        status, _ = await attack.run(http(srv.port, "POST", "/socket.io/1/xhr-polling/%s" % sid,
                                          body))
        assert status == 400
        assert attack.slowest < PROBE_DEADLINE, attack.latencies
        assert await probe(srv.port) < PROBE_DEADLINE
        after = await srv.status()
        figures("10 MB POST", attack, before, after)
        assert after["stats"]["payloads_refused"] == 1
        assert after["disconnects"]["flood"] == 1
        assert after["stats"]["packets_recv_total"] < 100  # none of the payload's were handled
        assert after["maxrss_kb"] - before["maxrss_kb"] < RSS_BOUND_KB
        # The client is told on its next poll.
        status, answer = await http(srv.port, "GET", "/socket.io/1/xhr-polling/%s" % sid)
        assert status == 200 and answer.endswith(b"0::")


@pytest.mark.gen_test(timeout=60)
async def test_a_large_payload_is_read_in_slices_while_others_are_served(tmp_path):
    packets = 100_000
    with server(tmp_path, max_payload_packets=packets, payload_slice_packets=500) as srv:
        before = await srv.status()
        sid = await handshake(srv.port)
        # Unknown ACK ids: each one was a WARNING line of its own.
        body = frame(["6:::%d" % (n + 1) for n in range(packets)]).encode("utf-8")
        attack = Attack(srv.port)
        answer = await attack.run(http(srv.port, "POST", "/socket.io/1/xhr-polling/%s" % sid,
                                       body))
        assert answer == (200, b"1")  # answered once every packet is handled
        assert attack.slowest < PROBE_DEADLINE, attack.latencies
        after = await srv.status()
        figures("100,000 unknown acks", attack, before, after)
        assert after["stats"]["packets_recv_total"] - before["stats"]["packets_recv_total"] \
            >= packets
        assert after["maxrss_kb"] - before["maxrss_kb"] < RSS_BOUND_KB
        assert len(_log_lines(srv.log(), "unknown ack id")) <= 5
        assert not after["disconnects"]["flood"]


@pytest.mark.gen_test(timeout=60)
async def test_bad_packets_and_long_names_are_counted_and_logged_short(tmp_path):
    with server(tmp_path) as srv:
        sid = await handshake(srv.port)
        name = "e" * 90_000
        body = frame(['5:::{"name":"%s"}' % name] * 50 + ["3::/%s:x" % name] * 50
                     + ["x\n%d" % n for n in range(5000)]).encode("utf-8")
        attack = Attack(srv.port)
        answer = await attack.run(http(srv.port, "POST", "/socket.io/1/xhr-polling/%s" % sid,
                                       body))
        assert answer == (200, b"1")
        assert attack.slowest < PROBE_DEADLINE, attack.latencies
        after = await srv.status()
        assert after["stats"]["packets_dropped"] == 50 + 5000
        log = srv.log()
        assert max(len(line) for line in log.splitlines()) < 400
        assert len(_log_lines(log, "no handler for event")) <= 5
        assert len(_log_lines(log, "unknown endpoint")) <= 5
        assert len(_log_lines(log, "bad packet")) <= 5
        assert len(log.splitlines()) < 40


@pytest.mark.gen_test(timeout=60)
async def test_a_websocket_frame_of_many_packets_is_read_in_slices(tmp_path):
    from tornado.websocket import websocket_connect

    with server(tmp_path, max_payload_packets=50_000, payload_slice_packets=200) as srv:
        sid = await handshake(srv.port)
        conn = await websocket_connect("ws://127.0.0.1:%d/socket.io/1/websocket/%s"
                                       % (srv.port, sid))
        assert await conn.read_message() == "1::"
        conn.write_message(frame(["3:::m%d" % n for n in range(20_000)]))
        conn.write_message("3:::last")
        attack = Attack(srv.port)

        async def read_all():
            seen = []
            while not seen or seen[-1] != "3:::last":
                seen.append(await conn.read_message())
            return seen

        echoes = await attack.run(read_all())
        conn.close()
        # In order, the lone packet after the payload's 20,000.
        assert echoes == ["3:::m%d" % n for n in range(20_000)] + ["3:::last"]
        assert attack.slowest < PROBE_DEADLINE, attack.latencies
