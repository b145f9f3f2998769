"""jsonp-polling on the wire: ``io.j[N]("...");`` answers and form-encoded POSTs.

Expected bytes follow wire-notes#jsonp-polling. The JavaScript
string literal in an answer is read back with ``json.loads`` (a JSON string is
a JavaScript string literal; ``\\/`` and ``\\u2028`` are valid JSON escapes), so
the tests check exactly what a browser would hand the client; and a ``/`` is
written as the native server writes it, ``/``, since some 0.9 clients read the
string without a JavaScript engine.
"""

import json
import re
import time
from urllib.parse import quote, urlencode

import pytest

try:
    from .wire import frame, read_response_text, unframe
except ImportError:
    from wire import frame, read_response_text, unframe

EMOJI = "\U0001F600"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSONP_CALL = re.compile(r'\Aio\.j\[(\d+)\]\((".*")\);\Z', re.S)


def parse_jsonp(body: str):
    """``io.j[N]("...");`` -> ``(N, decoded string)``; fails on anything else."""
    match = JSONP_CALL.match(body)
    assert match, body
    value = json.loads(match.group(2))
    assert isinstance(value, str), body
    return int(match.group(1)), value


def jsonp_path(sid: str, index: str = "1") -> str:
    return "1/jsonp-polling/%s?t=1700000000001&i=%s" % (sid, index)


async def jsonp_session(wire, query: str = "") -> str:
    """Handshake and make the first poll (``1::``); returns the sid."""
    sid = await wire.new_sid(query)
    response = await wire.fetch(jsonp_path(sid, "0"))
    assert read_response_text(response) == 'io.j[0]("1::");'
    return sid


async def poll(wire, sid: str, index: str = "1", timeout: float = 10.0) -> str:
    """One jsonp GET; returns the decoded payload after checking the call index."""
    response = await wire.fetch(jsonp_path(sid, index), timeout=timeout)
    assert response.code == 200, (response.code, response.body)
    number, payload = parse_jsonp(read_response_text(response))
    assert str(number) == index
    return payload


async def post_form(wire, sid: str, body: str):
    return await wire.fetch(jsonp_path(sid), method="POST", body=body, headers=FORM)


async def post_payload(wire, sid: str, payload: str, ensure_ascii: bool = False) -> None:
    """POST as the browser client does: ``d`` = urlencoded JSON string of the payload."""
    body = urlencode({"d": json.dumps(payload, ensure_ascii=ensure_ascii)})
    response = await post_form(wire, sid, body)
    assert response.code == 200, (response.code, response.body)
    assert response.body == b"1"


@pytest.mark.gen_test
async def test_first_poll_is_connect_packet_in_javascript_call(wire):
    sid = await wire.new_sid()
    response = await wire.fetch(jsonp_path(sid, "3"))
    assert response.code == 200
    assert response.body == b'io.j[3]("1::");'
    assert response.headers["Content-Type"] == "text/javascript; charset=UTF-8"
    assert response.headers["X-XSS-Protection"] == "0"


@pytest.mark.gen_test
async def test_poll_has_no_cors_headers_even_with_origin(wire):
    """wire-notes#jsonp-polling: a script include needs no CORS; none are sent."""
    sid = await wire.new_sid()
    response = await wire.fetch(jsonp_path(sid, "2"), headers={"Origin": "http://page.example"})
    assert response.body == b'io.j[2]("1::");'
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("query", [
    "",                           # no i at all
    "&i=",                        # empty
    "&i=abc",
    "&i=1x",
    "&i=-1",
    "&i=1%3Balert(1)",            # 1;alert(1)
    "&i=%D9%A1",                  # ARABIC-INDIC DIGIT ONE: a digit, but not 0-9
    "&i=0)%3Balert(1)%2F%2F",
])
@pytest.mark.gen_test
async def test_non_digit_or_missing_index_becomes_zero(wire, query):
    sid = await wire.new_sid()
    response = await wire.fetch("1/jsonp-polling/%s?t=1700000000001%s" % (sid, query))
    assert response.code == 200
    assert response.body == b'io.j[0]("1::");'


@pytest.mark.gen_test
async def test_post_form_answers_200_one_and_message_is_echoed(wire):
    sid = await jsonp_session(wire)
    response = await post_form(wire, sid, "d=" + quote(json.dumps("3:::hello")))
    assert response.code == 200
    assert response.body == b"1"
    assert response.headers["Content-Type"] == "text/plain; charset=UTF-8"
    response = await wire.fetch(jsonp_path(sid, "5"))
    assert response.body == b'io.j[5]("3:::hello");'


@pytest.mark.gen_test
async def test_queued_replies_are_framed_with_utf16_lengths(wire):
    """Replies queued while no poll is held come back in one framed payload.

    ``3:::x😀y`` is 8 UTF-16 code units; the literal below is what the native
    server sends (wire-notes#xhr-polling), wrapped in the JavaScript call.
    """
    sid = await jsonp_session(wire)
    await post_payload(wire, sid, "3:::hi")
    await post_payload(wire, sid, "3:::x" + EMOJI + "y")
    payload = await poll(wire, sid)
    assert payload == "\ufffd6\ufffd3:::hi\ufffd8\ufffd3:::x" + EMOJI + "y"


