"""htmlfile on the wire: one chunked HTML response of ``<script>`` calls.

Expected bytes follow wire-notes#htmlfile and #unknown-sessions. The stream is read with a raw
HTTP/1.1 client so that each chunk the server flushed is seen on its own.
"""

import json
import re
import time

import pytest

try:
    from .wire import raw_request, unframe
except ImportError:
    from wire import raw_request, unframe

EMOJI = "\U0001F600"
PRELUDE = (
    b"<html><body><script>var _ = function (msg) { parent.s._(msg, document); };</script>"
    + b" " * 173
)
SCRIPT_CHUNK = re.compile(r'\A<script>_\((".*")\);</script>\Z', re.S)


def parse_chunk(chunk: bytes) -> str:
    """``<script>_("...");</script>`` -> the decoded payload string."""
    text = chunk.decode("utf-8")
    match = SCRIPT_CHUNK.match(text)
    assert match, text
    return json.loads(match.group(1))


def htmlfile_path(sid: str) -> str:
    return "/socket.io/1/htmlfile/%s?t=1700000000001" % sid


async def open_stream(port: int, sid: str, headers=None):
    """GET the htmlfile URL; checks the status, headers and the 256-byte prelude chunk."""
    stream = await raw_request(port, "GET", htmlfile_path(sid), headers)
    assert stream.status == 200
    assert stream.headers["content-type"] == "text/html; charset=UTF-8"
    assert stream.chunked, stream.header_list
    assert await stream.read_chunk() == PRELUDE
    return stream


async def connected_stream(wire, port: int, query: str = ""):
    """Handshake, open the stream and read its ``1::``; returns ``(sid, stream)``."""
    sid = await wire.new_sid(query)
    stream = await open_stream(port, sid)
    assert await stream.read_chunk() == b'<script>_("1::");</script>'
    return sid, stream


async def read_packets(stream, count: int, timeout: float = 5.0):
    """Packets from the next chunks until ``count`` arrived (a chunk may hold a framed payload)."""
    packets = []
    while len(packets) < count:
        chunk = await stream.read_chunk(timeout)
        assert chunk is not None, packets
        packets.extend(unframe(parse_chunk(chunk)))
    return packets


async def post(wire, sid: str, body: str):
    return await wire.fetch("1/htmlfile/%s?t=1700000000002" % sid, method="POST", body=body)


@pytest.fixture
def streams(io_loop):
    """Raw streams a test opened; closed (on the running loop) after it."""
    opened = []
    yield opened

    async def close_all():
        for stream in opened:
            await stream.aclose()

    io_loop.run_sync(close_all)


@pytest.mark.gen_test
async def test_stream_starts_with_256_byte_prelude_then_connect_packet(wire, http_port, streams):
    assert len(PRELUDE) == 256
    sid = await wire.new_sid()
    stream = await raw_request(http_port, "GET", htmlfile_path(sid))
    streams.append(stream)
    assert stream.status == 200
    assert stream.headers["content-type"] == "text/html; charset=UTF-8"
    assert stream.headers["transfer-encoding"] == "chunked"
    assert await stream.read_chunk() == PRELUDE
    assert await stream.read_chunk() == b'<script>_("1::");</script>'


@pytest.mark.gen_test
async def test_stream_has_no_cors_headers_even_with_origin(wire, http_port, streams):
    """wire-notes#htmlfile: htmlfile is never cross-domain; no CORS headers."""
    sid = await wire.new_sid()
    stream = await open_stream(http_port, sid, {"Origin": "http://page.example"})
    streams.append(stream)
    assert "access-control-allow-origin" not in stream.headers


@pytest.mark.gen_test
async def test_post_to_htmlfile_url_is_echoed_as_script_chunk(wire, http_port, streams):
    sid, stream = await connected_stream(wire, http_port)
    streams.append(stream)
    response = await post(wire, sid, "3:::hello é" + EMOJI)
    assert response.code == 200
    assert response.body == b"1"
    chunk = await stream.read_chunk()
    assert chunk == '<script>_("3:::hello é{}");</script>'.format(EMOJI).encode("utf-8")


