"""Two tornadio2 processes on a real redis-server, stock 0.9 clients on each.

Process ``a1`` and process ``b2`` share one Redis (the ``cluster``
fixture); each test puts Node socket.io-client 0.9.16 connections on both
and checks what the clients received. "Exactly once" is shown with a
marker: a second send from the same process, published after the first,
reaches the client after it (Redis keeps one publisher's order), so once
the marker is there a duplicate of the first would be too.
"""

from typing import Any, List

import pytest

from tornadio2.sessioncontainer import node_of

pytestmark = pytest.mark.e2e

TRANSPORTS = ["websocket", "xhr-polling"]


@pytest.fixture(params=TRANSPORTS)
def transport(request: Any) -> str:
    return str(request.param)


def url(proc: Any, rooms: str = "") -> str:
    return proc.url + ("/?rooms=" + rooms if rooms else "/")


@pytest.mark.gen_test(timeout=60)
async def test_session_ids_carry_the_node_id(cluster: List[Any], node_clients: Any,
                                             transport: str) -> None:
    a, b = cluster
    clients = await node_clients()
    try:
        sid_a = await clients.connect("x", url(a), transport)
        sid_b = await clients.connect("y", url(b), transport)
        assert (node_of(sid_a), node_of(sid_b)) == ("a1", "b2")
        assert await clients.call("x", "whoami") == [sid_a, "a1"]
        # ~120 random bits after the node id, URL-safe, nothing the handshake
        # splits on (wire-notes#handshake): the stock client used them as they are
        for sid in (sid_a, sid_b):
            token = sid.split(".", 1)[1]
            assert len(token) == 20 and ":" not in sid and "/" not in sid
    finally:
        await clients.close()


@pytest.mark.gen_test(timeout=60)
async def test_room_emit_reaches_members_on_the_other_process_exactly_once(
        cluster: List[Any], node_clients: Any, transport: str) -> None:
    a, b = cluster
    clients = await node_clients()
    try:
        await clients.connect("a_in", url(a, "lobby"), transport)
        await clients.connect("b_in", url(b, "lobby"), transport)
        await clients.connect("b_out", url(b), transport)
        assert await clients.call("a_in", "room_emit", "lobby", "first") == 1  # local count
        await clients.call("a_in", "room_emit", "lobby", "marker")
        for name in ("a_in", "b_in"):
            got = await clients.received(name, "room", 2)
            assert got == [["first", "a1"], ["marker", "a1"]], (name, got)
        # and from b2 the other way
        await clients.call("b_in", "room_emit", "lobby", "back")
        assert (await clients.received("a_in", "room", 3))[2] == ["back", "b2"]
        await clients.received("b_in", "room", 3)
        assert clients.args("b_out", "room") == []
    finally:
        await clients.close()


@pytest.mark.gen_test(timeout=60)
async def test_broadcast_excludes_the_sender_across_processes(
        cluster: List[Any], node_clients: Any, transport: str) -> None:
    a, b = cluster
    clients = await node_clients()
    try:
        await clients.connect("sender", url(a), transport)
        await clients.connect("a_other", url(a), transport)
        await clients.connect("b_one", url(b), transport)
        await clients.connect("b_two", url(b), transport)
        await clients.call("sender", "broadcast", "hello")
        for name in ("a_other", "b_one", "b_two"):
            assert await clients.received(name, "broadcast") == [["hello", "a1"]]
        # a marker the sender does get (from b2): by then the first would have come too
        await clients.call("b_one", "broadcast", "marker")
        assert await clients.received("sender", "broadcast") == [["marker", "b2"]]
        await clients.received("a_other", "broadcast", 2)
        assert clients.args("b_one", "broadcast") == [["hello", "a1"]]
    finally:
        await clients.close()


@pytest.mark.gen_test(timeout=60)
async def test_disconnect_by_id_across_processes(
        cluster: List[Any], node_clients: Any, transport: str) -> None:
    a, b = cluster
    clients = await node_clients()
    try:
        await clients.connect("kicker", url(a), transport)
        victim = await clients.connect("victim", url(b), transport)
        await clients.connect("bystander", url(b), transport)
        assert await clients.call("kicker", "kick", victim) is False  # not in a1
        await clients.wait_for(lambda: clients.of("victim", "disconnect"), "victim to go")
        assert await clients.call("bystander", "whoami")  # b2 and the others are fine
        assert clients.of("bystander", "disconnect") == []
        assert clients.of("kicker", "disconnect") == []
    finally:
        await clients.close()


@pytest.mark.gen_test(timeout=60)
async def test_close_room_across_processes(
        cluster: List[Any], node_clients: Any, transport: str) -> None:
    a, b = cluster
    clients = await node_clients()
    try:
        await clients.connect("a_in", url(a, "lobby"), transport)
        await clients.connect("b_in", url(b, "lobby"), transport)
        await clients.connect("closer", url(a), transport)
        await clients.call("closer", "room_emit", "lobby", "before")
        await clients.received("b_in", "room")
        assert await clients.call("closer", "close_room", "lobby") == 1  # a_in, in a1
        await clients.call("closer", "room_emit", "lobby", "after")
        await clients.call("closer", "broadcast", "marker")
        for name in ("a_in", "b_in"):
            await clients.received(name, "broadcast")
            assert clients.args(name, "room") == [["before", "a1"]], name
        # the room is gone in b2 too, not only its members' sends
        await clients.call("b_in", "room_emit", "lobby", "from b")
        await clients.call("b_in", "broadcast", "marker 2")
        await clients.received("a_in", "broadcast", 2)
        assert clients.args("a_in", "room") == [["before", "a1"]]
    finally:
        await clients.close()


@pytest.mark.gen_test(timeout=30)
async def test_a_request_on_the_wrong_process_gets_the_unknown_session_answer(
        cluster: List[Any]) -> None:
    """A session of a1 asked of b2: ``7:::1+0``, the client hand-shakes again
    (wire-notes#unknown-sessions); b2 goes on serving."""
    from tornado.httpclient import AsyncHTTPClient

    a, b = cluster
    http = AsyncHTTPClient()
    body = (await http.fetch(a.url + "/socket.io/1/?t=1")).body.decode()
    sid = body.split(":")[0]
    assert node_of(sid) == "a1"
    wrong = await http.fetch(b.url + "/socket.io/1/xhr-polling/%s?t=2" % sid)
    assert (wrong.code, wrong.body) == (200, b"7:::1+0")
    jsonp = await http.fetch(b.url + "/socket.io/1/jsonp-polling/%s?t=3&i=4" % sid)
    assert jsonp.body == b'io.j[4]("7:::1+0");'
    right = await http.fetch(a.url + "/socket.io/1/xhr-polling/%s?t=4" % sid)
    assert right.body == b"1::"
    assert (await http.fetch(b.url + "/socket.io/1/?t=5")).code == 200
