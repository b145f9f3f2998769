"""RFC 6455 conformance of the websocket transport, over both engines.

Each test runs against ``websocket_engine='lean'`` (tornadio2's own frame
loop) and ``'tornado'`` (Tornado's ``WebSocketHandler``) with the same
expectations, through the raw-socket client of ``conftest``. Where Tornado's
handler does not meet the RFC the test says so with an ``xfail`` for that
engine only (see wire-notes#rfc-6455).
"""

import asyncio
import json
import logging
import os
import shutil
import struct
from pathlib import Path

import pytest

from tornadio2 import wsframe

from .conftest import EVENTS

ROOT = Path(__file__).resolve().parents[2]
WS_CLIENT = Path(__file__).with_name("ws_client.js")

TEXT, BINARY, CLOSE, PING, PONG, CONT = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


@pytest.fixture
def ws_node():
    """The node executable, when node and the ``ws`` package are there."""
    node = shutil.which(os.environ.get("NODE") or "node")
    if not node or not (ROOT / "node_modules" / "ws" / "package.json").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs node and the ws package (npm install)")
        pytest.skip("node or the ws package is missing")
    return node


def tornado_falls_short(server, why: str) -> None:
    if server.engine == "tornado":
        pytest.xfail("Tornado's handler: " + why)


async def expect_close(ws, code: int) -> None:
    """The server sends a close frame with ``code``, then ends the stream."""
    got, _ = await ws.read_close()
    assert got == code


@pytest.mark.gen_test
async def test_fragmented_message_with_control_frames_interleaved(server):
    ws = await server.connect()
    ws.send_frame(TEXT, b"3:::hel", fin=False)
    ws.send_frame(PING, b"between")
    ws.send_frame(CONT, b"lo wo", fin=False)
    ws.send_frame(PONG, b"unsolicited")
    ws.send_frame(CONT, b"rld")
    assert await ws.read_frame() == (True, PONG, b"between")
    assert await ws.read_text() == "3:::hello world"


@pytest.mark.gen_test
async def test_upgrade_writes_one_access_log_line(server, caplog):
    """Tornado's handler logs ``101 GET ...`` when it accepts; the lean path does too."""
    caplog.set_level(logging.INFO, logger="tornado.access")
    sid = await server.handshake()
    ws = await server.connect(sid)
    ws.send_text("3:::logged")
    assert await ws.read_text() == "3:::logged"
    lines = [record.getMessage() for record in caplog.records if record.name == "tornado.access"]
    upgrades = [line for line in lines if "/websocket/" in line]
    assert len(upgrades) == 1, lines
    assert upgrades[0].startswith("101 GET /socket.io/1/websocket/%s " % sid), upgrades


@pytest.mark.gen_test
async def test_ping_answered_with_pong_of_same_payload(server):
    ws = await server.connect()
    for payload in (b"", b"x", bytes(range(125))):
        ws.send_frame(PING, payload)
        assert await ws.read_frame() == (True, PONG, payload)
    ws.send_text("3:::still open")
    assert await ws.read_text() == "3:::still open"


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
@pytest.mark.gen_test
async def test_payload_sizes(server, size):
    """wire-notes#rfc-6455: a frame of each length encoding, both ways (an empty frame
    carries no packet and is skipped)."""
    ws = await server.connect()
    if size == 0:
        ws.send_frame(TEXT, b"")
        ws.send_text("3:::after")
        assert await ws.read_text() == "3:::after"
        return
    packet = "3:::" + "s" * (size - 4)
    ws.send_text(packet)
    fin, opcode, payload = await ws.read_frame()
    assert (fin, opcode, len(payload)) == (True, TEXT, size)
    assert payload.decode() == packet


@pytest.mark.gen_test
async def test_close_1000_echoed_and_session_closed(server):
    ws = await server.connect()
    sid = _sid(server)
    ws.send_frame(CLOSE, struct.pack("!H", 1000) + b"done")
    await expect_close(ws, 1000)
    await EVENTS.wait_for(("closed", sid))


