"""The websocket transport on the wire: first frame, echo, ACKs, endpoints, heartbeats.

Expected frames follow wire-notes#packets and #websocket: one packet per text frame, never
framed payloads.
"""

import time

import pytest
from tornado.httpclient import HTTPClientError

try:
    from .wire import read_message, read_until_closed
except ImportError:
    from wire import read_message, read_until_closed

EMOJI = "\U0001F600"


@pytest.mark.gen_test
async def test_first_frame_is_connect_packet(wire):
    sid = await wire.new_sid()
    conn = await wire.websocket(sid)
    assert await read_message(conn) == "1::"


@pytest.mark.gen_test
async def test_message_is_echoed_in_its_own_frame(wire):
    conn = await wire.ws_session()
    conn.write_message("3:::x" + EMOJI + "y")
    assert await read_message(conn) == "3:::x" + EMOJI + "y"


@pytest.mark.gen_test
async def test_message_containing_frame_separator_is_not_split(wire):
    conn = await wire.ws_session()
    conn.write_message("3:::a\ufffd5\ufffdb")
    assert await read_message(conn) == "3:::a\ufffd5\ufffdb"


@pytest.mark.gen_test
async def test_lone_surrogate_from_the_application_goes_out_as_replacement_character(wire):
    """A JSON string may carry a lone surrogate; UTF-8 cannot. Node writes U+FFFD."""
    conn = await wire.ws_session()
    conn.write_message('4:::"\\ud800x"')  # the echo sends the decoded string as text
    assert await read_message(conn) == "3:::\ufffdx"
    conn.write_message("3:::still here")
    assert await read_message(conn) == "3:::still here"


@pytest.mark.gen_test
async def test_auto_ack_frame_precedes_echo(wire):
    """wire-notes#packets/#websocket: ``3:5::hi`` -> frame ``6:::5`` then frame ``3:::hi``."""
    conn = await wire.ws_session()
    conn.write_message("3:5::hi")
    assert await read_message(conn) == "6:::5"
    assert await read_message(conn) == "3:::hi"


@pytest.mark.gen_test
async def test_event_with_data_ack_returns_handler_result(wire):
    conn = await wire.ws_session()
    conn.write_message('5:12+::{"name":"add","args":[40,2]}')
    assert await read_message(conn) == "6:::12+[42]"


@pytest.mark.gen_test
async def test_event_with_single_object_argument_is_passed_as_kwargs(wire):
    conn = await wire.ws_session()
    conn.write_message('5:3+::{"name":"add","args":[{"a":1,"b":2}]}')
    assert await read_message(conn) == "6:::3+[3]"


@pytest.mark.gen_test
async def test_endpoints_are_multiplexed_over_one_websocket(wire, recorder):
    """After ``0::/chat`` packets for ``/chat`` are ignored (natively they are
    still echoed; see the xhr-polling test of the same case)."""
    conn = await wire.ws_session("tag=ws")
    conn.write_message("1::/chat")
    assert await read_message(conn) == "1::/chat"
    conn.write_message("3::/chat:hello")
    assert await read_message(conn) == "3::/chat:hello"
    conn.write_message("0::/chat")
    await recorder.wait(lambda: ("close", "/chat") in recorder.events)
    conn.write_message("3::/chat:ignored")
    conn.write_message("3:::main")
    assert await read_message(conn) == "3:::main"
    assert ("close", "ws") not in recorder.events


@pytest.mark.gen_test
async def test_unknown_session_is_upgraded_then_refused_with_error_packet(wire):
    """wire-notes#websocket/#unknown-sessions: ``101``, one frame ``7:::1+0``, then the
    connection closes."""
    conn = await wire.websocket("doesnotexist0000")
    assert await read_until_closed(conn) == ["7:::1+0"]


@pytest.mark.gen_test
async def test_cross_origin_websocket_is_accepted_by_default(wire):
    """``allowed_origins`` defaults to ``'*'``; Tornado alone would refuse this upgrade."""
    sid = await wire.new_sid()
    conn = await wire.websocket(sid, headers={"Origin": "http://elsewhere.example"})
    assert await read_message(conn) == "1::"


