"""Emitting from a process that serves no clients: tornadio2's emitters, python-socketio's.

A worker shares the cluster's Redis; what it publishes reaches the clients
of both tornadio2 processes. python-socketio's ``write_only`` managers
publish the same message shape (``namespace`` '/' is the main endpoint), so
they reach tornadio2's clients too.
"""

from typing import Any, List

import pytest

from tornadio2.emitter import AsyncEmitter, Emitter

pytestmark = pytest.mark.e2e


async def two_in_lobby(clients: Any, cluster: List[Any], transport: str) -> List[str]:
    a, b = cluster
    sid_a = await clients.connect("a_in", a.url + "/?rooms=lobby", transport)
    sid_b = await clients.connect("b_in", b.url + "/?rooms=lobby", "xhr-polling")
    await clients.connect("b_out", b.url + "/", transport)
    return [sid_a, sid_b]


@pytest.mark.parametrize("transport", ["websocket", "xhr-polling"])
@pytest.mark.gen_test(timeout=60)
async def test_sync_emitter_reaches_rooms_ids_and_everyone_on_both_processes(
        cluster: List[Any], redis_server: Any, node_clients: Any, transport: str) -> None:
    clients = await node_clients()
    emitter = Emitter(redis_server.url)
    try:
        sid_a, sid_b = await two_in_lobby(clients, cluster, transport)
        assert emitter.to("lobby").emit("news", "room") == 2  # two processes subscribed
        emitter.to("lobby").emit("kw", n=1)
        emitter.to(sid_b).emit("news", "just b")
        emitter.to_all().send("to everyone")
        for name in ("a_in", "b_in"):
            assert (await clients.received(name, "news", 1))[0] == ["room"]
            assert await clients.received(name, "kw") == [[{"n": 1}]]
        await clients.wait_for(lambda: len(clients.of("b_out", "message")) == 1, "b_out message")
        assert clients.of("b_out", "message")[0]["data"] == "to everyone"
        assert clients.args("b_out", "news") == []
        await clients.wait_for(lambda: len(clients.of("a_in", "message")) == 1, "a_in message")
        assert await clients.received("b_in", "news", 2) == [["room"], ["just b"]]
        assert len(clients.args("a_in", "news")) == 1
        emitter.disconnect(sid_a)
        await clients.wait_for(lambda: clients.of("a_in", "disconnect"), "a_in to be kicked")
        emitter.close_room("lobby")
        emitter.to("lobby").emit("news", "nobody")
        emitter.to_all().emit("marker")
        await clients.received("b_in", "marker")
        assert len(clients.args("b_in", "news")) == 2
    finally:
        emitter.close()
        await clients.close()


@pytest.mark.gen_test(timeout=60)
async def test_async_emitter_reaches_both_processes(
        cluster: List[Any], redis_server: Any, node_clients: Any) -> None:
    clients = await node_clients()
    emitter = AsyncEmitter(redis_server.url)
    try:
        await two_in_lobby(clients, cluster, "websocket")
        assert await emitter.to("lobby").emit("news", "async") == 2
        assert await emitter.to_all().emit("all", 1, 2) == 2
        for name in ("a_in", "b_in"):
            assert await clients.received(name, "news") == [["async"]]
            assert await clients.received(name, "all") == [[1, 2]]
        assert await clients.received("b_out", "all") == [[1, 2]]
        assert clients.args("b_out", "news") == []
    finally:
        await emitter.close()
        await clients.close()


@pytest.mark.gen_test(timeout=60)
async def test_python_socketio_write_only_manager_reaches_tornadio2_clients(
        cluster: List[Any], redis_server: Any, node_clients: Any) -> None:
    import socketio  # the test extra has it: never skipped
    clients = await node_clients()
    manager = socketio.RedisManager(redis_server.url, write_only=True)
    try:
        sid_a, sid_b = await two_in_lobby(clients, cluster, "websocket")
        manager.emit("news", {"from": "worker"}, room="lobby")
        manager.emit("pair", ("one", 2), to=sid_a)       # a tuple is several arguments
        manager.emit("everyone", "x")                    # room None: the whole endpoint
        for name in ("a_in", "b_in"):
            assert await clients.received(name, "news") == [[{"from": "worker"}]]
            assert await clients.received(name, "everyone") == [["x"]]
        assert await clients.received("b_out", "everyone") == [["x"]]
        assert clients.args("a_in", "pair") == [["one", 2]]
        assert clients.args("b_in", "pair") == []
        manager.close_room("lobby")
        manager.emit("news", "nobody", room="lobby")
        # (its disconnect() needs a server object in the worker: use tornadio2's emitter)
        manager.emit("marker", 1)
        for name in ("a_in", "b_in"):
            await clients.received(name, "marker")
            assert len(clients.args(name, "news")) == 1
    finally:
        await clients.close()
