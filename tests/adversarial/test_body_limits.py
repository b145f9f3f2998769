"""Request bodies over ``max_message_size``, on every URL that can receive one.

Before the fix only the polling POST applied the limit: the handshake, the
disconnect URL, the catch-all handler and the websocket GET read 90 MB
bodies in full. Now every handler is answered ``413`` as soon as a declared
``Content-Length`` is over the limit, before any of the body is read, and a
chunked body is cut off (its connection closed) when it passes the limit.
"""

import asyncio
import time
import tracemalloc

import pytest

from tests.adversarial.attack import closed_by_server, live_server, normal_handshake, open_raw, read_response, request

LIMIT = 64 * 1024
HUGE = 90 * 1024 * 1024

URLS = [
    "/socket.io/1/",                                # the handshake
    "/socket.io/1/xhr-polling/",                    # a handshake on a transport URL
    "/socket.io/1//SID/?disconnect",                # the client's goodbye
    "/socket.io/2/",                                # the catch-all (other versions)
    "/socket.io/whatever/else",                     # the catch-all
    "/socket.io/1/websocket/SID",                   # the websocket GET
    "/socket.io/1/flashsocket/SID",                 # the flashsocket GET
    "/socket.io/1/xhr-polling/SID",                 # a polling POST
    "/socket.io/1/jsonp-polling/SID?i=0",           # a polling POST
    "/socket.io/socket.io.js",                      # the browser client (none served here)
]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.gen_test(timeout=10)
async def test_declared_bodies_over_the_limit_get_413_before_being_read(method):
    async with live_server({"max_message_size": LIMIT}) as server:
        for url in URLS:
            reader, writer = await open_raw(server.port)
            writer.write(("%s %s HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
                          % (method, url, HUGE)).encode())
            started = time.monotonic()
            status, _, body = await read_response(reader)
            assert (status, body) == (413, b"Request body too large"), url
            # Closed after the answer: the 90 MB are never read.
            assert await closed_by_server(reader, 1.0), url
            assert time.monotonic() - started < 1.0
            writer.close()
        assert await normal_handshake(server.port) < 1.0


@pytest.mark.gen_test(timeout=10)
async def test_client_files_take_no_body(tmp_path):
    (tmp_path / "socket.io.js").write_text("var io = {};")
    async with live_server({"client_path": str(tmp_path)}) as server:
        status, _, body = await request(
            server.port, b"GET /socket.io/socket.io.js HTTP/1.1\r\nHost: t\r\n\r\n")
        assert (status, body) == (200, b"var io = {};")
        status, _, body = await request(server.port, (
            b"GET /socket.io/socket.io.js HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
            % HUGE))
        assert (status, body) == (413, b"Request body too large")


@pytest.mark.gen_test(timeout=10)
async def test_a_body_under_the_limit_is_still_served():
    async with live_server({"max_message_size": LIMIT}) as server:
        body = b"x" * (LIMIT - 1)
        status, _, answer = await request(server.port, (
            b"POST /socket.io/1/ HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body))
            + body)
        assert status == 200 and answer.count(b":") == 3


@pytest.mark.parametrize("url", ["/socket.io/1/", "/socket.io/1/websocket/SID",
                                 "/socket.io/1/xhr-polling/SID", "/socket.io/2/"])
@pytest.mark.gen_test(timeout=10)
async def test_chunked_bodies_are_cut_off_at_the_limit_without_buffering(url):
    async with live_server({"max_message_size": LIMIT}) as server:
        reader, writer = await open_raw(server.port)
        writer.write(("POST %s HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                      % url).encode())
        chunk = b"%x\r\n%s\r\n" % (16384, b"y" * 16384)
        tracemalloc.start()
        try:
            sent = 0
            with pytest.raises(ConnectionError):
                while sent < 8 * 1024 * 1024:  # bounded: the server must cut us off long before
                    writer.write(chunk)
                    await writer.drain()
                    sent += 16384
                    if reader.at_eof():
                        raise ConnectionResetError("closed by the server")
                    await asyncio.sleep(0)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            writer.close()
        assert sent <= LIMIT + 4 * 1024 * 1024, sent  # socket buffers hold some after the cut
        assert peak < 2 * 1024 * 1024, peak
        assert await normal_handshake(server.port) < 1.0
