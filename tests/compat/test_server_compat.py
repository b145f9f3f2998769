"""``SocketServer`` and ``FlashPolicyServer`` called as TornadIO2 called them."""

import asyncio
import logging
import os
import socket

import pytest
import tornado.web
from tornado.ioloop import IOLoop

from tornadio2 import SocketConnection, SocketServer, TornadioRouter
from tornadio2.flashserver import FlashPolicyServer

try:
    from tests.integration.wire import unused_port
except ImportError:  # pragma: no cover
    from wire import unused_port  # type: ignore[no-redef]

POLICY = b'<cross-domain-policy><allow-access-from domain="*" to-ports="*"/></cross-domain-policy>'
HANDSHAKE_TAIL = b":17:25:websocket,flashsocket,xhr-polling,jsonp-polling,htmlfile"


@pytest.fixture
def policy_file(tmp_path):
    path = tmp_path / "flashpolicy.xml"
    path.write_bytes(POLICY)
    return str(path)


@pytest.fixture
def servers(io_loop):
    """Servers a test started, stopped afterwards."""
    started = []
    yield started
    for server in started:
        server.stop()
        if isinstance(server, SocketServer):
            io_loop.run_sync(server.close_all_connections)


def application(**settings):
    router = TornadioRouter(SocketConnection)
    settings.setdefault("socket_io_port", unused_port())
    settings.setdefault("socket_io_address", "127.0.0.1")
    return tornado.web.Application(router.urls, **settings)


async def exchange(port, data):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
        await writer.wait_closed()


async def handshake(port):
    return await exchange(port, b"GET /socket.io/1/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")


def open_fds():
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.gen_test
async def test_positional_arguments_in_tornadio2_order(servers):
    app = application()
    # application, no_keep_alive, io_loop, xheaders, ssl_options, auto_start
    server = SocketServer(app, True, IOLoop.current(), True, None, False)
    servers.append(server)
    assert server.conn_params.no_keep_alive is True
    assert server.xheaders is True
    assert (await handshake(server.port)).endswith(HANDSHAKE_TAIL)


@pytest.mark.gen_test
async def test_flash_policy_port_taken_is_logged_and_http_goes_on(servers, policy_file, caplog):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    try:
        taken = blocker.getsockname()[1]
        app = application(flash_policy_port=taken, flash_policy_file=policy_file)
        with caplog.at_level(logging.ERROR, logger="tornadio2.server"):
            server = SocketServer(app, auto_start=False)
        servers.append(server)
        assert server.flash_policy_server is None
        errors = [r for r in caplog.records if r.name == "tornadio2.server"]
        assert len(errors) == 1 and errors[0].levelno == logging.ERROR
        assert (await handshake(server.port)).endswith(HANDSHAKE_TAIL)
    finally:
        blocker.close()


@pytest.mark.gen_test
async def test_flash_policy_server_on_port_843_as_in_the_examples(servers, policy_file, caplog):
    app = application(flash_policy_port=843, flash_policy_file=policy_file)
    with caplog.at_level(logging.ERROR, logger="tornadio2.server"):
        server = SocketServer(app, auto_start=False)
    servers.append(server)
    if server.flash_policy_server is not None:  # allowed to bind 843 (root)
        assert await exchange(843, b"<policy-file-request/>\0") == POLICY + b"\0"
    else:
        assert [r.name for r in caplog.records] == ["tornadio2.server"]
    assert (await handshake(server.port)).endswith(HANDSHAKE_TAIL)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open descriptors in /proc")
def test_flash_policy_server_that_cannot_bind_leaves_no_socket_open(io_loop):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    try:
        before = open_fds()
        with pytest.raises(OSError):
            FlashPolicyServer(port=blocker.getsockname()[1], address="127.0.0.1")
        assert open_fds() == before
    finally:
        blocker.close()


@pytest.mark.gen_test
async def test_flash_policy_server_listens_from_its_constructor(servers, policy_file):
    port = unused_port()
    server = FlashPolicyServer(IOLoop.current(), port, policy_file)
    servers.append(server)
    assert (server.port, server.policy_file) == (port, policy_file)
    assert await exchange(port, b"<policy-file-request/>\0") == POLICY + b"\0"


@pytest.mark.gen_test
async def test_flash_policy_server_keywords_as_in_tornadio2(servers, policy_file):
    port = unused_port()
    server = FlashPolicyServer(io_loop=IOLoop.current(), port=port, policy_file=policy_file)
    servers.append(server)
    assert await exchange(port, b"<policy-file-request/>\0") == POLICY + b"\0"
