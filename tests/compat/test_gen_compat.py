"""``tornadio2.gen`` in TornadIO2's idioms.

TornadIO2's gen example wraps ``on_event`` with ``@gen.sync_engine`` and
returns ``super().on_event(...)``, while the ``@event`` handler is a plain
generator function yielding ``gen.Task``: the wrapped method *returns* a
generator, which the engine must drive. The first call runs at once, up to
its first wait, and the calls of one instance stay in order.
"""

import asyncio

import pytest

from tornadio2 import SocketConnection, event, gen

try:
    from tests.integration.wire import read_message
except ImportError:  # pragma: no cover
    from wire import read_message  # type: ignore[no-redef]


class QueryConnection(SocketConnection):
    """TornadIO2's gen example, with the long task released by the test."""

    waiting: "asyncio.Queue" = None  # (num, callback) of each long task started

    def long_running(self, value, callback):
        QueryConnection.waiting.put_nowait((value, lambda: callback('Handled %s.' % value)))

    @event
    def query(self, num):
        response = yield gen.Task(self.long_running, num)
        self.emit('response', response)

    @gen.sync_engine
    def on_event(self, name, *args, **kwargs):
        return super().on_event(name, *args, **kwargs)


@pytest.fixture
def connection():
    QueryConnection.waiting = asyncio.Queue()
    return QueryConnection


@pytest.mark.gen_test
async def test_generator_event_handlers_run_in_order_under_wrapped_on_event(wire):
    conn = await wire.ws_session()
    conn.write_message('5:::{"name":"query","args":[1]}')
    conn.write_message('5:::{"name":"query","args":[2]}')

    value, finish = await asyncio.wait_for(QueryConnection.waiting.get(), 5)
    assert value == 1
    assert QueryConnection.waiting.empty()  # the second query waits for the first
    finish()
    assert await read_message(conn) == '5:::{"name":"response","args":["Handled 1."]}'

    value, finish = await asyncio.wait_for(QueryConnection.waiting.get(), 5)
    assert value == 2
    finish()
    assert await read_message(conn) == '5:::{"name":"response","args":["Handled 2."]}'


class Dispatcher:
    """``on_event`` the TornadIO2 way, without a session or a loop."""

    def __init__(self):
        self.log = []
        self.callbacks = []

    def later(self, value, callback):
        self.log.append(("asked", value))
        self.callbacks.append(lambda: callback(value))

    def query(self, value):
        self.log.append(("start", value))
        answer = yield gen.Task(self.later, value)
        self.log.append(("end", answer))
        return answer

    @gen.sync_engine
    def on_event(self, name, *args):
        return getattr(self, name)(*args)


def test_first_call_runs_at_once_up_to_its_first_wait():
    dispatcher = Dispatcher()
    result = dispatcher.on_event("query", 1)
    assert dispatcher.log == [("start", 1), ("asked", 1)]
    assert not result.done()
    dispatcher.callbacks.pop()()
    assert dispatcher.log[-1] == ("end", 1)
    assert result.done() and result.result() == 1


def test_queued_calls_start_in_order_as_each_one_ends():
    dispatcher = Dispatcher()
    results = [dispatcher.on_event("query", n) for n in (1, 2, 3)]
    assert dispatcher.log == [("start", 1), ("asked", 1)]
    for _ in range(3):
        dispatcher.callbacks.pop()()
    assert [entry for entry in dispatcher.log if entry[0] == "end"] == [
        ("end", 1), ("end", 2), ("end", 3)]
    assert [r.result() for r in results] == [1, 2, 3]


def test_calls_queue_per_instance():
    first, second = Dispatcher(), Dispatcher()
    first.on_event("query", 1)
    second.on_event("query", 2)
    assert first.log == [("start", 1), ("asked", 1)]
    assert second.log == [("start", 2), ("asked", 2)]


def test_error_in_returned_generator_is_logged_and_next_call_runs(caplog):
    class Failing(Dispatcher):
        def broken(self, value):
            yield gen.Task(self.later, value)
            raise ValueError("handler failed")

    dispatcher = Failing()
    failed = dispatcher.on_event("broken", 1)
    after = dispatcher.on_event("query", 2)
    dispatcher.callbacks.pop()()
    assert failed.result() is None
    errors = [r for r in caplog.records if r.name == "tornadio2.usercode"]
    assert len(errors) == 1 and isinstance(errors[0].exc_info[1], ValueError)
    dispatcher.callbacks.pop()()
    assert after.result() == 2