@pytest.mark.parametrize("frame", [
    dict(opcode=TEXT, payload=b"3:::x", masked=False),
    dict(opcode=TEXT, payload=b"3:::x", rsv=0x40),
    dict(opcode=TEXT, payload=b"3:::x", rsv=0x20),
    dict(opcode=0x3, payload=b"3:::x"),
    dict(opcode=0xB, payload=b""),
    dict(opcode=CONT, payload=b"nothing to continue"),
], ids=["unmasked", "rsv1", "rsv2", "opcode-3", "opcode-B", "orphan-continuation"])
@pytest.mark.gen_test
async def test_protocol_errors_close_with_1002(server, frame):
    ws = await server.connect()
    sid = _sid(server)
    if server.engine == "tornado":
        if not frame.get("masked", True):
            pytest.xfail("Tornado's handler accepts unmasked client frames")
        pytest.xfail("Tornado's handler drops the TCP connection without a close frame")
    ws.send_frame(**frame)
    await expect_close(ws, 1002)
    await EVENTS.wait_for(("closed", sid))


@pytest.mark.gen_test
async def test_invalid_utf8_closes_with_1007(server):
    tornado_falls_short(server, "drops the TCP connection without a close frame")
    ws = await server.connect()
    ws.send_frame(TEXT, b"3:::\xff")
    await expect_close(ws, 1007)


@pytest.mark.gen_test
async def test_utf8_split_across_fragments(server):
    euro = "\u20ac".encode()
    ws = await server.connect()
    ws.send_frame(TEXT, b"3:::" + euro[:2], fin=False)
    ws.send_frame(CONT, euro[2:])
    assert await ws.read_text() == "3:::\u20ac"
    tornado_falls_short(server, "drops the TCP connection without a close frame")
    ws.send_frame(TEXT, b"3:::" + euro[:2], fin=False)
    ws.send_frame(CONT, b"x")
    await expect_close(ws, 1007)


@pytest.mark.settings(max_message_size=1000)
@pytest.mark.gen_test
async def test_message_over_max_message_size_closes_with_1009(server):
    ws = await server.connect()
    sid = _sid(server)
    ws.send_text("3:::" + "a" * 996)
    assert len(await ws.read_text()) == 1000
    ws.send_frame(TEXT, b"3:::" + b"b" * 997)
    await expect_close(ws, 1009)
    await EVENTS.wait_for(("closed", sid))


@pytest.mark.settings(max_message_size=1000)
@pytest.mark.gen_test
async def test_fragments_over_max_message_size_close_with_1009(server):
    ws = await server.connect()
    ws.send_frame(TEXT, b"3:::" + b"a" * 596, fin=False)
    ws.send_frame(CONT, b"b" * 600)
    await expect_close(ws, 1009)


@pytest.mark.gen_test
async def test_server_close_sends_1000(server):
    ws = await server.connect()
    session = next(iter(server.router.sessions))
    session.close()
    assert await ws.read_text() == "0::"
    code, came = await ws.read_close()
    assert came
    # Tornado's handler closes with an empty close frame (no code: 1005 to the client).
    assert code == (1000 if server.engine == "lean" else None)


@pytest.mark.gen_test
async def test_session_ending_while_the_client_still_sends_closes_cleanly(server):
    """The server's close frame, then the end of the stream: no reset, whatever was in flight.

    Closing a socket with unread bytes makes the kernel send a reset, which
    can also throw away what the client had not read yet (the close frame).
    """
    ws = await server.connect()
    ws.send_text("0::")  # the client says goodbye, and goes on talking meanwhile
    for _ in range(64):
        ws.send_text("3:::" + "x" * 4000)
    code, came = await ws.read_close()
    assert came
    assert code == (1000 if server.engine == "lean" else None)


@pytest.mark.gen_test
async def test_router_stop_closes_every_websocket(server):
    """Shutting down: ``router.stop()`` reaches the sockets (the lean ones are not Tornado's)."""
    sockets = [await server.connect() for _ in range(3)]
    server.router.stop()
    for ws in sockets:
        code, came = await ws.read_close()
        assert came
        assert code == (1000 if server.engine == "lean" else None)


@pytest.fixture
def lean_server(io_loop, monkeypatch):
    """A lean-engine server whose wait for the client's close frame is short."""
    from tornadio2 import leanws

    from .conftest import _start, _stop

    monkeypatch.setattr(leanws, "CLOSE_WAIT", 0.3)
    srv, http = _start(io_loop, "lean", {})
    yield srv
    _stop(io_loop, srv, http)


