"""xhr-polling on the wire: polls, posts, payload framing, ACKs, endpoints.

Expected bytes follow wire-notes#packets and #xhr-polling. Framing
lengths count UTF-16 code units: an emoji counts 2.
"""

import asyncio
import json
import time

import pytest

try:
    from .wire import read_response_text, unframe
except ImportError:
    from wire import read_response_text, unframe

EMOJI = "\U0001F600"


@pytest.mark.gen_test
async def test_first_poll_returns_connect_packet(wire):
    sid = await wire.new_sid()
    response = await wire.fetch("1/xhr-polling/%s?t=1" % sid)
    assert response.code == 200
    assert read_response_text(response) == "1::"


@pytest.mark.gen_test
async def test_poll_headers_are_plain_text_utf8_with_length(wire):
    sid = await wire.new_sid()
    response = await wire.fetch("1/xhr-polling/%s?t=1" % sid)
    assert response.headers["Content-Type"].lower() == "text/plain; charset=utf-8"
    assert response.headers["Content-Length"] == "3"


@pytest.mark.gen_test
async def test_post_answers_200_one(wire):
    session = await wire.xhr()
    response = await session.post("3:::hi")
    assert response.code == 200
    assert response.body == b"1"
    assert response.headers["Content-Type"].lower() == "text/plain; charset=utf-8"


@pytest.mark.gen_test
async def test_posted_message_is_echoed_on_next_poll(wire):
    session = await wire.xhr()
    await session.send("3:::hello")
    assert await session.get_text() == "3:::hello"


@pytest.mark.gen_test
async def test_pending_poll_receives_reply_to_post(wire):
    session = await wire.xhr()
    poll = asyncio.ensure_future(session.get_text())
    await session.send("3:::late")
    assert await poll == "3:::late"


@pytest.mark.gen_test
async def test_queued_packets_are_framed_with_utf16_lengths(wire):
    """Three replies queued while no poll is attached come back framed in one body.

    ``3:::x😀y`` is 8 UTF-16 code units (7 code points); ``3:::a\\ufffdb`` holds
    the frame separator itself, so only the length can delimit it.
    """
    session = await wire.xhr()
    await session.send("3:::hi")
    await session.send("3:::x" + EMOJI + "y")
    await session.send("3:::a\ufffdb")
    body = await session.get_text()
    assert body == (
        "\ufffd6\ufffd3:::hi"
        "\ufffd8\ufffd3:::x" + EMOJI + "y"
        "\ufffd7\ufffd3:::a\ufffdb"
    )


@pytest.mark.gen_test
async def test_framed_post_with_emoji_is_split_by_utf16_lengths(wire):
    session = await wire.xhr()
    payload = "\ufffd8\ufffd3:::x" + EMOJI + "y\ufffd8\ufffd3:::a\ufffdbc\ufffd6\ufffd3:::ok"
    response = await session.post(payload)
    assert (response.code, response.body) == (200, b"1")
    body = await session.get_text()
    assert body == (
        "\ufffd8\ufffd3:::x" + EMOJI + "y"
        "\ufffd8\ufffd3:::a\ufffdbc"
        "\ufffd6\ufffd3:::ok"
    )


@pytest.mark.gen_test
async def test_single_emoji_message_is_sent_bare(wire):
    session = await wire.xhr()
    await session.send("3:::" + EMOJI)
    assert await session.get_text() == "3:::" + EMOJI


@pytest.mark.gen_test
async def test_json_message_is_echoed_as_compact_json(wire):
    session = await wire.xhr()
    await session.send('4:::{"a":[1,2],"b":"c"}')
    assert await session.get_text() == '4:::{"a":[1,2],"b":"c"}'


@pytest.mark.gen_test
async def test_message_with_id_is_acked_before_it_is_handled(wire):
    """wire-notes#packets: ``3:5::hi`` gets the automatic ``6:::5`` before the echo."""
    session = await wire.xhr()
    await session.send("3:5::hi")
    assert await session.get_text() == "\ufffd5\ufffd6:::5\ufffd6\ufffd3:::hi"


@pytest.mark.gen_test
async def test_event_with_data_ack_returns_handler_result(wire):
    session = await wire.xhr()
    await session.send('5:7+::{"name":"add","args":[2,3]}')
    assert await session.get_text() == "6:::7+[5]"


@pytest.mark.gen_test
async def test_event_handler_can_emit_back(wire):
    session = await wire.xhr()
    await session.send('5:::{"name":"ping","args":[1,"two"]}')
    assert await session.get_text() == '5:::{"name":"pong","args":[1,"two"]}'


@pytest.mark.gen_test
async def test_event_args_with_non_ascii_survive_round_trip(wire):
    session = await wire.xhr()
    await session.send('5:::{"name":"ping","args":["\u00e9' + EMOJI + '"]}')
    packet = await session.get_text()
    assert packet.startswith("5:::")
    assert json.loads(packet[4:]) == {"name": "pong", "args": ["\u00e9" + EMOJI]}


