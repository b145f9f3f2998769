"""flashsocket on the wire: RFC 6455 like websocket, and the hixie-76 draft the
Flash client (web-socket-js) speaks.

Expected frames follow wire-notes#websocket; the hixie-76 side
uses the independent client in ``hixie76_client.py``.
"""

import asyncio
import time

import pytest
from tornado.httpclient import HTTPClientError

try:
    from .hixie76_client import CLOSE, Hixie76Client
    from .wire import read_message, read_until_closed
except ImportError:
    from hixie76_client import CLOSE, Hixie76Client
    from wire import read_message, read_until_closed

EMOJI = "\U0001F600"


def flash_path(sid: str, query: str = "") -> str:
    return "/socket.io/1/flashsocket/%s" % sid + ("?" + query if query else "")


@pytest.fixture
def hixie(io_loop, http_server, http_port):
    """``await hixie(sid, ...)`` opens a hixie-76 connection; all are closed after the test."""
    clients = []

    async def connect(sid: str, query: str = "", **kwargs):
        client = await Hixie76Client.connect(http_port, flash_path(sid, query), **kwargs)
        clients.append(client)
        return client

    yield connect

    async def close_all():
        for client in clients:
            await client.close()

    io_loop.run_sync(close_all)


async def hixie_session(wire, hixie, query: str = ""):
    """Handshake, upgrade over hixie-76 and read the ``1::`` frame."""
    sid = await wire.new_sid(query)
    client = await hixie(sid)
    assert client.status == 101, (client.status_line, client.body)
    assert await client.read_message() == "1::"
    return client


# -- RFC 6455 -------------------------------------------------------------------------


@pytest.mark.gen_test
async def test_rfc6455_upgrade_on_flashsocket_url_sends_connect_then_echoes(wire):
    sid = await wire.new_sid()
    conn = await wire.websocket(sid, transport="flashsocket")
    assert await read_message(conn) == "1::"
    conn.write_message("3:::Привет " + EMOJI)
    assert await read_message(conn) == "3:::Привет " + EMOJI


@pytest.mark.gen_test
async def test_rfc6455_unknown_session_on_flashsocket_gets_error_then_close(wire):
    conn = await wire.websocket("doesnotexist0000", transport="flashsocket")
    assert await read_until_closed(conn) == ["7:::1+0"]


# -- hixie-76 ---------------------------------------------------------------------------


@pytest.mark.gen_test
async def test_hixie76_handshake_answers_101_with_origin_location_and_digest(
        wire, hixie, http_port):
    sid = await wire.new_sid()
    client = await hixie(sid, "t=5", origin="http://page.example:8080")
    assert client.status == 101, (client.status_line, client.body)
    assert client.headers["upgrade"].lower() == "websocket"
    assert client.headers["connection"].lower() == "upgrade"
    assert client.headers["sec-websocket-origin"] == "http://page.example:8080"
    assert client.headers["sec-websocket-location"] == (
        "ws://127.0.0.1:%d/socket.io/1/flashsocket/%s?t=5" % (http_port, sid))
    assert "sec-websocket-accept" not in client.headers
    assert client.answer == client.expected
    assert await client.read_message() == "1::"


@pytest.mark.gen_test
async def test_hixie76_key3_in_a_later_segment_is_waited_for(wire, hixie):
    sid = await wire.new_sid()
    client = await hixie(sid, split_key3=True)
    assert client.status == 101
    assert client.answer == client.expected
    assert await client.read_message() == "1::"


@pytest.mark.gen_test
async def test_hixie76_requested_protocol_is_echoed(wire, hixie):
    sid = await wire.new_sid()
    client = await hixie(sid, headers={"Sec-WebSocket-Protocol": "sample"})
    assert client.status == 101
    assert client.headers.get("sec-websocket-protocol") == "sample"
    assert client.answer == client.expected


@pytest.mark.gen_test
async def test_hixie76_echoes_cyrillic_and_emoji(wire, hixie):
    client = await hixie_session(wire, hixie)
    client.send("3:::Привет, мир " + EMOJI)
    assert await client.read_message() == "3:::Привет, мир " + EMOJI


@pytest.mark.gen_test
async def test_hixie76_character_split_across_writes_is_reassembled(wire, hixie):
    client = await hixie_session(wire, hixie)
    data = b"\x00" + ("3:::ж" + EMOJI).encode("utf-8") + b"\xff"
    split = len(b"\x00" + "3:::ж".encode("utf-8")) + 2  # inside the emoji's 4 bytes
    client.send_raw(data[:split])
    await client.writer.drain()
    await asyncio.sleep(0.05)  # a separate TCP segment
    client.send_raw(data[split:])
    assert await client.read_message() == "3:::ж" + EMOJI


@pytest.mark.gen_test
async def test_hixie76_several_frames_in_one_write_are_separate_messages(wire, hixie):
    client = await hixie_session(wire, hixie)
    client.send_raw(b"\x003:::one\xff\x003:::two\xff\x00" + '5:7+::{"name":"add","args":[1,2]}'
                    .encode() + b"\xff")
    assert await client.read_message() == "3:::one"
    assert await client.read_message() == "3:::two"
    assert await client.read_message() == "6:::7+[3]"