@pytest.mark.parametrize("ensure_ascii", [False, True], ids=["raw-utf8", "json-u-escapes"])
@pytest.mark.gen_test
async def test_framed_post_with_emoji_is_decoded_twice(wire, ensure_ascii):
    """``d`` is form-decoded, then JSON-decoded, then split by UTF-16 lengths.

    With ``ensure_ascii`` the emoji travels as the surrogate escapes
    ``\\ud83d\\ude00``, as some encoders write it.
    """
    sid = await jsonp_session(wire)
    packets = ["3:::a" + EMOJI + "b", "3:::" + EMOJI, "3:::é\n"]
    # 3:::a😀b is 8 UTF-16 code units (7 code points): the emoji counts 2
    body = "\ufffd8\ufffd3:::a" + EMOJI + "b\ufffd6\ufffd3:::" + EMOJI + "\ufffd6\ufffd3:::é\n"
    assert body == frame(packets)
    await post_payload(wire, sid, body, ensure_ascii=ensure_ascii)
    received = unframe(await poll(wire, sid))
    assert received == packets


@pytest.mark.gen_test
async def test_script_breaking_characters_round_trip_exactly(wire):
    """``</script>``, quotes, backslashes and U+2028/U+2029 survive; none of them
    appears raw in the script, where it would end or break the JavaScript."""
    message = '3:::</script><script>alert("x")</script> \\ \u2028\u2029 \\/ ' + EMOJI
    sid = await jsonp_session(wire)
    await post_payload(wire, sid, message)
    response = await wire.fetch(jsonp_path(sid, "7"))
    raw = read_response_text(response)
    assert "</" not in raw
    assert "\u2028" not in raw and "\u2029" not in raw
    number, payload = parse_jsonp(raw)
    assert number == 7
    assert payload == message


@pytest.mark.gen_test
async def test_slash_is_written_as_the_native_server_writes_it(wire):
    """wire-notes#jsonp-polling: ``JSON.stringify`` leaves ``/`` alone, so an
    endpoint packet reads ``1::/chat``, not ``1::\\/chat``."""
    sid = await jsonp_session(wire)
    await post_payload(wire, sid, "3:::a/b http://x/y")
    response = await wire.fetch(jsonp_path(sid, "2"))
    assert response.body == b'io.j[2]("3:::a/b http://x/y");'


@pytest.mark.gen_test
async def test_only_the_slash_of_a_closing_tag_is_escaped(wire):
    sid = await jsonp_session(wire)
    await post_payload(wire, sid, '3:::</b> 1/2 "q" \\ \t')
    response = await wire.fetch(jsonp_path(sid, "2"))
    assert response.body == b'io.j[2]("3:::<\\/b> 1/2 \\"q\\" \\\\ \\t");'


@pytest.mark.gen_test
async def test_newline_in_message_survives_form_encoding(wire):
    sid = await jsonp_session(wire)
    await post_payload(wire, sid, "3:::line1\r\nline2\n")
    assert await poll(wire, sid) == "3:::line1\r\nline2\n"


@pytest.mark.parametrize("body", [
    "d=notjson",
    "d=",
    "",
    "x=1",
    "d=" + quote('{"a":1}'),
    "d=1",
    "d=" + quote("[1]"),
    "d=true",
    "d=null",
    "d=%FF%FE",
])
@pytest.mark.gen_test
async def test_unreadable_d_field_is_refused_and_server_keeps_serving(wire, body):
    """wire-notes#jsonp-polling, #native-bugs item 4: the native server crashes on
    these; we answer 4xx."""
    sid = await jsonp_session(wire)
    response = await post_form(wire, sid, body)
    assert 400 <= response.code < 500, (response.code, response.body)
    other = await jsonp_session(wire)
    await post_payload(wire, other, "3:::still here")
    assert await poll(wire, other) == "3:::still here"


@pytest.mark.gen_test
async def test_unknown_session_poll_is_refused_with_error_packet(wire):
    """wire-notes#unknown-sessions."""
    response = await wire.fetch(jsonp_path("doesnotexist0000", "4"))
    assert response.code == 200
    assert response.body == b'io.j[4]("7:::1+0");'


@pytest.mark.gen_test
async def test_post_to_unknown_session_is_accepted_and_ignored(wire):
    """wire-notes#unknown-sessions: ``200 1``."""
    response = await post_form(wire, "doesnotexist0000", "d=" + quote(json.dumps("3:::x")))
    assert response.code == 200
    assert response.body == b"1"


@pytest.mark.settings(xhr_polling_timeout=1)
@pytest.mark.gen_test(timeout=8)
async def test_idle_poll_answers_noop_after_timeout(wire):
    sid = await jsonp_session(wire)
    started = time.monotonic()
    response = await wire.fetch(jsonp_path(sid, "3"))
    elapsed = time.monotonic() - started
    assert response.body == b'io.j[3]("8::");'
    assert 0.8 <= elapsed < 3, elapsed
