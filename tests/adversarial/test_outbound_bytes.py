"""What waits for a client that does not take it: the queue in bytes, a socket's write buffer.

Echoes of large messages for a polling client that never polls again held
238 MB; echoes to a websocket client that never reads reached 333 MB. The
queue is bounded in bytes (``max_queue_bytes``) as well as packets, and a
socket's (or an htmlfile stream's) unwritten bytes by
``websocket_write_limit``; past either, the session is closed and counted.
"""

import asyncio
import time

import pytest

from tests.adversarial.flood import (
    PROBE_DEADLINE, Attack, figures, handshake, http, probe, raw_htmlfile, raw_websocket, server,
    ws_frame,
)

MB = 1024 * 1024
#: Peak RSS the server may gain from an attack, in KiB (each sends 40-50 MB of echoes).
RSS_BOUND_KB = 25 * 1024


async def _until(condition, srv, timeout=10.0):
    """The server's status once ``condition(status)`` holds (polled, at most ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while True:
        status = await srv.status()
        if condition(status) or time.monotonic() > deadline:
            return status
        await asyncio.sleep(0.05)


async def _read_until_closed(reader, timeout=10.0):
    """Bytes read until the server ends the connection (within ``timeout`` s in all)."""
    received = 0
    deadline = time.monotonic() + timeout
    while True:
        try:
            chunk = await asyncio.wait_for(reader.read(1 << 20), deadline - time.monotonic())
        except ConnectionResetError:
            break  # the lean engine drops a socket that holds more than the limit
        if not chunk:
            break
        received += len(chunk)
    return received


@pytest.mark.gen_test(timeout=60)
async def test_echoes_for_a_client_that_stopped_polling_are_bounded_in_bytes(tmp_path):
    with server(tmp_path, max_queue_bytes=4 * MB) as srv:
        before = await srv.status()
        sid = await handshake(srv.port)
        url = "/socket.io/1/xhr-polling/%s" % sid
        assert await http(srv.port, "GET", url) == (200, b"1::")  # then it never polls again

        async def flood():
            return [await http(srv.port, "POST", url, b"3:::" + b"x" * MB) for _ in range(40)]

        attack = Attack(srv.port)
        await attack.run(flood())
        assert attack.slowest < PROBE_DEADLINE, attack.latencies
        assert await probe(srv.port) < PROBE_DEADLINE
        after = await srv.status()
        figures("40 x 1 MB echoes, no poll", attack, before, after)
        assert after["stats"]["queue_overflows"] == 1
        assert after["disconnects"]["queue_overflow"] == 1
        assert after["maxrss_kb"] - before["maxrss_kb"] < RSS_BOUND_KB
        status, body = await http(srv.port, "GET", url)
        assert status == 200 and body.endswith(b"0::")


@pytest.mark.parametrize("engine", ["lean", "tornado"])
@pytest.mark.gen_test(timeout=60)
async def test_a_websocket_that_never_reads_is_closed_at_its_write_limit(tmp_path, engine):
    with server(tmp_path, websocket_write_limit=2 * MB, websocket_engine=engine) as srv:
        before = await srv.status()
        sid = await handshake(srv.port)
        reader, writer = await raw_websocket(srv.port, sid)

        async def flood():
            try:
                for _ in range(50):
                    writer.write(ws_frame("3:::" + "x" * MB))
                    await writer.drain()
            except ConnectionError:
                pass  # the server closed the socket of a client that does not read
            return await _until(lambda s: s["stats"]["write_overflows"], srv)

        attack = Attack(srv.port)
        after = await attack.run(flood())
        assert attack.slowest < PROBE_DEADLINE, attack.latencies
        figures("50 x 1 MB echoes, socket not read", attack, before, after)
        assert after["stats"]["write_overflows"] == 1
        assert after["disconnects"]["queue_overflow"] == 1
        assert after["maxrss_kb"] - before["maxrss_kb"] < RSS_BOUND_KB
        # The server closes the socket: what it wrote, then the end (bounded in time).
        assert await _read_until_closed(reader) < 50 * MB
        writer.close()
        assert await probe(srv.port) < PROBE_DEADLINE
        final = await _until(lambda s: s["rss_kb"] - before["rss_kb"] < RSS_BOUND_KB, srv)
        assert final["rss_kb"] - before["rss_kb"] < RSS_BOUND_KB


@pytest.mark.gen_test(timeout=60)
async def test_an_htmlfile_stream_that_is_never_read_is_closed_at_the_write_limit(tmp_path):
    with server(tmp_path, websocket_write_limit=2 * MB) as srv:
        before = await srv.status()
        sid = await handshake(srv.port)
        reader, writer = await raw_htmlfile(srv.port, sid)
        url = "/socket.io/1/htmlfile/%s" % sid

        async def flood():
            for _ in range(40):  # each echo is written to the stream nobody reads
                status, _ = await http(srv.port, "POST", url, b"3:::" + b"x" * MB)
                if status != 200:
                    break
            return await _until(lambda s: s["stats"]["write_overflows"], srv)

        attack = Attack(srv.port)
        after = await attack.run(flood())
        assert attack.slowest < PROBE_DEADLINE, attack.latencies
        figures("40 x 1 MB echoes, htmlfile not read", attack, before, after)
        assert after["stats"]["write_overflows"] == 1
        assert after["disconnects"]["queue_overflow"] == 1
        assert after["maxrss_kb"] - before["maxrss_kb"] < RSS_BOUND_KB
        # The server ends the stream: what it had buffered, then the end.
        assert await _read_until_closed(reader) < 10 * MB
        writer.close()
        assert await probe(srv.port) < PROBE_DEADLINE
