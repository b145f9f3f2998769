"""Cross-origin access: CORS headers (wire-notes#handshake, #xhr-polling) and the
``allowed_origins`` policy.

The native server echoes any Origin with ``Access-Control-Allow-Credentials:
true``. With ``allowed_origins`` set to a list, a foreign Origin is refused
with ``403`` at the handshake (native body ``handshake bad origin``), and we
expect the same ``403`` on xhr GET/POST and on the websocket upgrade.
"""

import pytest
from tornado.httpclient import HTTPClientError

try:
    from .wire import read_message, read_response_text
except ImportError:
    from wire import read_message, read_response_text

ORIGIN = "http://app.example:8080"
GOOD = "http://good.example"
EVIL = "http://evil.example"


def _assert_cors(response, origin):
    assert response.headers.get("Access-Control-Allow-Origin") == origin
    assert response.headers.get("Access-Control-Allow-Credentials") == "true"


@pytest.mark.gen_test
async def test_handshake_with_origin_gets_cors_headers(wire):
    response = await wire.handshake(headers={"Origin": ORIGIN})
    assert response.code == 200
    _assert_cors(response, ORIGIN)


@pytest.mark.gen_test
async def test_handshake_without_origin_has_no_allow_origin(wire):
    response = await wire.handshake()
    assert response.code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.gen_test
async def test_xhr_poll_and_post_with_origin_get_cors_headers(wire):
    headers = {"Origin": ORIGIN}
    sid = await wire.new_sid(headers=headers)
    poll = await wire.fetch("1/xhr-polling/%s?t=1" % sid, headers=headers)
    assert (poll.code, read_response_text(poll)) == (200, "1::")
    _assert_cors(poll, ORIGIN)
    post = await wire.fetch(
        "1/xhr-polling/%s?t=2" % sid, method="POST", body="3:::x", headers=headers
    )
    assert (post.code, post.body) == (200, b"1")
    _assert_cors(post, ORIGIN)


@pytest.mark.gen_test
async def test_preflight_on_session_url_is_answered_with_cors(wire):
    """wire-notes#xhr-polling: ``OPTIONS`` on a session URL hangs natively; we expect an
    immediate 200 (wire-notes#cors: 0.9-era browsers accept no other status)
    carrying the CORS headers."""
    sid = await wire.new_sid()
    response = await wire.fetch(
        "1/xhr-polling/%s" % sid,
        method="OPTIONS",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        timeout=3,
    )
    assert response.code == 200, response.code
    _assert_cors(response, ORIGIN)


@pytest.mark.gen_test
async def test_preflight_of_the_handshake_answers_200(wire):
    """wire-notes#cors: the native server answers ``OPTIONS /socket.io/1/`` with 200."""
    response = await wire.fetch(
        "1/", method="OPTIONS",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}, timeout=3)
    assert response.code == 200, response.code
    _assert_cors(response, ORIGIN)


@pytest.mark.settings(allowed_origins=[GOOD])
@pytest.mark.gen_test
async def test_listed_origin_is_accepted_everywhere(wire):
    headers = {"Origin": GOOD}
    response = await wire.handshake(headers=headers)
    assert response.code == 200
    _assert_cors(response, GOOD)
    sid = read_response_text(response).split(":")[0]
    poll = await wire.fetch("1/xhr-polling/%s?t=1" % sid, headers=headers)
    assert (poll.code, read_response_text(poll)) == (200, "1::")
    _assert_cors(poll, GOOD)
    other = await wire.new_sid(headers=headers)
    conn = await wire.websocket(other, headers=headers)
    assert await read_message(conn) == "1::"


@pytest.mark.settings(allowed_origins=[GOOD])
@pytest.mark.gen_test
async def test_foreign_origin_is_refused_at_handshake(wire):
    response = await wire.handshake(headers={"Origin": EVIL})
    assert response.code == 403
    assert read_response_text(response) == "handshake bad origin"
    assert response.headers.get("Access-Control-Allow-Origin") != EVIL


@pytest.mark.settings(allowed_origins=[GOOD])
@pytest.mark.gen_test
async def test_foreign_origin_is_refused_on_xhr_poll_and_post(wire):
    sid = await wire.new_sid(headers={"Origin": GOOD})
    poll = await wire.fetch("1/xhr-polling/%s?t=1" % sid, headers={"Origin": EVIL})
    assert poll.code == 403
    post = await wire.fetch(
        "1/xhr-polling/%s?t=2" % sid, method="POST", body="3:::x", headers={"Origin": EVIL}
    )
    assert post.code == 403
    # The session itself is untouched: the rightful origin still connects.
    good = await wire.fetch("1/xhr-polling/%s?t=3" % sid, headers={"Origin": GOOD})
    assert (good.code, read_response_text(good)) == (200, "1::")


@pytest.mark.settings(allowed_origins=[GOOD])
@pytest.mark.gen_test
async def test_foreign_origin_is_refused_on_websocket_upgrade(wire):
    sid = await wire.new_sid(headers={"Origin": GOOD})
    with pytest.raises(HTTPClientError) as info:
        await wire.websocket(sid, headers={"Origin": EVIL})
    assert info.value.code == 403


@pytest.mark.settings(allowed_origins=[GOOD])
@pytest.mark.gen_test
async def test_foreign_origin_jsonp_handshake_gets_error_script(wire):
    """wire-notes#handshake error forms: ``io.j[N](new Error("handshake bad origin"));``."""
    response = await wire.handshake("jsonp=2", headers={"Origin": EVIL})
    assert response.code == 200
    assert read_response_text(response) == 'io.j[2](new Error("handshake bad origin"));'
