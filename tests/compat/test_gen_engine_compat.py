"""``gen.engine`` (Tornado's removed decorator, as TornadIO2 re-exported it) and
the old keyed ``Callback``/``Wait``/``WaitAll`` yield points: every call runs
on its own, as soon as it is made.
"""

import asyncio

from tornadio2 import gen


class Unordered:
    def __init__(self):
        self.pending = []
        self.done = []

    def later(self, value, callback):
        self.pending.append(lambda: callback(value))

    @gen.engine
    def work(self, value):
        self.done.append((yield gen.Task(self.later, value)))


def test_engine_runs_every_call_at_once_and_they_end_in_any_order():
    unordered = Unordered()
    for n in (1, 2, 3):
        unordered.work(n)
    assert len(unordered.pending) == 3
    while unordered.pending:
        unordered.pending.pop()()
    assert unordered.done == [3, 2, 1]


def test_engine_drives_a_method_that_returns_a_generator():
    class Wrapped(Unordered):
        def handler(self, value):
            self.done.append((yield gen.Task(self.later, value)))

        @gen.engine
        def on_event(self, name, *args):
            return getattr(self, name)(*args)

    wrapped = Wrapped()
    wrapped.on_event("handler", "x")
    wrapped.pending.pop()()
    assert wrapped.done == ["x"]


def test_engine_generator_yields_asyncio_futures_and_coroutines():
    @gen.engine
    def fetch(box):
        first = yield asyncio.sleep(0, result="slept")
        future = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_result, "future")
        second = yield future
        return first, second

    async def scenario():
        return await fetch(None)

    assert asyncio.run(scenario()) == ("slept", "future")


def test_keyed_callback_and_wait_as_in_old_tornado():
    pending = []

    def later(value, callback):
        pending.append(lambda: callback(value))

    @gen.engine
    def work():
        later("a", callback=(yield gen.Callback("a")))
        later("b", callback=(yield gen.Callback("b")))
        both = yield gen.WaitAll(["a", "b"])
        later("c", callback=(yield gen.Callback("c")))
        return both, (yield gen.Wait("c"))

    result = work()
    pending.pop()()
    pending.pop()()
    assert not result.done()
    pending.pop()()
    assert result.result() == (["a", "b"], "c")


def test_waiting_for_an_unknown_key_is_an_error_in_the_generator():
    @gen.engine
    def work():
        try:
            yield gen.Wait("nothing")
        except gen.UnknownKeyError:
            return "raised"

    assert work().result() == "raised"


def test_yielding_a_list_waits_for_every_task():
    pending = []

    def later(value, callback):
        pending.append(lambda: callback(value))

    @gen.engine
    def work():
        return (yield [gen.Task(later, 1), gen.Task(later, 2)])

    result = work()
    for finish in reversed(pending):
        finish()
    assert result.result() == [1, 2]
