"""Redis killed and restarted under two tornadio2 processes whose clients stay connected.

Local delivery never stops; once Redis is back, what was published during
an outage shorter than ``broker_outage_window`` arrives, in order and once;
beyond the window it is dropped, counted and logged once. Redis unreachable
at start is an error naming the URL, or a degraded start when asked for.
"""

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest
from tornado.httpclient import AsyncHTTPClient

from tornadio2 import TornadioRouter
from tornadio2.emitter import Emitter
from tornadio2.exceptions import BrokerUnavailable
from tornadio2.redisbroker import RedisBroker

try:
    from .conftest import WAIT, RedisServer, free_port, start_processes, stop_pid, wait_port
except ImportError:  # tests/scaleout is not a package: pytest put it on sys.path
    from conftest import (WAIT, RedisServer, free_port, start_processes,  # type: ignore
                          stop_pid, wait_port)

pytestmark = pytest.mark.e2e


async def ctl(proc: Any, action: str, **query: str) -> Dict[str, Any]:
    """``GET /ctl/<action>?...`` on a tornadio2 process of the test."""
    qs = "&".join("%s=%s" % item for item in query.items())
    response = await AsyncHTTPClient().fetch("%s/ctl/%s?%s" % (proc.url, action, qs))
    return json.loads(response.body)


async def until_stats(proc: Any, check: Any, what: str) -> Dict[str, Any]:
    """Read ``/ctl/stats`` until ``check(stats)``; at most :data:`WAIT` seconds."""
    for _ in range(int(WAIT / 0.05)):
        stats = await ctl(proc, "stats")
        if check(stats):
            return stats
        await asyncio.sleep(0.05)
    raise AssertionError("%s: %s never true; last stats %r" % (proc.node, what, stats))


def texts(clients: Any, name: str) -> List[str]:
    return [args[0] for args in clients.args(name, "server")]


@pytest.mark.parametrize("transport", ["websocket", "xhr-polling"])
@pytest.mark.gen_test(timeout=90)
async def test_redis_killed_and_restarted_within_the_window(
        cluster: List[Any], redis_server: RedisServer, node_clients: Any, transport: str) -> None:
    a, b = cluster
    clients = await node_clients()
    try:
        for name, proc in (("a_one", a), ("a_two", a), ("b_one", b)):
            await clients.connect(name, proc.url + "/?rooms=lobby", transport)
        await ctl(a, "emit", room="lobby", text="warm")
        await clients.received("b_one", "server")
        for proc in (a, b):  # each has counted the other: after the outage it waits for it
            await until_stats(proc, lambda s: s["peers"] == 2, "both processes counted")

        redis_server.kill()
        for proc in (a, b):
            await until_stats(proc, lambda s: s["broker_connected"] == 0, "broker lost")
        for i in range(5):
            assert (await ctl(a, "emit", room="lobby", text="a%d" % i))["sent"] == 2
            assert (await ctl(b, "emit", room="lobby", text="b%d" % i))["sent"] == 1
        # local delivery went on while Redis was away
        for name in ("a_one", "a_two"):
            await clients.received(name, "server", 6)
            assert texts(clients, name) == ["warm", "a0", "a1", "a2", "a3", "a4"]
        await clients.received("b_one", "server", 6)
        assert texts(clients, "b_one") == ["warm", "b0", "b1", "b2", "b3", "b4"]

        redis_server.start()
        for proc in (a, b):
            stats = await until_stats(proc, lambda s: s["broker_connected"] == 1, "broker back")
            assert stats["listener_alive"] and stats["broker_dropped"] == 0
        # what was published during the outage arrives, in order, once; then a marker
        await clients.received("b_one", "server", 11)
        await ctl(a, "emit", room="lobby", text="a-after")
        await ctl(b, "emit", room="lobby", text="b-after")
        for name in ("a_one", "a_two", "b_one"):
            await clients.received(name, "server", 13)
        a_sent = ["a0", "a1", "a2", "a3", "a4", "a-after"]
        b_sent = ["b0", "b1", "b2", "b3", "b4", "b-after"]
        for name in ("a_one", "a_two", "b_one"):
            got = texts(clients, name)
            assert [t for t in got if t.startswith("a")] == a_sent, (name, got)
            assert [t for t in got if t.startswith("b")] == b_sent, (name, got)
            assert len(got) == 13, (name, got)  # nothing twice
        assert clients.of("a_one", "disconnect") == clients.of("b_one", "disconnect") == []
    finally:
        await clients.close()


