"""The Flash socket policy server on a free loopback port.

Flash sends ``<policy-file-request/>\\0`` and wants the policy XML back
(wire-notes#flash-policy); tornadio2 answers only that request and
appends a NUL, as TornadIO2 did. Anything else is closed unanswered.
"""

import asyncio
import time

import pytest

from tornadio2.flashserver import FlashPolicyServer

try:
    from .wire import unused_port
except ImportError:
    from wire import unused_port

REQUEST = b"<policy-file-request/>\0"
ALLOW_ALL = (
    b'<?xml version="1.0"?><!DOCTYPE cross-domain-policy SYSTEM '
    b'"http://www.macromedia.com/xml/dtds/cross-domain-policy.dtd">'
    b'<cross-domain-policy><allow-access-from domain="*" to-ports="*"/>'
    b"</cross-domain-policy>"
)


@pytest.fixture
def policy_server(io_loop):
    """``policy_server(policy_file=None, timeout=5)`` starts a server on a free port."""
    servers = []

    def start(policy_file=None, timeout=5.0):
        server = FlashPolicyServer(unused_port(), policy_file, address="127.0.0.1",
                                   timeout=timeout)
        server.start_listening()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


async def exchange(port: int, *writes: bytes, timeout: float = 3.0) -> bytes:
    """Connect, send ``writes`` (one TCP write each), return all bytes until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for data in writes:
            writer.write(data)
            await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass


@pytest.mark.gen_test
async def test_policy_request_gets_allow_all_policy_with_trailing_nul(policy_server):
    server = policy_server()
    assert await exchange(server.port, REQUEST) == ALLOW_ALL + b"\0"


@pytest.mark.gen_test
async def test_custom_policy_file_is_served_verbatim(policy_server, tmp_path):
    policy = (b'<?xml version="1.0"?><cross-domain-policy>'
              b'<allow-access-from domain="example.com" to-ports="8001"/></cross-domain-policy>\n')
    path = tmp_path / "policy.xml"
    path.write_bytes(policy)
    server = policy_server(str(path))
    assert await exchange(server.port, REQUEST) == policy + b"\0"


@pytest.mark.gen_test
async def test_request_split_across_writes_is_answered(policy_server):
    server = policy_server()
    assert await exchange(server.port, REQUEST[:7], REQUEST[7:]) == ALLOW_ALL + b"\0"


@pytest.mark.gen_test
async def test_fifty_concurrent_requests_are_all_answered(policy_server):
    server = policy_server()
    answers = await asyncio.gather(*[exchange(server.port, REQUEST) for _ in range(50)])
    assert answers == [ALLOW_ALL + b"\0"] * 50


@pytest.mark.parametrize("garbage", [
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",   # longer than a request, no NUL
    b"<policy-file-request />\0",                    # wrong request, NUL-terminated
    b"\0",
], ids=["http", "near-miss", "nul"])
@pytest.mark.gen_test
async def test_garbage_request_is_closed_without_answer(policy_server, garbage):
    server = policy_server(timeout=30)
    started = time.monotonic()
    assert await exchange(server.port, garbage) == b""
    assert time.monotonic() - started < 2, "closed by the timeout, not by the garbage"


@pytest.mark.gen_test
async def test_silent_client_is_closed_after_timeout(policy_server):
    server = policy_server(timeout=0.3)
    started = time.monotonic()
    assert await exchange(server.port, timeout=3) == b""
    assert 0.25 <= time.monotonic() - started < 2


@pytest.mark.gen_test
async def test_stopped_server_refuses_connections(policy_server):
    server = policy_server()
    assert await exchange(server.port, REQUEST) == ALLOW_ALL + b"\0"
    server.stop()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", server.port)
