"""tornadio2.gen: ordered handler calls (sync_engine) and callback adapters (Task).

The awaited work is an asyncio future per call that the test resolves by hand,
so the order of events is decided by the test, never by a clock.
"""

import asyncio
import logging

import pytest

from tornadio2 import gen


class Worker:
    """A connection stand-in whose handlers wait on futures the test controls."""

    def __init__(self):
        self.is_closed = False
        self.journal = []
        self.gates = {}
        self.started = {}

    def prepare(self, *keys):
        """Make the futures that calls with these keys wait on and announce through."""
        loop = asyncio.get_running_loop()
        for key in keys:
            self.gates[key] = loop.create_future()
            self.started[key] = loop.create_future()

    def _begin(self, key):
        self.journal.append(("start", key))
        self.started[key].set_result(None)

    def _finish(self, key, value):
        if value == "boom":
            raise RuntimeError("handler %s failed" % key)
        self.journal.append(("end", key))
        return value

    @gen.sync_engine
    async def native(self, key):
        self._begin(key)
        value = await self.gates[key]
        return self._finish(key, value)

    @gen.sync_engine
    def generator(self, key):
        self._begin(key)
        value = yield self.gates[key]
        return self._finish(key, value)


STYLES = ["native", "generator"]


def run(coro):
    return asyncio.run(coro)


def in_turn(*keys):
    """The journal of calls that ran one after another."""
    return [event for key in keys for event in (("start", key), ("end", key))]


@pytest.mark.parametrize("style", STYLES)
def test_calls_finishing_in_reverse_order_complete_in_call_order(style):
    async def scenario():
        worker = Worker()
        worker.prepare("a", "b", "c")
        method = getattr(worker, style)
        calls = [method("a"), method("b"), method("c")]
        await worker.started["a"]
        # The later calls' work is ready first; they must still wait their turn.
        worker.gates["c"].set_result("C")
        worker.gates["b"].set_result("B")
        worker.gates["a"].set_result("A")
        results = await asyncio.gather(*calls)
        return results, worker.journal

    results, journal = run(scenario())
    assert results == ["A", "B", "C"]
    assert journal == in_turn("a", "b", "c")


@pytest.mark.parametrize("style", STYLES)
def test_call_on_another_instance_runs_concurrently(style):
    async def scenario():
        slow, fast = Worker(), Worker()
        slow.prepare("a")
        fast.prepare("x")
        slow_call = getattr(slow, style)("a")
        fast_call = getattr(fast, style)("x")
        await slow.started["a"]
        await fast.started["x"]
        fast.gates["x"].set_result("X")
        fast_result = await fast_call
        slow_was_done = slow_call.done()
        slow.gates["a"].set_result("A")
        return fast_result, slow_was_done, await slow_call

    fast_result, slow_was_done, slow_result = run(scenario())
    assert fast_result == "X"
    assert slow_was_done is False
    assert slow_result == "A"


@pytest.mark.parametrize("style", STYLES)
def test_error_in_middle_call_is_logged_and_next_call_runs(style, caplog):
    async def scenario():
        worker = Worker()
        worker.prepare("a", "b", "c")
        method = getattr(worker, style)
        calls = [method("a"), method("b"), method("c")]
        worker.gates["c"].set_result("C")
        worker.gates["b"].set_result("boom")
        worker.gates["a"].set_result("A")
        results = await asyncio.gather(*calls, return_exceptions=True)
        return results, worker.journal

    with caplog.at_level(logging.ERROR, logger="tornadio2.usercode"):
        results, journal = run(scenario())

    assert results == ["A", None, "C"]
    assert journal == [
        ("start", "a"), ("end", "a"), ("start", "b"), ("start", "c"), ("end", "c"),
    ]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].name == "tornadio2.usercode"
    assert errors[0].exc_info is not None
    assert isinstance(errors[0].exc_info[1], RuntimeError)
    assert "handler b failed" in str(errors[0].exc_info[1])


