"""The Prometheus exposition, scraped with prometheus_client's own parser after a scripted scenario.

One router serves six clients in turn, over websocket and xhr-polling: an
echo and a client disconnect, an echo, a volatile event sent and one dropped,
and a server close, a refused
handshake, a client that stops answering heartbeats, a client that
handshakes and never connects until its session expires, and a client left
with an ACK pending.
Then ``/metrics`` is fetched and every sample is compared with what the
scenario must have produced, exactly. The test waits for server-side facts
(a session's ``on_close``, counters reaching a value) through the router's
own collector, never by sleeping.
"""

import asyncio
from typing import Any, Callable, Dict, Tuple

import pytest
import tornado.web
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry
from tornado.httpclient import AsyncHTTPClient

from tornadio2 import SocketConnection, TornadioRouter, event
from tornadio2.metrics import MetricsHandler, register
from tornadio2.stats import StatsCollector
from tornadio2.testing import HandshakeError, serve

#: Seconds any wait of this test may take.
WAIT = 5.0

SETTINGS = {
    "enabled_protocols": ["websocket", "xhr-polling"],
    # One heartbeat a second on sockets, 0.2 s to answer it: only the silent
    # client lives long enough to get one.
    "heartbeat_interval": 1,
    "client_timeout": 0.2,
    "global_heartbeats": False,  # none on xhr-polling
    "xhr_polling_timeout": 30,  # no noop answers during the test
    "session_expiry": 0.3,
    "session_check_interval": 0.1,
    "client_path": None,
}


