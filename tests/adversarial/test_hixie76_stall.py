"""hixie-76 (flashsocket) upgrades that never finish their handshake.

A hixie-76 client sends 8 key bytes after its headers. Before the fix an
upgrade that never sent them, or whose header keys could not be read, held
its connection forever. Now the key bytes must arrive within
``upgrade_timeout`` and unreadable keys close the connection at once.
"""

import asyncio
import time

import pytest

from tests.adversarial.attack import (
    close_all, closed_by_server, live_server, normal_handshake, open_descriptors, open_raw,
)

TIMEOUT = 0.5
#: The example keys of the hixie-76 draft; they are valid.
KEY1, KEY2 = "4 @1  46546xW%0l 1 5", "12998 5 Y3 1  .P00"


def upgrade(key1: str = KEY1, key2: str = KEY2) -> bytes:
    """A hixie-76 upgrade request's headers, without the 8 key bytes."""
    return ("GET /socket.io/1/flashsocket/SID HTTP/1.1\r\nHost: t\r\nUpgrade: WebSocket\r\n"
            "Connection: Upgrade\r\nOrigin: http://t\r\nSec-WebSocket-Key1: %s\r\n"
            "Sec-WebSocket-Key2: %s\r\n\r\n" % (key1, key2)).encode("utf-8")


@pytest.mark.gen_test(timeout=10)
async def test_upgrades_without_key_bytes_are_closed_after_the_timeout():
    baseline = open_descriptors()
    async with live_server({"upgrade_timeout": TIMEOUT}) as server:
        connections = [await open_raw(server.port) for _ in range(40)]
        for _, writer in connections:
            writer.write(upgrade() + b"1234")  # half of the key bytes
        started = time.monotonic()
        assert await normal_handshake(server.port) < 1.0
        closed = await asyncio.gather(*(closed_by_server(reader, TIMEOUT + 1.5)
                                        for reader, _ in connections))
        assert all(closed)
        waited = time.monotonic() - started
        assert TIMEOUT * 0.8 <= waited < TIMEOUT + 1.0, waited
        close_all([writer for _, writer in connections])
        assert await normal_handshake(server.port) < 1.0
    await asyncio.sleep(0)
    assert open_descriptors() <= baseline + 2


@pytest.mark.parametrize("key1", [
    "1" * 5000 + " ",              # far too many digits
    "4294967296 ",                 # a number over 32 bits
    "123456",                      # no space to divide by
    "7 ",                          # not a multiple of its spaces
])
@pytest.mark.gen_test(timeout=10)
async def test_unreadable_keys_close_the_connection_at_once(key1):
    async with live_server({"upgrade_timeout": 30}) as server:
        reader, writer = await open_raw(server.port)
        try:
            writer.write(upgrade(key1=key1))  # no key bytes: the server must not wait for them
            started = time.monotonic()
            assert await closed_by_server(reader, 1.0)
            assert time.monotonic() - started < 0.5
        finally:
            writer.close()
        assert await normal_handshake(server.port) < 1.0


@pytest.mark.gen_test(timeout=10)
async def test_a_prompt_hixie76_client_still_connects():
    async with live_server({"upgrade_timeout": TIMEOUT}) as server:
        reader, writer = await open_raw(server.port)
        writer.write(upgrade() + b"^n:ds[4U")  # the draft's example key3
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
        assert answer.startswith(b"HTTP/1.1 101 WebSocket Protocol Handshake")
        # The draft's example answer to these keys.
        assert await asyncio.wait_for(reader.readexactly(16), 2) == b"8jKS'y:G*Co,Wxa-"
        writer.close()