@pytest.mark.settings(xhr_polling_timeout=1)
@pytest.mark.gen_test(timeout=6)
async def test_idle_poll_answers_noop_after_polling_timeout(wire):
    session = await wire.xhr()
    started = time.monotonic()
    body = await session.get_text()
    elapsed = time.monotonic() - started
    assert body == "8::"
    assert 0.8 <= elapsed < 3.0, elapsed


@pytest.mark.gen_test
async def test_endpoint_connect_is_echoed_and_messages_carry_endpoint(wire, recorder):
    session = await wire.xhr()
    await session.send("1::/chat")
    assert await session.get_text() == "1::/chat"
    await session.send("3::/chat:hello")
    assert await session.get_text() == "3::/chat:hello"
    await session.send("3:::main")
    assert await session.get_text() == "3:::main"
    assert ("open", "/chat") in recorder.events


@pytest.mark.gen_test
async def test_endpoint_disconnect_leaves_only_that_endpoint(wire, recorder):
    """wire-notes#packets: after ``0::/chat`` the main connection keeps working and the
    server does not answer ``0::/chat``. Natively later ``3::/chat:...`` packets
    are still echoed (the namespace socket lingers); we expect them ignored, like
    packets for an endpoint nobody declared."""
    session = await wire.xhr("tag=main")
    await session.send("1::/chat")
    assert await session.get_text() == "1::/chat"
    await session.send("0::/chat")
    await recorder.wait(lambda: ("close", "/chat") in recorder.events)
    await session.send("3::/chat:gone")
    await session.send("3:::still here")
    assert await session.get_text() == "3:::still here"
    assert ("close", "main") not in recorder.events


@pytest.mark.gen_test
async def test_packets_for_undeclared_endpoint_are_ignored(wire):
    session = await wire.xhr()
    await session.send("1::/nowhere")
    await session.send("3::/nowhere:x")
    await session.send("3:::after")
    assert await session.get_text() == "3:::after"


@pytest.mark.gen_test
async def test_unknown_session_poll_gets_error_packet(wire):
    response = await wire.fetch("1/xhr-polling/doesnotexist0000?t=1")
    assert response.code == 200
    assert read_response_text(response) == "7:::1+0"


@pytest.mark.gen_test
async def test_post_to_unknown_session_is_accepted_and_ignored(wire):
    response = await wire.fetch(
        "1/xhr-polling/doesnotexist0000?t=1", method="POST", body="3:::hi"
    )
    assert response.code == 200
    assert response.body == b"1"


@pytest.mark.gen_test
async def test_post_before_first_poll_keeps_connect_and_reply(wire):
    """Natively ``1::`` and the reply are lost when a POST comes before the first
    GET, and the first GET only gets ``8::`` (wire-notes#xhr-polling); we expect
    nothing lost instead: the first GET delivers ``1::`` and the echo, framed."""
    session = await wire.xhr(connect=False)
    await session.send("3:::early")
    assert await session.get_text() == "\ufffd3\ufffd1::\ufffd9\ufffd3:::early"


@pytest.mark.settings(xhr_polling_timeout=5)
@pytest.mark.gen_test(timeout=8)
async def test_second_poll_replaces_first_which_is_answered(wire, recorder):
    """Natively the older of two concurrent GETs is never answered (wire-notes#xhr-polling:
    it hangs until the client gives up); we expect the older one answered at once (status below
    500) while the newer one takes the next reply."""
    session = await wire.xhr()
    first = asyncio.ensure_future(session.get())
    await recorder.wait_get("/xhr-polling/" + session.sid, 2)
    second = asyncio.ensure_future(session.get())
    await recorder.wait_get("/xhr-polling/" + session.sid, 3)
    started = time.monotonic()
    older = await asyncio.wait_for(first, 3)
    assert older.code < 500
    assert time.monotonic() - started < 3
    await session.send("3:::to the newer")
    newer = await asyncio.wait_for(second, 3)
    delivered = unframe(read_response_text(older)) + unframe(read_response_text(newer))
    assert "3:::to the newer" in delivered


@pytest.mark.settings(global_heartbeats=False, heartbeat_interval=1, xhr_polling_timeout=2)
@pytest.mark.gen_test(timeout=6)
async def test_polling_gets_no_heartbeats_without_global_heartbeats(wire):
    """wire-notes#xhr-polling: polling transports get no server heartbeats; an idle GET ends
    with ``8::`` even when the heartbeat interval is shorter."""
    session = await wire.xhr()
    assert await session.get_text() == "8::"


@pytest.mark.gen_test
async def test_refused_endpoint_over_xhr_gets_unauthorized_error(wire):
    session = await wire.xhr()
    await session.send("1::/private")
    assert await session.get_text() == "7::/private:2"