@pytest.mark.gen_test(timeout=90)
async def test_publishes_older_than_the_window_are_dropped_counted_and_logged_once(
        redis_server: RedisServer, node_clients: Any, tmp_path: Path) -> None:
    a, b = start_processes([
        {"node": "a1", "broker": redis_server.url, "extra": ["--window", "0.5"]},
        {"node": "b2", "broker": redis_server.url, "extra": ["--window", "0.5"]}], tmp_path)
    clients = await node_clients()
    try:
        await clients.connect("a_one", a.url + "/?rooms=lobby", "websocket")
        await clients.connect("b_one", b.url + "/?rooms=lobby", "websocket")
        for proc in (a, b):
            await until_stats(proc, lambda s: s["peers"] == 2, "both processes counted")
        redis_server.kill()
        await until_stats(a, lambda s: s["broker_connected"] == 0, "broker lost")
        for i in range(3):
            await ctl(a, "emit", room="lobby", text="old%d" % i)
        await clients.received("a_one", "server", 3)
        await asyncio.sleep(1.0)  # the outage outlasts the 0.5 s window
        redis_server.start()
        stats = await until_stats(a, lambda s: s["broker_connected"] == 1, "broker back")
        assert stats["broker_dropped"] == 3
        await until_stats(b, lambda s: s["broker_connected"] == 1, "broker back")
        await ctl(a, "emit", room="lobby", text="new")
        assert await clients.received("b_one", "server") == [["new", "a1"]]
        log = a.logs()
        assert log.count("dropping publishes") == 1, log
        assert redis_server.url.split("//")[1] in log
    finally:
        await clients.close()
        for proc in (a, b):
            proc.stop()


@pytest.mark.gen_test(timeout=30)
async def test_unreachable_redis_at_start_is_an_error_naming_the_url() -> None:
    url = "redis://:secret@127.0.0.1:%d/0" % free_port()  # nothing listens there
    router = TornadioRouter(object, {"broker_url": url, "client_path": None})  # type: ignore
    with pytest.raises(BrokerUnavailable) as error:
        await router.start()
    assert "redis://:***@127.0.0.1:" in str(error.value)
    assert "secret" not in str(error.value)
    router.stop()
    await router.wait_closed()


@pytest.mark.gen_test(timeout=30)
async def test_degraded_start_connects_when_redis_comes(redis_binary: str,
                                                        tmp_path: Path) -> None:
    server = RedisServer(redis_binary, tmp_path / "late")
    router = TornadioRouter(object, {"broker_url": server.url,  # type: ignore
                                     "broker_start_degraded": True, "client_path": None})
    try:
        await router.start()
        assert router.stats.dump()["broker_connected"] == 0
        router.close_room("lobby")  # kept for the window, sent when Redis comes
        server.start()
        for _ in range(int(WAIT / 0.05)):
            if router.stats.broker_connected:
                break
            await asyncio.sleep(0.05)
        assert router.stats.dump()["broker_connected"] == 1
    finally:
        router.stop()
        await router.wait_closed()
        server.stop()