@pytest.mark.parametrize("style", STYLES)
def test_calls_queued_when_connection_closes_are_dropped(style):
    async def scenario():
        worker = Worker()
        worker.prepare("a", "b", "c")
        method = getattr(worker, style)
        calls = [method("a"), method("b"), method("c")]
        await worker.started["a"]
        worker.is_closed = True
        for key in "abc":
            worker.gates[key].set_result(key.upper())
        results = await asyncio.gather(*calls)
        return results, worker.journal

    results, journal = run(scenario())
    assert results == ["A", None, None]
    assert journal == in_turn("a")


@pytest.mark.parametrize("style", STYLES)
def test_call_after_close_does_not_run(style):
    async def scenario():
        worker = Worker()
        worker.prepare("a")
        worker.is_closed = True
        worker.gates["a"].set_result("A")
        result = await getattr(worker, style)("a")
        return result, worker.journal

    assert run(scenario()) == (None, [])


def test_plain_method_calls_return_their_values_in_order():
    class Counter:
        is_closed = False

        def __init__(self):
            self.seen = []

        @gen.sync_engine
        def record(self, value):
            self.seen.append(value)
            return value * 2

    async def scenario():
        counter = Counter()
        results = await asyncio.gather(*(counter.record(n) for n in range(5)))
        return results, counter.seen

    assert run(scenario()) == ([0, 2, 4, 6, 8], [0, 1, 2, 3, 4])


def test_sync_engine_keeps_the_method_name():
    assert Worker.native.__name__ == "native"
    assert Worker.generator.__name__ == "generator"


# -- Task --------------------------------------------------------------------------

def test_task_resolves_to_the_callback_argument():
    def double(value, callback):
        callback(value * 2)

    async def scenario():
        return await gen.Task(double, 21)

    assert run(scenario()) == 42


def test_task_waits_for_a_later_callback():
    pending = []

    def fetch(url, callback, timeout=None):
        pending.append((url, timeout, callback))

    async def scenario():
        task = gen.Task(fetch, "http://127.0.0.1/x", timeout=3)
        was_done = task.done()
        url, timeout, callback = pending[0]
        callback("body")
        return was_done, url, timeout, await task

    assert run(scenario()) == (False, "http://127.0.0.1/x", 3, "body")


@pytest.mark.parametrize("values, expected", [
    ((), None),
    (("one",), "one"),
    ((1, 2), gen.Arguments((1, 2), {})),
    ((None,), None),
])
def test_task_result_from_callback_arguments(values, expected):
    def respond(callback):
        callback(*values)

    async def scenario():
        return await gen.Task(respond)

    assert run(scenario()) == expected


def test_task_result_from_keyword_callback_arguments_is_arguments():
    def respond(callback):
        callback("body", code=200)

    async def scenario():
        return await gen.Task(respond)

    assert run(scenario()) == gen.Arguments(("body",), {"code": 200})


def test_task_ignores_a_second_callback():
    def chatty(callback):
        callback("first")
        callback("second")

    async def scenario():
        return await gen.Task(chatty)

    assert run(scenario()) == "first"


def test_generator_handler_can_yield_a_task():
    class Conn:
        is_closed = False

        def __init__(self):
            self.requests = asyncio.Queue()

        def lookup(self, key, callback):
            self.requests.put_nowait((key, callback))

        @gen.sync_engine
        def handle(self, key):
            value = yield gen.Task(self.lookup, key)
            return "%s=%s" % (key, value)

    async def scenario():
        conn = Conn()
        first = conn.handle("a")
        second = conn.handle("b")
        key, callback = await conn.requests.get()
        assert key == "a" and conn.requests.empty()
        callback(1)
        key, callback = await conn.requests.get()
        assert key == "b"
        callback(2)
        return await first, await second

    assert run(scenario()) == ("a=1", "b=2")
