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


class Calls:
    """A callback that records its calls; ``await calls.reach(n)`` waits for the n-th."""

    def __init__(self, result=None):
        self.times = []
        self.result = result  # what each call returns (a function of the call count)
        self._waiting = {}

    def __call__(self):
        self.times.append(time.monotonic())
        waiter = self._waiting.pop(len(self.times), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return self.result(len(self.times)) if self.result else None

    async def reach(self, count):
        if len(self.times) < count:
            waiter = self._waiting[count] = asyncio.get_running_loop().create_future()
            await asyncio.wait_for(waiter, WAIT)


@pytest.mark.gen_test
async def test_callback_takes_milliseconds_and_the_loop_positionally(io_loop):
    calls = Calls()
    timer = Callback(calls, 20, io_loop)
    assert (timer.callback_time, timer.io_loop, timer.next_run) == (20, io_loop, None)
    started = time.monotonic()
    timer.start()
    await calls.reach(2)
    timer.stop()
    assert calls.times[0] - started >= 0.015  # 20 ms, not 20 s and not at once


@pytest.mark.gen_test
async def test_calculate_next_run_and_delay(io_loop):
    timer = Callback(lambda: None, 1500, io_loop)
    before = time.time()
    assert before + 1.5 <= timer.calculate_next_run() <= time.time() + 1.5
    timer.delay()
    assert timer.next_run is not None and timer.next_run >= before + 1.5


@pytest.mark.gen_test
async def test_a_callback_returning_a_time_sets_its_next_run(io_loop):
    # Its period is a minute; each call asks for the next one 10 ms later.
    calls = Calls(result=lambda count: time.time() + 0.01)
    timer = Callback(calls, 60000, io_loop)
    timer.start(time.time())  # the first run now
    await calls.reach(3)
    timer.stop()


@pytest.mark.gen_test
async def test_delay_pushes_the_next_run_back(io_loop):
    calls = Calls()
    timer = Callback(calls, 50, io_loop)
    started = time.monotonic()
    timer.start(time.time())  # due at once ...
    timer.delay()  # ... but pushed back to one period from now
    await calls.reach(1)
    timer.stop()
    assert calls.times[0] - started >= 0.045
    assert timer.next_run is None


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