@pytest.mark.gen_test
async def test_framed_post_with_emoji_reaches_the_stream(wire, http_port, streams):
    sid, stream = await connected_stream(wire, http_port)
    streams.append(stream)
    response = await post(wire, sid, "\ufffd8\ufffd3:::a" + EMOJI + "b\ufffd5\ufffd3:::c")
    assert response.body == b"1"
    assert await read_packets(stream, 2) == ["3:::a" + EMOJI + "b", "3:::c"]


@pytest.mark.gen_test
async def test_script_end_tag_in_user_data_cannot_break_out(wire, http_port, streams):
    """Every ``/`` is written ``\\/`` and every ``<`` ``\\u003c`` (wire-notes#htmlfile),
    so the only ``</script>`` in each chunk is the one that closes the framing block."""
    message = "3:::</script><script>alert(1)</script>"
    sid, stream = await connected_stream(wire, http_port)
    streams.append(stream)
    await post(wire, sid, message)
    chunk = await stream.read_chunk()
    assert chunk == (b'<script>_("3:::\\u003c\\/script>\\u003cscript>alert(1)'
                     b'\\u003c\\/script>");</script>')
    assert chunk.count(b"</script>") == 1 and chunk.endswith(b"</script>")
    assert parse_chunk(chunk) == message


@pytest.mark.gen_test
async def test_html_comment_opener_in_user_data_is_escaped(wire, http_port, streams):
    """``<!--<script`` inside a script block would make the browser treat every
    later chunk as part of one script; no ``<`` of user data reaches the page raw."""
    message = "3:::<!--<script>"
    sid, stream = await connected_stream(wire, http_port)
    streams.append(stream)
    await post(wire, sid, message)
    chunk = await stream.read_chunk()
    assert chunk.count(b"<") == 2  # the <script> and </script> of the framing, nothing else
    assert b"<!--" not in chunk
    assert parse_chunk(chunk) == message


@pytest.mark.settings(heartbeat_interval=1, client_timeout=1)
@pytest.mark.gen_test(timeout=8)
async def test_heartbeat_chunk_after_interval_and_answer_keeps_stream(wire, http_port, streams):
    started = time.monotonic()
    sid, stream = await connected_stream(wire, http_port)
    streams.append(stream)
    assert await stream.read_chunk(timeout=4) == b'<script>_("2::");</script>'
    assert 0.8 <= time.monotonic() - started < 2.5
    assert (await post(wire, sid, "2::")).body == b"1"
    await post(wire, sid, "3:::after")
    assert await stream.read_chunk() == b'<script>_("3:::after");</script>'


@pytest.mark.gen_test
async def test_unknown_session_gets_prelude_error_packet_then_end(http_server, http_port, streams):
    """wire-notes#htmlfile/#unknown-sessions."""
    stream = await raw_request(http_port, "GET", htmlfile_path("doesnotexist0000"))
    streams.append(stream)
    assert stream.status == 200
    assert await stream.read_chunk() == PRELUDE
    assert await stream.read_chunk() == b'<script>_("7:::1+0");</script>'
    assert await stream.read_chunk() is None


@pytest.mark.gen_test
async def test_dropped_stream_session_survives_and_new_stream_resumes(
        wire, http_port, streams, recorder):
    sid, stream = await connected_stream(wire, http_port, "tag=dropped")
    await stream.aclose()
    again = await open_stream(http_port, sid)
    streams.append(again)
    assert (await post(wire, sid, "3:::again")).body == b"1"
    packets = await read_packets(again, 1)
    assert "3:::again" in packets, packets
    assert not [p for p in packets if p.startswith(("7:", "0:"))], packets
    assert recorder.count("close", "dropped") == 0


@pytest.mark.settings(session_expiry=1, session_check_interval=1)
@pytest.mark.gen_test(timeout=8)
async def test_dropped_stream_session_expires_without_a_new_stream(
        wire, http_port, streams, recorder):
    started = time.monotonic()
    sid, stream = await connected_stream(wire, http_port, "tag=gone")
    await stream.aclose()
    await recorder.wait_closed("gone", timeout=5)
    assert time.monotonic() - started >= 0.9
    late = await raw_request(http_port, "GET", htmlfile_path(sid))
    streams.append(late)
    assert await late.read_chunk() == PRELUDE
    assert await late.read_chunk() == b'<script>_("7:::1+0");</script>'
