"""Findings of the first attack round that needed no new limit, replayed live.

Each test repeats what the attacker did against a server process and checks
the fixed answer: ``?disconnect`` from another address leaves the victim's
session alone; malformed or hostile packets over xhr-polling answer 200, not
500; an ACK result JSON cannot carry is the application's error, not the
request's; an htmlfile chunk cannot open a comment or script in the page.
"""

import asyncio
import re

import pytest

from tests.adversarial.live import HttpClient, TargetServer, handshake_time

SETTINGS = {"xhr_polling_timeout": 1}


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    server = TargetServer(SETTINGS, str(tmp_path_factory.mktemp("known") / "server.log"))
    yield server
    server.stop()


async def _xhr_session(client: HttpClient) -> str:
    sid = await client.handshake()
    opened = await client.request("GET", "/socket.io/1/xhr-polling/%s?t=1" % sid)
    assert opened.text == "1::"
    return sid


@pytest.mark.parametrize("path", ["/socket.io/1//%s/?disconnect=1", "/socket.io/1/xhr-polling/%s?disconnect"])
def test_disconnect_from_another_address_leaves_the_session_alone(target, path):
    async def attack() -> str:
        victim = HttpClient(target.port)
        attacker = HttpClient(target.port, source="127.0.0.2")
        try:
            sid = await _xhr_session(victim)
            await attacker.request("GET", path % sid)
            posted = await victim.request("POST", "/socket.io/1/xhr-polling/%s" % sid, b"3:::still mine")
            assert posted.status == 200
            return (await victim.request("GET", "/socket.io/1/xhr-polling/%s?t=2" % sid)).text
        finally:
            await victim.close()
            await attacker.close()

    assert asyncio.run(attack()) == "3:::still mine"


@pytest.mark.parametrize("packet", [
    b'5:::{"name":"add","args":' + b"[" * 100_000,
    b"6:::" + b"7" * 5_000 + b"+[1]",
    b"5:" + b"9" * 5_000 + b"+::{}",
    b"4:::" + b"{\"a\":" * 50_000,
    b'5:1+::{"name":"unserialisable","args":[]}',
])
def test_hostile_packets_over_xhr_answer_200(target, packet):
    async def attack() -> int:
        client = HttpClient(target.port)
        try:
            sid = await _xhr_session(client)
            return (await client.request("POST", "/socket.io/1/xhr-polling/%s" % sid, packet)).status
        finally:
            await client.close()

    assert asyncio.run(attack()) == 200
    assert asyncio.run(handshake_time(target.port)) < 1.0
    assert "Uncaught exception" not in target.log()


def test_htmlfile_chunk_cannot_open_a_comment_or_a_script(target):
    async def attack() -> bytes:
        client = HttpClient(target.port)
        sid = await client.handshake()
        reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
        try:
            writer.write(b"GET /socket.io/1/htmlfile/%s?t=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % sid.encode())
            await asyncio.wait_for(reader.readuntil(b"1::\");</script>"), 5)
            await client.request("POST", "/socket.io/1/htmlfile/%s" % sid, b"3:::<!--<script>x</script>")
            return await asyncio.wait_for(reader.readuntil(b"</script>"), 5)
        finally:
            writer.close()
            await client.close()

    chunk = asyncio.run(attack()).split(b"\r\n")[-1]
    assert re.search(rb"<(?!/?script)", chunk) is None, chunk
    assert b"\\u003c!--\\u003cscript>x\\u003c\\/script>" in chunk, chunk
