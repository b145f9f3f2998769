"""Bad input on the wire: malformed packets, bad JSON, bad framing, oversize bodies, odd URLs.

The server must answer each with something explicit below 500, log no
unhandled exception (the autouse fixture checks ``tornado.application``), and
keep every other session working: each test proves it with an echo on a
session opened before the abuse.
"""

import asyncio

import pytest

try:
    from .wire import read_message, read_response_text, unframe
except ImportError:
    from wire import read_message, read_response_text, unframe

MALFORMED = [
    "garbage",
    "5:::{not json",
    "4:::{bad",
    "6:::x",
    "6:::1+[not json",
    "99::",
    "",
    ":::",
    "\ufffd12\ufffd3::",
    "\ufffdabc\ufffd3:::x",
    "\ufffd\ufffd",
    "\ufffd5\ufffd3:::hi\ufffd",
    "5:::[1,2]",
    '5:::{"args":[1]}',
    '5:::{"name":"add","args":"x"}',
    '5:::{"name":"nosuchevent","args":[1]}',
    '5:1+::{"name":"add","args":[1]}',
    "6:::4242+[1]",
    "1::/chat:?a=b",
    "2::",
    "8::",
    "7:::1+0",
]


async def _assert_still_echoes(session, text="3:::ok"):
    await session.send(text)
    assert await session.get_text() == text


@pytest.mark.parametrize("body", MALFORMED)
@pytest.mark.gen_test
async def test_malformed_post_is_answered_and_other_sessions_keep_working(wire, body):
    bystander = await wire.xhr()
    victim = await wire.xhr()
    response = await victim.post(body)
    assert response.code < 500, (response.code, response.body)
    # The abused session either ignored the packet (native) or was closed.
    await victim.post("3:::after")
    after = await victim.get()
    assert after.code == 200
    packets = unframe(read_response_text(after))
    assert "3:::after" in packets or packets[0] in ("0::", "7:::1+0"), packets
    await _assert_still_echoes(bystander)


@pytest.mark.gen_test
async def test_post_with_invalid_utf8_is_refused_without_crash(wire):
    bystander = await wire.xhr()
    victim = await wire.xhr()
    response = await victim.post(b"3:::\xff\xfe\xc3")
    assert response.code < 500
    await _assert_still_echoes(bystander)


@pytest.mark.parametrize("frame", ["garbage", "5:::{not json", "99::", "", "\ufffd12\ufffd3::"])
@pytest.mark.gen_test
async def test_malformed_websocket_frame_does_not_affect_other_sessions(wire, frame):
    bystander = await wire.ws_session()
    victim = await wire.ws_session()
    victim.write_message(frame)
    victim.write_message("3:::after")
    reply = await read_message(victim)
    assert reply in ("3:::after", "0::", None), reply
    bystander.write_message("3:::ok")
    assert await read_message(bystander) == "3:::ok"


@pytest.mark.gen_test
async def test_binary_websocket_frame_is_ignored_or_closes(wire):
    bystander = await wire.ws_session()
    victim = await wire.ws_session()
    victim.write_message(b"\x00\xff3:::x", binary=True)
    victim.write_message("3:::after")
    assert await read_message(victim) in ("3:::after", "0::", None)
    bystander.write_message("3:::ok")
    assert await read_message(bystander) == "3:::ok"


@pytest.mark.settings(max_message_size=1000)
@pytest.mark.gen_test
async def test_oversize_post_body_is_refused_with_4xx(wire):
    bystander = await wire.xhr()
    victim = await wire.xhr()
    response = await victim.post("3:::" + "x" * 4000)
    assert 400 <= response.code < 500, response.code
    await _assert_still_echoes(bystander)


@pytest.mark.settings(max_message_size=1000)
@pytest.mark.gen_test
async def test_post_body_at_size_limit_is_accepted(wire):
    session = await wire.xhr()
    message = "3:::" + "y" * 996
    await session.send(message)
    assert await session.get_text() == message


@pytest.mark.parametrize(
    "path",
    [
        "1/foo-polling/abcdef0123456789",
        "1/xhr-polling/abc/def/ghi",
    ],
)
@pytest.mark.gen_test
async def test_unknown_transport_gets_explicit_4xx(wire, path):
    """Natively the TCP connection is closed without any HTTP answer for an
    unknown transport (wire-notes#urls); we expect an explicit 4xx (404 from routing or 400)."""
    bystander = await wire.xhr()
    response = await wire.fetch(path)
    assert 400 <= response.code < 500, response.code
    await _assert_still_echoes(bystander)


@pytest.mark.gen_test
async def test_plain_get_on_websocket_url_gets_4xx(wire):
    """Natively the connection is closed unanswered (wire-notes#websocket); we expect a 4xx."""
    sid = await wire.new_sid()
    response = await wire.fetch("1/websocket/%s" % sid)
    assert 400 <= response.code < 500, response.code


@pytest.mark.gen_test
async def test_many_bad_posts_in_parallel_leave_server_usable(wire):
    bystander = await wire.xhr()
    victims = [await wire.xhr() for _ in range(4)]
    responses = await asyncio.gather(
        *(v.post(body) for v in victims for body in ("garbage", "5:::{x", "\ufffd9\ufffd1"))
    )
    assert all(r.code < 500 for r in responses), [r.code for r in responses]
    await _assert_still_echoes(bystander)


@pytest.mark.settings(max_queue_length=5)
@pytest.mark.gen_test
async def test_flooding_a_detached_session_past_max_queue_length_closes_it(wire, recorder):
    bystander = await wire.xhr()
    victim = await wire.xhr("tag=flood")
    for n in range(8):
        await victim.send("3:::m%d" % n)
    await recorder.wait_closed("flood")
    body = await victim.get_text()
    if body == "0::":
        body = await victim.get_text()
    assert body == "7:::1+0"
    await _assert_still_echoes(bystander)
