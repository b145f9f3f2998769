"""``websocket_check`` and ``global_heartbeats`` on every transport (docs/guide/settings.rst)."""

import pytest

from tests.integration.wire import XhrSession, read_message


@pytest.mark.settings(websocket_check=True)
@pytest.mark.parametrize("transport", ["websocket", "flashsocket"])
@pytest.mark.gen_test
async def test_websocket_check_sends_only_a_heartbeat_until_the_client_answers(wire, transport):
    sid = await wire.new_sid()
    conn = await wire.websocket(sid, transport=transport)
    assert await read_message(conn) == "2::"
    conn.write_message("2::")
    assert await read_message(conn) == "1::"
    conn.write_message("3:::checked")
    assert await read_message(conn) == "3:::checked"


@pytest.mark.settings(websocket_check=True, xhr_polling_timeout=1)
@pytest.mark.gen_test
async def test_unanswered_websocket_check_leaves_the_session_to_polling(wire):
    sid = await wire.new_sid()
    conn = await wire.websocket(sid)
    assert await read_message(conn) == "2::"
    poll = XhrSession(wire, sid)
    assert await poll.get_text() == "1::"
    conn.close()
    assert await read_message(conn) is None
    await poll.send("3:::still here")
    assert await poll.get_text() == "3:::still here"


@pytest.mark.settings(global_heartbeats=True, heartbeat_interval=1, xhr_polling_timeout=3)
@pytest.mark.gen_test(timeout=8)
async def test_global_heartbeats_reach_xhr_polling(wire):
    session = await wire.xhr()
    assert await session.get_text() == "2::"


@pytest.mark.settings(global_heartbeats=True, heartbeat_interval=1, xhr_polling_timeout=3)
@pytest.mark.gen_test(timeout=8)
async def test_global_heartbeats_reach_jsonp_polling(wire):
    sid = await wire.new_sid()
    poll = XhrSession(wire, sid, transport="jsonp-polling")
    assert await poll.get_text() == 'io.j[0]("1::");'
    assert await poll.get_text() == 'io.j[0]("2::");'


@pytest.mark.settings(global_heartbeats=False, heartbeat_interval=1, xhr_polling_timeout=2)
@pytest.mark.gen_test(timeout=8)
async def test_jsonp_polling_gets_no_heartbeats_without_global_heartbeats(wire):
    sid = await wire.new_sid()
    poll = XhrSession(wire, sid, transport="jsonp-polling")
    assert await poll.get_text() == 'io.j[0]("1::");'
    assert await poll.get_text() == 'io.j[0]("8::");'


@pytest.mark.settings(global_heartbeats=False, heartbeat_interval=1)
@pytest.mark.gen_test(timeout=8)
async def test_sockets_get_heartbeats_without_global_heartbeats(wire):
    conn = await wire.ws_session()
    assert await read_message(conn) == "2::"


@pytest.mark.settings(websocket_check=True, heartbeat_interval=1, client_timeout=1)
@pytest.mark.gen_test(timeout=8)
async def test_websocket_check_probe_closes_when_the_client_never_answers(wire):
    sid = await wire.new_sid()
    conn = await wire.websocket(sid)
    assert await read_message(conn) == "2::"
    # Announced heartbeat timeout: 1 + 1 s; the socket is closed then, unanswered.
    assert await read_message(conn, timeout=4) is None
    poll = XhrSession(wire, sid)
    assert await poll.get_text() == "1::"  # the session itself lives on