@pytest.mark.settings(heartbeat_interval=1, client_timeout=1)
@pytest.mark.gen_test(timeout=8)
async def test_server_sends_heartbeat_after_interval(wire):
    started = time.monotonic()
    conn = await wire.ws_session()
    assert await read_message(conn, timeout=4) == "2::"
    assert 0.8 <= time.monotonic() - started < 2.5


@pytest.mark.settings(heartbeat_interval=1, client_timeout=1)
@pytest.mark.gen_test(timeout=10)
async def test_answered_heartbeats_keep_the_websocket_open(wire, recorder):
    conn = await wire.ws_session("tag=alive")
    for _ in range(3):
        assert await read_message(conn, timeout=4) == "2::"
        conn.write_message("2::")
    conn.write_message("3:::still")
    assert await read_message(conn) == "3:::still"
    assert ("close", "alive") not in recorder.events


@pytest.mark.settings(heartbeat_interval=1, client_timeout=1)
@pytest.mark.gen_test(timeout=10)
async def test_unanswered_heartbeat_closes_the_session(wire, recorder):
    """wire-notes#websocket: a client that never answers ``2::`` is dropped (natively
    without a ``0::``; a final ``0::`` is accepted too)."""
    conn = await wire.ws_session("tag=silent")
    started = time.monotonic()
    frames = await read_until_closed(conn, timeout=7)
    assert frames and frames[0] == "2::", frames
    assert set(frames) <= {"2::", "0::"}, frames
    assert time.monotonic() - started < 6
    await recorder.wait_closed("silent")


@pytest.mark.settings(max_message_size=1000)
@pytest.mark.gen_test
async def test_oversize_websocket_message_closes_the_connection(wire, recorder):
    conn = await wire.ws_session("tag=big")
    conn.write_message("3:::" + "x" * 5000)
    frames = await read_until_closed(conn)
    assert "3:::" + "x" * 5000 not in frames
    other = await wire.ws_session()
    other.write_message("3:::ok")
    assert await read_message(other) == "3:::ok"


@pytest.mark.settings(enabled_protocols=["xhr-polling"])
@pytest.mark.gen_test
async def test_disabled_websocket_transport_is_not_routed(wire):
    """Native closes the TCP connection with no answer (wire-notes#urls); we expect ``404``."""
    sid = await wire.new_sid()
    with pytest.raises(HTTPClientError) as info:
        await wire.websocket(sid)
    assert info.value.code == 404


@pytest.mark.gen_test
async def test_server_event_asking_for_ack_carries_plus_and_gets_answer(wire, recorder):
    """wire-notes#packets: the server writes ``5:1+::`` (with ``+``) so the stock client
    answers ``6:::1+[...]``; the answer reaches the ``emit_ack`` callback."""
    conn = await wire.ws_session()
    conn.write_message('5:::{"name":"ask"}')
    assert await read_message(conn) == '5:1+::{"name":"question","args":["sure?"]}'
    conn.write_message('6:::1+["yes"]')
    await recorder.wait(lambda: any(e[0] == "ack" for e in recorder.events))
    assert ("ack", ["yes"]) in recorder.events


@pytest.mark.gen_test
async def test_async_event_handler_result_is_the_ack_payload(wire):
    conn = await wire.ws_session()
    conn.write_message('5:9+::{"name":"slow_add","args":[1,2]}')
    assert await read_message(conn) == "6:::9+[3]"


@pytest.mark.gen_test
async def test_endpoint_refused_by_on_open_gets_unauthorized_error(wire, recorder):
    """wire-notes#errors: a refused endpoint gets ``7::/private:2`` (reason 2
    ``unauthorized``, no advice); the main connection keeps working."""
    conn = await wire.ws_session()
    conn.write_message("1::/private")
    assert await read_message(conn) == "7::/private:2"
    conn.write_message("3::/private:x")
    conn.write_message("3:::main")
    assert await read_message(conn) == "3:::main"
    assert ("open", "/private") in recorder.events