class WatchedStats(StatsCollector):
    """The router's collector, which also wakes the test when a counter changes."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def _notify(self) -> None:
        self.changed.set()

    def connection_opened(self, transport: str = "other") -> None:
        super().connection_opened(transport)
        self._notify()

    def connection_closed(self, transport: str = "other") -> None:
        super().connection_closed(transport)
        self._notify()

    async def wait_for(self, check: Callable[[], bool], what: str) -> None:
        """Return once ``check()`` holds; fail after :data:`WAIT` seconds."""
        deadline = asyncio.get_running_loop().time() + WAIT
        while not check():
            self.changed.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                pytest.fail("timed out waiting for " + what)
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def active(self, transport: str) -> int:
        return self.traffic[transport].connections_active

    def started(self, transport: str) -> int:
        return self.traffic[transport].connections_total


class ScenarioConnection(SocketConnection):
    """Echo; ``ask`` -> an event the client must acknowledge; ``shout`` -> two
    volatile events; ``bye`` -> close."""

    closed: Dict[str, "asyncio.Future[None]"] = {}

    def on_open(self, info: Any) -> Any:
        if info.get_argument("refuse"):
            return False
        self.nick = info.get_argument("nick")
        self.closed[self.nick] = asyncio.get_running_loop().create_future()
        return None

    def on_message(self, message: Any) -> None:
        self.send(message)

    @event
    def ask(self) -> None:
        self.emit_ack(lambda message, args: None, "question")

    @event
    def shout(self) -> None:
        # Over xhr-polling the first takes the held poll; the second finds
        # no poll waiting and is dropped.
        self.volatile.emit("v")
        self.volatile.emit("v")

    @event
    def bye(self) -> None:
        self.close()

    def on_close(self) -> None:
        self.closed[self.nick].set_result(None)


async def closed(nick: str) -> None:
    await asyncio.wait_for(ScenarioConnection.closed[nick], WAIT)


async def play(server: Any, stats: WatchedStats) -> None:
    """The scenario; each step waits until the server has done its part."""
    # ann, websocket: an echo (two bytes of UTF-8 for 'é'), then she disconnects.
    ann = await server.connect(query={"nick": "ann"})
    await ann.send("h\u00e9llo")
    assert await ann.receive(timeout=WAIT) == "h\u00e9llo"
    await ann.disconnect()
    await closed("ann")
    # cat, xhr-polling: an echo, volatile events, then the server closes her session.
    cat = await server.connect(transport="xhr-polling", query={"nick": "cat"})
    await cat.send("hi")
    assert await cat.receive(timeout=WAIT) == "hi"
    # GET (1::), GET (the echo), POST, and the next GET held by the server.
    await stats.wait_for(lambda: stats.started("xhr-polling") == 4
                         and stats.active("xhr-polling") == 1, "cat's next poll")
    await cat.emit("shout")
    await cat.receive_event("v", timeout=WAIT)
    # The POST, and the GET that follows the one the event took.
    await stats.wait_for(lambda: stats.started("xhr-polling") == 6
                         and stats.active("xhr-polling") == 1, "cat's poll after the event")
    await cat.emit("bye")
    await closed("cat")
    await cat.wait_disconnected(timeout=WAIT)
    await cat.close()
    # A handshake the application refuses.
    with pytest.raises(HandshakeError):
        await server.connect(query={"refuse": "1"})
    # eve, websocket, stops answering heartbeats: closed after 1 + 0.2 s.
    eve = await server.connect(query={"nick": "eve"}, answer_heartbeats=False)
    await closed("eve")
    await eve.wait_disconnected(timeout=WAIT)
    await eve.close()
    # fay handshakes and never comes back: her session expires.
    fay = server.client(query={"nick": "fay"})
    await fay.handshake(timeout=WAIT)
    await closed("fay")
    await fay.close()
    # bob, websocket, is asked a question he does not answer: one ACK pending.
    bob = await server.connect(query={"nick": "bob"})
    await bob.emit("ask")
    await bob.receive_event("question", timeout=WAIT)
    await stats.wait_for(lambda: stats.active("websocket") == 1
                         and stats.active("xhr-polling") == stats.active("other") == 0,
                         "every other connection to end")


def by_transport(websocket: int = 0, xhr: int = 0, **others: int) -> Dict[str, int]:
    values = {"websocket": websocket, "flashsocket": 0, "xhr-polling": xhr,
              "jsonp-polling": 0, "htmlfile": 0}
    values.update(others)
    return values


def expected_samples() -> Dict[Tuple[str, Tuple[Tuple[str, str], ...]], float]:
    """Every sample of the exposition after :func:`play`, by name and labels."""
    per_transport = {
        "tornadio2_sessions_active": by_transport(websocket=1, none=0),
        "tornadio2_connections_active": by_transport(websocket=1, other=0),
        # Handshakes: ann, cat, the refused one, eve, fay, bob. cat's requests:
        # GET (1::), GET (the echo), POST 3:::hi, GET (the event), POST shout,
        # GET (0::), POST bye.
        "tornadio2_connections_started_total": by_transport(websocket=3, xhr=7, other=6),
        # ann: 3:::h\u00e9llo 0::, bob: 5:::{"name":"ask"};
        # cat: 3:::hi 5:::{"name":"shout"} 5:::{"name":"bye"}.
        "tornadio2_received_packets_total": by_transport(websocket=3, xhr=3, none=0),
        "tornadio2_received_bytes_total": by_transport(websocket=10 + 3 + 18,
                                                        xhr=6 + 20 + 18),
        # ann: 1:: 3:::h\u00e9llo 0::, eve: 1:: 2::, bob: 1:: 5:1+::{"name":"question"};
        # cat: 1:: 3:::hi 5:::{"name":"v"} 0::; fay's 1:: never left (she never
        # connected a transport).
        "tornadio2_sent_packets_total": by_transport(websocket=7, xhr=4, none=0),
        "tornadio2_sent_bytes_total": by_transport(
            websocket=(3 + 10 + 3) + (3 + 3) + (3 + 25), xhr=3 + 6 + 16 + 3),
    }
    samples: Dict[Tuple[str, Tuple[Tuple[str, str], ...]], float] = {}
    for name, values in per_transport.items():
        for transport, value in values.items():
            samples[(name, (("transport", transport),))] = value
    disconnects = {"client": 1, "server": 1, "heartbeat_timeout": 1, "expiry": 1,
                   "refused": 1, "error": 0, "queue_overflow": 0, "flood": 0}
    for reason, value in disconnects.items():
        samples[("tornadio2_disconnects_total", (("reason", reason),))] = value
    for reason, value in {"unauthorized": 1, "origin": 0, "error": 0, "capacity": 0,
                          "rate": 0}.items():
        samples[("tornadio2_handshake_refusals_total", (("reason", reason),))] = value
    samples[("tornadio2_sessions_started_total", ())] = 5
    samples[("tornadio2_acks_pending", ())] = 1
    samples[("tornadio2_queue_overflows_total", ())] = 0
    samples[("tornadio2_volatile_drops_total", ())] = 1
    for name in ("packets_dropped", "payloads_refused", "opening_overflows", "write_overflows"):
        samples[("tornadio2_%s_total" % name, ())] = 0
    # the in-process broker: always connected, never drops
    samples[("tornadio2_broker_connected", ())] = 1
    samples[("tornadio2_broker_dropped_total", ())] = 0
    return samples


@pytest.mark.gen_test(timeout=30)
async def test_metrics_count_every_step_of_a_scripted_scenario():
    router = TornadioRouter(ScenarioConnection, SETTINGS)
    router.stats = stats = WatchedStats()
    registry = CollectorRegistry()
    register(router, registry)
    app = tornado.web.Application(router.apply_routes([
        (r"/metrics", MetricsHandler, {"registry": registry})]))
    async with serve(app, router=router) as server:
        await play(server, stats)
        response = await AsyncHTTPClient().fetch(server.url + "/metrics")
    assert response.headers["Content-Type"].startswith("text/plain")
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.body.decode())
        for sample in family.samples
        if sample.name.startswith("tornadio2_") and not sample.name.endswith("_created")
    }
    assert found == expected_samples()
