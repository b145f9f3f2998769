"""Disconnects on the wire: forced (``?disconnect``), client ``0::``, server ``close()``.

Expected behaviour follows wire-notes#xhr-polling and #websocket; where the native server leaves
a session alive after the client asked to leave, we expect it closed (noted
per test).
"""

import asyncio

import pytest

try:
    from .wire import read_message, read_response_text, read_until_closed
except ImportError:
    from wire import read_message, read_response_text, read_until_closed


async def _pending_poll(session, recorder, polls_before=1):
    """Start a GET and return once the server holds it (attached to the session)."""
    poll = asyncio.ensure_future(session.get())
    await recorder.wait_get("/xhr-polling/" + session.sid, polls_before + 1)
    return poll


async def _assert_gone(session):
    """The session has ended: at most one leftover ``0::``, then ``7:::1+0``."""
    body = await session.get_text()
    if body == "0::":
        body = await session.get_text()
    assert body == "7:::1+0"


@pytest.mark.gen_test
async def test_forced_disconnect_on_transport_url_ends_pending_poll(wire, recorder):
    session = await wire.xhr("tag=forced")
    poll = await _pending_poll(session, recorder)
    response = await wire.fetch("1/xhr-polling/%s?disconnect" % session.sid)
    assert response.code == 200
    pending = await poll
    assert (pending.code, read_response_text(pending)) == (200, "0::")
    await recorder.wait_closed("forced")


@pytest.mark.gen_test
async def test_sync_disconnect_with_empty_transport_segment(wire, recorder):
    """The 0.9 client's ``disconnectSync``: ``/socket.io/1//SID/?disconnect=1``."""
    session = await wire.xhr("tag=sync")
    poll = await _pending_poll(session, recorder)
    response = await wire.fetch("1//%s/?disconnect=1" % session.sid)
    assert response.code == 200
    assert response.body == b""
    pending = await poll
    assert (pending.code, read_response_text(pending)) == (200, "0::")
    await recorder.wait_closed("sync")


@pytest.mark.gen_test
async def test_forced_disconnect_without_attached_transport_closes_session(wire, recorder):
    """wire-notes#xhr-polling: natively this does nothing when no transport is open and the
    session lives on until it times out; we expect ``on_close`` at once and the
    session gone. The next poll may still deliver the queued ``0::``; after that
    the session is unknown (``7:::1+0``)."""
    session = await wire.xhr("tag=detached")
    response = await wire.fetch("1/xhr-polling/%s?disconnect" % session.sid)
    assert response.code == 200
    await recorder.wait_closed("detached")
    await _assert_gone(session)


@pytest.mark.gen_test
async def test_sync_disconnect_without_attached_transport_closes_session(wire, recorder):
    """Same as above for the empty-transport URL (native: does nothing)."""
    session = await wire.xhr("tag=detached-sync")
    response = await wire.fetch("1//%s/?disconnect=1" % session.sid)
    assert response.code == 200
    await recorder.wait_closed("detached-sync")
    await _assert_gone(session)


@pytest.mark.gen_test
async def test_forced_disconnect_of_unknown_session_answers_200(wire):
    response = await wire.fetch("1//doesnotexist0000/?disconnect=1")
    assert response.code == 200


@pytest.mark.gen_test
async def test_forced_disconnect_reaches_open_websocket(wire, recorder):
    sid = await wire.new_sid("tag=wsforced")
    conn = await wire.websocket(sid)
    assert await read_message(conn) == "1::"
    response = await wire.fetch("1//%s/?disconnect=1" % sid)
    assert response.code == 200
    assert await read_until_closed(conn) == ["0::"]
    await recorder.wait_closed("wsforced")


@pytest.mark.gen_test
async def test_client_disconnect_packet_over_websocket_is_answered_and_closed(wire, recorder):
    """wire-notes#websocket: client ``0::`` -> server ``0::`` and close."""
    conn = await wire.ws_session("tag=wsbye")
    conn.write_message("0::")
    assert await read_until_closed(conn) == ["0::"]
    await recorder.wait_closed("wsbye")


@pytest.mark.gen_test
async def test_client_disconnect_packet_posted_ends_pending_poll(wire, recorder):
    """wire-notes#xhr-polling: ``0::`` POSTed while a GET is pending -> that GET
    returns ``0::``."""
    session = await wire.xhr("tag=postbye")
    poll = await _pending_poll(session, recorder)
    await session.send("0::")
    pending = await poll
    assert read_response_text(pending) == "0::"
    await recorder.wait_closed("postbye")
    assert await session.get_text() == "7:::1+0"


@pytest.mark.gen_test
async def test_client_disconnect_packet_posted_with_no_poll_ends_session_at_once(wire, recorder):
    """wire-notes#xhr-polling: ``0::`` POSTed with no GET pending ends the session
    with no last words kept: the next GET is told the session is unknown."""
    session = await wire.xhr("tag=postbye2")
    await session.send("0::")
    await recorder.wait_closed("postbye2")
    assert await session.get_text() == "7:::1+0"


@pytest.mark.gen_test
async def test_server_close_over_websocket_sends_disconnect_and_closes(wire, recorder):
    conn = await wire.ws_session("tag=wsclose")
    conn.write_message("3:::bye")
    assert await read_until_closed(conn) == ["0::"]
    await recorder.wait_closed("wsclose")


@pytest.mark.gen_test
async def test_server_close_with_pending_poll_delivers_disconnect(wire, recorder):
    """wire-notes#xhr-polling: server disconnect while a GET is pending -> that GET
    returns ``0::``."""
    session = await wire.xhr("tag=xhrclose")
    poll = await _pending_poll(session, recorder)
    await session.send("3:::bye")
    assert read_response_text(await poll) == "0::"
    await recorder.wait_closed("xhrclose")
    assert await session.get_text() == "7:::1+0"


@pytest.mark.gen_test
async def test_client_closing_websocket_calls_on_close(wire, recorder):
    """wire-notes#websocket: the client dropping the connection disconnects at once."""
    conn = await wire.ws_session("tag=wsdrop")
    conn.close()
    await recorder.wait_closed("wsdrop")
