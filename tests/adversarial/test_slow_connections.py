"""Slow clients: half-sent headers, trickled bodies, idle keep-alive connections.

Before the fix a connection that sent half a request line could hold its
descriptor for an hour and one that sent half a body forever. Now every
state a connection waits in has a time limit (``idle_connection_timeout``,
``body_timeout``, given small values here), after which the server closes
it, and the server answers a normal client at once meanwhile.
"""

import asyncio
import time

import pytest
import tornado.web

from tests.adversarial.attack import (
    close_all, closed_by_server, live_server, normal_handshake, open_descriptors, open_raw,
    read_response,
)
from tornadio2 import SocketConnection, SocketServer, TornadioRouter
from tornadio2.server import BODY_TIMEOUT, IDLE_CONNECTION_TIMEOUT, GuardedHTTPServer, server_limits

#: The limits the tests use, small so that each test takes a few seconds.
TIMEOUT = 0.5
#: Attackers of each kind.
ATTACKERS = 40

HALF_HEADERS = b"GET /socket.io/1/ HTTP/1.1\r\nHost: t\r\nX-Slow: "
HALF_UPGRADE = (b"GET /socket.io/1/websocket/x HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n")
SLOW_BODY = (b"POST /socket.io/1/xhr-polling/x HTTP/1.1\r\nHost: t\r\n"
             b"Content-Length: 1000\r\n\r\n" + b"x" * 10)
KEEP_ALIVE = b"GET /socket.io/1/ HTTP/1.1\r\nHost: t\r\n\r\n"


@pytest.mark.gen_test(timeout=10)
async def test_slow_and_idle_connections_are_closed_and_others_served():
    baseline = open_descriptors()
    async with live_server(idle_connection_timeout=TIMEOUT, body_timeout=TIMEOUT) as server:
        writers, readers = [], []
        for attack in (HALF_HEADERS, HALF_UPGRADE, SLOW_BODY, KEEP_ALIVE):
            for _ in range(ATTACKERS):
                reader, writer = await open_raw(server.port)
                writer.write(attack)
                readers.append((attack, reader))
                writers.append(writer)
        # The keep-alive attackers got their answer and now sit idle.
        for attack, reader in readers:
            if attack is KEEP_ALIVE:
                assert (await read_response(reader))[0] == 200
        started = time.monotonic()
        assert await normal_handshake(server.port) < 1.0
        closed = await asyncio.gather(*(closed_by_server(reader, 3 * TIMEOUT + 1)
                                        for _, reader in readers))
        assert all(closed), "%d of %d connections still open" % (
            closed.count(False), len(closed))
        # Each one within its limit (and scheduling slack), not at some later sweep.
        assert time.monotonic() - started < 2 * TIMEOUT + 1
        close_all(writers)
        assert await normal_handshake(server.port) < 1.0
    await asyncio.sleep(0)
    assert open_descriptors() <= baseline + 2


def test_socketserver_and_guarded_server_apply_the_default_limits():
    app = tornado.web.Application(
        TornadioRouter(SocketConnection, {"client_path": None}).urls,
        socket_io_port=0, socket_io_address="127.0.0.1")
    for server in (SocketServer(app, auto_start=False), GuardedHTTPServer(app)):
        try:
            assert server.conn_params.header_timeout == IDLE_CONNECTION_TIMEOUT == 65
            assert server.conn_params.body_timeout == BODY_TIMEOUT == 60
        finally:
            server.stop()
    explicit = GuardedHTTPServer(app, idle_connection_timeout=5, body_timeout=7)
    assert (explicit.conn_params.header_timeout, explicit.conn_params.body_timeout) == (5, 7)
    assert server_limits() == {"idle_connection_timeout": 65, "body_timeout": 60}
