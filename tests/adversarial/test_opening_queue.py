"""Packets for an endpoint whose async ``on_open`` never finishes.

They wait for the endpoint, so a client that keeps sending to it filled
memory without bound (four 9 MB POSTs took a server from 30 to 357 MB).
The queue is bounded by ``max_queue_length`` and ``max_queue_bytes``; past
either, the session is closed and counted.
"""

import pytest

from tests.adversarial.flood import (
    PROBE_DEADLINE, Attack, figures, frame, handshake, http, probe, server,
)

#: RSS the server may gain from the attack, in KiB: one 5 MB POST in flight costs
#: some 20 MB (its bytes, its text, its packets); kept, eight of them cost over 60 MB.
RSS_BOUND_KB = 35 * 1024


@pytest.mark.gen_test(timeout=60)
async def test_posts_to_an_opening_endpoint_close_the_session_at_the_byte_bound(tmp_path):
    with server(tmp_path, max_queue_bytes=1024 * 1024) as srv:
        before = await srv.status()
        sid = await handshake(srv.port)
        url = "/socket.io/1/xhr-polling/%s" % sid
        assert await http(srv.port, "POST", url, b"1::/slow") == (200, b"1")

        async def flood():
            answers = []
            for _ in range(8):
                body = frame(["3::/slow:" + "x" * 1000] * 5000).encode("utf-8")
                answers.append(await http(srv.port, "POST", url, body))
            return answers

        attack = Attack(srv.port)
        answers = await attack.run(flood())
        assert attack.slowest < PROBE_DEADLINE, attack.latencies
        assert await probe(srv.port) < PROBE_DEADLINE
        after = await srv.status()
        figures("8 x 5 MB to an opening endpoint", attack, before, after)
        assert after["stats"]["opening_overflows"] == 1
        assert after["disconnects"]["flood"] == 1
        assert after["maxrss_kb"] - before["maxrss_kb"] < RSS_BOUND_KB
        assert after["rss_kb"] - before["rss_kb"] < RSS_BOUND_KB
        # The first POST closed the session; the others found none to feed.
        assert answers[0] == (200, b"1")
        status, body = await http(srv.port, "GET", url)
        assert status == 200 and (body.endswith(b"0::") or body.startswith(b"7:::1+0"))


@pytest.mark.gen_test(timeout=60)
async def test_many_small_packets_to_an_opening_endpoint_close_the_session_at_the_count(tmp_path):
    with server(tmp_path, max_queue_length=1000) as srv:
        sid = await handshake(srv.port)
        url = "/socket.io/1/xhr-polling/%s" % sid
        await http(srv.port, "POST", url, b"1::/slow")
        assert await http(srv.port, "POST", url, frame(["3::/slow:m"] * 1000).encode()) \
            == (200, b"1")
        assert (await srv.status())["stats"]["opening_overflows"] == 0
        assert await http(srv.port, "POST", url, b"3::/slow:one too many") == (200, b"1")
        after = await srv.status()
        assert after["stats"]["opening_overflows"] == 1
        assert after["disconnects"]["flood"] == 1
        status, body = await http(srv.port, "GET", url)
        assert status == 200 and body.endswith(b"0::")