@pytest.mark.gen_test
async def test_lean_close_waits_for_the_client_then_gives_up(lean_server):
    """A client that never answers the close frame is closed after ``CLOSE_WAIT``."""
    ws = await lean_server.connect()
    next(iter(lean_server.router.sessions)).close()
    assert await ws.read_text() == "0::"
    frame = await ws.read_frame()
    assert frame is not None and frame[1] == CLOSE  # then silence from the client
    started = asyncio.get_running_loop().time()
    assert await ws.read_frame(timeout=3) is None  # the server ends the stream
    assert asyncio.get_running_loop().time() - started > 0.2


WRITE_LIMIT = 256 * 1024


@pytest.mark.settings(websocket_write_limit=WRITE_LIMIT)
@pytest.mark.gen_test(timeout=60)
async def test_client_that_stops_reading_is_closed_past_the_write_limit(server):
    """Back-pressure: the server holds at most the limit (plus one flush) unread,
    then closes the session; the flood stops long before its 4,000 messages."""
    if server.engine == "tornado":
        pytest.skip("Tornado's handler: its write limit is tested in tests/adversarial/test_outbound_bytes.py")
    ws = await server.connect()
    sid = _sid(server)
    session = server.router.get_session(sid)
    transport = session.transport
    ws.send_text("3:::flood:4000:65536")
    await EVENTS.wait_for(("closed", sid), timeout=30)
    if server.engine == "lean":  # Tornado's handler does not expose what its stream holds
        assert transport.buffered_bytes <= WRITE_LIMIT + 65536 + 16
    await EVENTS.wait_for(("flood-stopped", session.conn.flooded))
    assert session.conn.flooded < 4000
    assert server.router.stats.write_overflows == 1


@pytest.mark.settings(websocket_write_limit=1 << 30)
@pytest.mark.gen_test(timeout=30)
async def test_volatile_dropped_while_client_is_behind(server):
    ws = await server.connect()
    session = server.router.get_session(_sid(server))
    transport = session.transport
    ws.send_text("3:::flood:2000:65536")

    async def backed_up():
        while not transport.busy():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(backed_up(), 20)
    assert session.send_volatile("5:::{\"name\":\"v\"}") is False


@pytest.mark.gen_test
async def test_wss(tls_server):
    """wire-notes#rfc-6455: wss works with either setting (TLS stays on Tornado's handler)."""
    ws = await tls_server.connect()
    ws.send_text("3:::secure")
    assert await ws.read_text() == "3:::secure"
    ws.send_frame(PING, b"p")
    assert await ws.read_frame() == (True, PONG, b"p")


def _sid(server) -> str:
    return next(iter(server.router.sessions)).sid


def test_codec_close_codes_are_the_rfc_ones():
    assert (wsframe.CLOSE_NORMAL, wsframe.CLOSE_PROTOCOL_ERROR, wsframe.CLOSE_INVALID_DATA,
            wsframe.CLOSE_TOO_BIG) == (1000, 1002, 1007, 1009)


@pytest.mark.gen_test(timeout=20)
async def test_ws_package_as_client(server, ws_node):
    """The ``ws`` npm package: echo (also of a 70,000-byte frame), ping answered
    by a pong with its payload, a clean close with 1000."""
    sid = await server.handshake()
    proc = await asyncio.create_subprocess_exec(
        ws_node, str(WS_CLIENT), str(server.port), sid,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=str(ROOT))
    out, err = await asyncio.wait_for(proc.communicate(), 15)
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert "error" not in seen, (seen, err)
    assert seen["messages"] == ["1::", "3:::hello from ws", "3:::wwww..70004"]
    assert seen["pong"] == "ping-payload"
    assert seen["close"] == 1000
    await EVENTS.wait_for(("closed", sid))


def test_lean_engine_on_uvloop():
    """uvloop is an option (never required): the lean path runs on it unchanged."""
    try:
        import uvloop
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs uvloop (the test extra installs it)")
        pytest.skip("uvloop is not installed")
    from .conftest import _start

    async def main():
        srv, http = _start(None, "lean", {})
        ws = await srv.connect()
        ws.send_text("3:::on uvloop")
        assert await ws.read_text() == "3:::on uvloop"
        ws.send_frame(PING, b"u")
        assert await ws.read_frame() == (True, PONG, b"u")
        ws.send_frame(CLOSE, struct.pack("!H", 1000))
        assert (await ws.read_close())[0] == 1000
        await ws.close()
        srv.router.stop()
        http.stop()
        await http.close_all_connections()

    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(main(), 20))
    finally:
        loop.close()
