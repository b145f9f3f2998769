"""Handshake (`GET /socket.io/1/`) on the wire: body, headers, JSONP form, refusals.

Expected bytes follow wire-notes#handshake and #urls (native socket.io 0.9.19), with the
timeouts tornadio2 announces (heartbeat_interval + client_timeout,
xhr_polling_timeout + client_timeout: 17 and 25 with the defaults).
"""

import re
from urllib.parse import quote

import pytest

try:
    from .wire import read_response_text
except ImportError:
    from wire import read_response_text

DEFAULT_TRANSPORTS = "websocket,flashsocket,xhr-polling,jsonp-polling,htmlfile"
SID_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")


@pytest.mark.gen_test
async def test_handshake_body_announces_sid_timeouts_and_transports(wire):
    response = await wire.handshake()
    assert response.code == 200
    body = read_response_text(response)
    sid, heartbeat, close, transports = body.split(":")
    assert (heartbeat, close, transports) == ("17", "25", DEFAULT_TRANSPORTS)
    assert SID_CHARS.match(sid), sid


@pytest.mark.gen_test
async def test_handshake_content_type_is_plain_text_without_charset(wire):
    """wire-notes#handshake: exactly ``Content-Type: text/plain``."""
    response = await wire.handshake()
    assert response.code == 200
    assert response.headers["Content-Type"] == "text/plain"


@pytest.mark.settings(heartbeat_interval=3, client_timeout=2, xhr_polling_timeout=4)
@pytest.mark.gen_test
async def test_handshake_timeouts_follow_settings(wire):
    response = await wire.handshake()
    assert read_response_text(response).split(":")[1:3] == ["5", "6"]


@pytest.mark.gen_test
async def test_session_ids_are_distinct_and_unpredictable(wire):
    sids = [await wire.new_sid() for _ in range(12)]
    assert len(set(sids)) == len(sids)
    for sid in sids:
        assert SID_CHARS.match(sid), sid
        assert len(sid) >= 16, sid  # at least ~96 bits of randomness
    # A counter or a clock would make neighbours share a long prefix.
    for a, b in zip(sids, sids[1:]):
        common = 0
        while common < min(len(a), len(b)) and a[common] == b[common]:
            common += 1
        assert common < 8, (a, b)


@pytest.mark.gen_test
async def test_jsonp_handshake_wraps_body_in_io_j_call(wire):
    response = await wire.handshake("jsonp=3")
    assert response.code == 200
    assert response.headers["Content-Type"] == "application/javascript"
    body = read_response_text(response)
    match = re.match(r'^io\.j\[3\]\("([A-Za-z0-9_-]+):17:25:([a-z,-]+)"\);$', body)
    assert match, body
    assert match.group(2) == DEFAULT_TRANSPORTS


@pytest.mark.parametrize("value", ["abc", "1);alert(1", "-1", "3a", ""])
@pytest.mark.gen_test
async def test_non_digit_jsonp_is_answered_as_plain_handshake(wire, value):
    """wire-notes#handshake: ``jsonp`` must match ``^\\d+$``; anything else gets the plain form."""
    response = await wire.handshake("jsonp=" + quote(value))
    assert response.code == 200
    assert response.headers["Content-Type"] == "text/plain"
    body = read_response_text(response)
    assert "io.j" not in body
    assert body.split(":")[1:] == ["17", "25", DEFAULT_TRANSPORTS]


@pytest.mark.parametrize(
    "path", ["2/", "9/", "2/xhr-polling/abcdef", "2/websocket/abcdef", "12/"]
)
@pytest.mark.gen_test
async def test_other_protocol_versions_are_refused_with_500(wire, path):
    response = await wire.fetch(path)
    assert response.code == 500
    assert read_response_text(response) == "Protocol version not supported."


@pytest.mark.gen_test
async def test_bare_namespace_answers_welcome(wire):
    """wire-notes#urls: ``/socket.io/`` answers ``200 Welcome to socket.io.``."""
    response = await wire.fetch("")
    assert response.code == 200
    assert read_response_text(response) == "Welcome to socket.io."


@pytest.mark.gen_test
async def test_handshake_refused_by_on_open_answers_403_unauthorized(wire, recorder):
    response = await wire.handshake("tag=nope&reject=1")
    assert response.code == 403
    assert read_response_text(response) == "handshake unauthorized"
    assert ("open", "nope") in recorder.events


@pytest.mark.gen_test
async def test_jsonp_handshake_refused_by_on_open_answers_error_script(wire):
    """wire-notes#handshake error forms: with a valid ``jsonp`` the refusal is a ``200`` script."""
    response = await wire.handshake("jsonp=7&reject=1")
    assert response.code == 200
    assert response.headers["Content-Type"] == "application/javascript"
    assert read_response_text(response) == 'io.j[7](new Error("handshake unauthorized"));'


@pytest.mark.gen_test
async def test_handshake_without_trailing_slash_and_query_works(wire):
    response = await wire.fetch("1")
    assert response.code == 200
    assert read_response_text(response).split(":")[1:] == ["17", "25", DEFAULT_TRANSPORTS]


@pytest.mark.gen_test
async def test_on_open_sees_handshake_query(wire, recorder):
    await wire.new_sid("tag=hello")
    assert ("open", "hello") in recorder.events