def start_sentinel(redis_server: RedisServer, redis_binary: str, tmp_path: Path) -> Any:
    """A real Redis Sentinel watching ``redis_server`` as ``mymaster``: (process, port)."""
    port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster 127.0.0.1 %d 1\n"
                    % (port, tmp_path, redis_server.port), encoding="utf-8")
    sentinel = subprocess.Popen([redis_binary, str(conf), "--sentinel"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
    except BaseException:
        stop_pid(sentinel)
        raise
    return sentinel, port


@pytest.mark.gen_test(timeout=30)
async def test_sentinel_url_finds_the_master(redis_server: RedisServer, redis_binary: str,
                                             tmp_path: Path) -> None:
    """``redis+sentinel://`` asks a real Redis Sentinel for the master, then subscribes there."""
    sentinel, port = start_sentinel(redis_server, redis_binary, tmp_path)
    received: List[Dict[str, Any]] = []
    got = asyncio.Event()
    broker = RedisBroker("redis+sentinel://127.0.0.1:%d/mymaster" % port)
    try:
        await broker.start(lambda message: (received.append(message), got.set()))
        emitter = Emitter(redis_server.url)  # publishes straight to the master
        assert emitter.close_room("lobby") == 1
        emitter.close()
        await asyncio.wait_for(got.wait(), WAIT)
        assert received[0]["method"] == "close_room" and received[0]["room"] == "lobby"
    finally:
        broker.stop()
        await broker.wait_closed()
        stop_pid(sentinel)


@pytest.mark.gen_test(timeout=30)
async def test_blocking_emitter_over_sentinel_closes_its_sentinel_connections(
        redis_server: RedisServer, redis_binary: str, tmp_path: Path) -> None:
    from tornadio2.redisbroker import redis_client

    sentinel, port = start_sentinel(redis_server, redis_binary, tmp_path)
    watcher = redis_client("redis://127.0.0.1:%d" % port)
    try:
        alone = len(watcher.client_list())
        emitter = Emitter("redis+sentinel://127.0.0.1:%d/mymaster" % port)
        assert emitter.close_room("lobby") == 0  # asked the sentinel for the master, then published
        assert len(watcher.client_list()) > alone
        emitter.close()
        for _ in range(int(WAIT / 0.05)):  # the sentinel notices the closed socket soon after
            if len(watcher.client_list()) == alone:
                break
            await asyncio.sleep(0.05)
        assert len(watcher.client_list()) == alone
    finally:
        watcher.close()
        stop_pid(sentinel)


@pytest.mark.gen_test(timeout=30)
async def test_a_router_nobody_started_connects_with_its_first_session(
        redis_server: RedisServer) -> None:
    from tornadio2 import SocketConnection
    from tornadio2.session import ConnectionInfo

    router = TornadioRouter(SocketConnection, {"broker_url": redis_server.url,
                                               "client_path": None, "node_id": "n1"})
    try:
        session = await router.create_session(ConnectionInfo("127.0.0.1", {}, None))
        assert session is not None and session.sid.startswith("n1.")
        for _ in range(int(WAIT / 0.05)):
            if router.stats.broker_connected:
                break
            await asyncio.sleep(0.05)
        assert router.stats.dump()["broker_connected"] == 1
    finally:
        router.stop()
        await router.wait_closed()


@pytest.mark.gen_test(timeout=30)
async def test_a_batch_sent_again_is_applied_once(redis_server: RedisServer) -> None:
    """What a failed pipeline had already delivered, sent again, is not applied twice."""
    from tornadio2.broker import close_room_message
    from tornadio2.redisbroker import redis_client

    applied: List[Dict[str, Any]] = []
    changed = asyncio.Event()

    def apply(message: Dict[str, Any]) -> None:
        applied.append(message)
        changed.set()

    async def until_applied(count: int) -> None:
        while len(applied) < count:
            changed.clear()
            await asyncio.wait_for(changed.wait(), WAIT)

    sender, receiver = RedisBroker(redis_server.url), RedisBroker(redis_server.url)
    raw = redis_client(redis_server.url)
    wire = raw.pubsub()
    wire.subscribe(sender.channel)  # records the bytes the sender publishes
    try:
        await receiver.start(apply)
        await sender.start(lambda message: None)
        for room in ("r1", "r2", "r3"):
            sender.publish(close_room_message(room, None))
        await until_applied(3)
        published = []
        while len(published) < 3:
            item = await asyncio.to_thread(wire.get_message, timeout=WAIT)
            if item is not None and item["type"] == "message":
                published.append(item["data"])
        # The same bytes again, as the writer sends a batch whose pipeline
        # failed after Redis had taken it, then a new publish.
        for data in published:
            raw.publish(sender.channel, data)
        sender.publish(close_room_message("r4", None))
        await until_applied(4)
        assert [message["room"] for message in applied] == ["r1", "r2", "r3", "r4"]
        assert receiver.duplicates == 3
    finally:
        wire.close()
        raw.close()
        for broker in (sender, receiver):
            broker.stop()
            await broker.wait_closed()