@pytest.mark.settings(heartbeat_interval=1, client_timeout=1)
@pytest.mark.gen_test(timeout=8)
async def test_hixie76_heartbeat_after_interval(wire, hixie):
    started = time.monotonic()
    client = await hixie_session(wire, hixie)
    assert await client.read_message(timeout=4) == "2::"
    assert 0.8 <= time.monotonic() - started < 2.5
    client.send("2::")
    client.send("3:::alive")
    assert await client.read_message() == "3:::alive"


@pytest.mark.gen_test
async def test_hixie76_server_close_sends_disconnect_then_closing_frame(wire, hixie, recorder):
    client = await hixie_session(wire, hixie, "tag=bye")
    client.send("3:::bye")
    frames = await client.read_until_eof()
    assert frames == ["0::", CLOSE], frames
    await recorder.wait_closed("bye")


@pytest.mark.gen_test
async def test_hixie76_client_closing_frame_closes_session_on_server(wire, hixie, recorder):
    client = await hixie_session(wire, hixie, "tag=leaving")
    client.send_close()
    await recorder.wait_closed("leaving")
    frames = await client.read_until_eof()
    assert "0::" not in frames and all(f is CLOSE for f in frames), frames


@pytest.mark.gen_test
async def test_hixie76_client_dropping_tcp_closes_session_on_server(wire, hixie, recorder):
    client = await hixie_session(wire, hixie, "tag=dropped")
    await client.close()
    await recorder.wait_closed("dropped")


@pytest.mark.gen_test
async def test_hixie76_unknown_session_gets_error_frame_then_close(hixie):
    client = await hixie("doesnotexist0000")
    assert client.status == 101
    assert client.answer == client.expected
    frames = await client.read_until_eof()
    assert frames and frames[0] == "7:::1+0", frames
    assert frames[1:] in ([], [CLOSE]), frames


@pytest.mark.parametrize("frame", [b"\x80\x05hello", b"\x01abc\xff", b"\xff\x05"],
                         ids=["length-prefixed", "unknown-type", "bad-close"])
@pytest.mark.gen_test
async def test_hixie76_bad_frame_closes_the_connection(wire, hixie, recorder, frame):
    client = await hixie_session(wire, hixie, "tag=bad")
    client.send_raw(frame)
    frames = await client.read_until_eof()
    assert all(f is CLOSE for f in frames), frames
    await recorder.wait_closed("bad")


@pytest.mark.settings(max_message_size=1000)
@pytest.mark.parametrize("terminated", [False, True], ids=["unfinished", "whole"])
@pytest.mark.gen_test
async def test_hixie76_oversize_message_closes_the_connection(wire, hixie, recorder, terminated):
    client = await hixie_session(wire, hixie, "tag=big")
    client.send_raw(b"\x003:::" + b"x" * 5000 + (b"\xff" if terminated else b""))
    first = await client.read_frame()
    assert first is CLOSE or first is None, "oversize message accepted: %.20r" % (first,)
    await client.read_until_eof()
    await recorder.wait_closed("big")
    other = await hixie_session(wire, hixie)
    other.send("3:::ok")
    assert await other.read_message() == "3:::ok"


@pytest.mark.settings(allowed_origins=["http://good.example"])
@pytest.mark.gen_test
async def test_hixie76_refused_origin_gets_403(wire, hixie):
    sid = await wire.new_sid()
    refused = await hixie(sid, origin="http://evil.example")
    assert refused.status == 403, refused.status_line
    assert refused.answer == b""
    allowed = await hixie(sid, origin="http://good.example")
    assert allowed.status == 101
    assert allowed.headers["sec-websocket-origin"] == "http://good.example"
    assert await allowed.read_message() == "1::"


@pytest.mark.settings(allowed_origins=["http://good.example"])
@pytest.mark.gen_test
async def test_rfc6455_refused_origin_on_flashsocket_gets_403(wire):
    sid = await wire.new_sid()
    with pytest.raises(HTTPClientError) as info:
        await wire.websocket(sid, headers={"Origin": "http://evil.example"},
                             transport="flashsocket")
    assert info.value.code == 403


# Trailing spaces would be stripped from the header value: every space sits inside.
@pytest.mark.parametrize("key1", ["12345678", "1 3 x", "4294967296 x"],
                         ids=["no-space", "remainder", "over-32-bits"])
@pytest.mark.gen_test
async def test_hixie76_malformed_key_gets_no_upgrade(wire, http_port, key1):
    sid = await wire.new_sid()
    reader, writer = await asyncio.open_connection("127.0.0.1", http_port)
    try:
        writer.write((
            "GET /socket.io/1/flashsocket/%s HTTP/1.1\r\nUpgrade: WebSocket\r\n"
            "Connection: Upgrade\r\nHost: 127.0.0.1:%d\r\nOrigin: http://127.0.0.1\r\n"
            "Sec-WebSocket-Key1: %s\r\nSec-WebSocket-Key2: 1 2\r\n\r\n" % (sid, http_port, key1)
        ).encode("latin-1") + b"12345678")
        answer = await asyncio.wait_for(reader.read(4096), 3)  # an answer, or b"" at close
    finally:
        writer.close()
        await writer.wait_closed()
    assert b" 101 " not in answer.split(b"\r\n", 1)[0], answer
