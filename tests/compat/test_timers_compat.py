"""``periodic.Callback``, ``SessionContainer`` and the router's timers as in TornadIO2."""

import asyncio
import time

import pytest
from tornado.ioloop import IOLoop

from tornadio2 import SocketConnection, TornadioRouter
from tornadio2.periodic import Callback
from tornadio2.sessioncontainer import SessionBase, SessionContainer

#: Bound of every wait below, in seconds.
WAIT = 5


async def wait_for(predicate):
    """Await ``predicate()`` on the running loop, for at most ``WAIT`` seconds."""
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)  # yields to the loop; the predicate is the synchronisation


@pytest.mark.gen_test
async def test_callback_takes_milliseconds_and_the_loop_positionally(io_loop):
    calls = []
    timer = Callback(lambda: calls.append(time.monotonic()), 20, io_loop)
    assert (timer.callback_time, timer.io_loop, timer.next_run) == (20, io_loop, None)
    started = time.monotonic()
    timer.start()
    await wait_for(lambda: len(calls) >= 2)
    timer.stop()
    assert calls[0] - started >= 0.015  # 20 ms, not 20 s and not at once
    assert calls[1] - started < 2


@pytest.mark.gen_test
async def test_calculate_next_run_and_delay(io_loop):
    timer = Callback(lambda: None, 1500, io_loop)
    before = time.time()
    assert before + 1.5 <= timer.calculate_next_run() <= time.time() + 1.5
    timer.delay()
    assert timer.next_run is not None and timer.next_run >= before + 1.5


@pytest.mark.gen_test
async def test_a_callback_returning_a_time_sets_its_next_run(io_loop):
    calls = []

    def tick():
        calls.append(time.time())
        return time.time() + 0.01  # much sooner than the minute of its period

    timer = Callback(tick, 60000, io_loop)
    timer.start(time.time())  # the first run now
    await wait_for(lambda: len(calls) >= 3)
    timer.stop()


@pytest.mark.gen_test
async def test_start_at_a_given_time(io_loop):
    calls = []
    timer = Callback(lambda: calls.append(1) or None, 60000, io_loop)
    timer.start(time.time() + 0.01)
    await wait_for(lambda: calls)
    timer.stop()


class Item(SessionBase):
    def __init__(self, keep=False):
        super().__init__(expiry=10)
        self.keep = keep
        self.deleted = []

    def on_delete(self, forced):
        self.deleted.append(forced)
        if self.keep and not forced:
            self.expiry = 100
            self.promote()  # 100 s from now: later than the sweep's time below


def test_session_base_in_a_container_with_current_time():
    container = SessionContainer()
    gone, kept, removed = Item(), Item(keep=True), Item()
    for item in (gone, kept, removed):
        container.add(item)
    assert container.get(gone.session_id) is gone and gone.is_alive()
    assert container.remove(removed.session_id) is removed
    assert removed.deleted == [True]
    expired = container.expire(current_time=time.monotonic() + 11)
    assert expired == [gone] and gone.deleted == [False]
    assert container.get(kept.session_id) is kept and kept.deleted == [False]
    assert container.expire(current_time=time.monotonic() + 11) == []


def test_session_base_without_expiry_never_expires():
    container = SessionContainer()
    item = SessionBase("fixed-id")
    container.add(item)
    assert item.session_id == "fixed-id" and item.is_alive()
    assert container.expire(current_time=time.monotonic() + 10 ** 6) == []
    assert container.get("fixed-id") is item


@pytest.mark.gen_test
async def test_router_io_loop_and_one_stats_tick(io_loop):
    given = TornadioRouter(SocketConnection, io_loop=io_loop)
    assert given.io_loop is io_loop
    router = TornadioRouter(SocketConnection)
    assert router.io_loop is IOLoop.current()
    router.stats.start()  # as TornadIO2 applications did; the router starts it too
    timer = router.stats.periodic_callback
    router.scheduler  # the router's timers start with its first session
    assert router.stats.periodic_callback is timer and timer.callback_time == 1000
    router.stop()
    given.stop()
    assert router.stats.periodic_callback is None
