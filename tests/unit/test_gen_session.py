"""tornadio2.gen.sync_engine inside a session: the TornadIO2 idioms."""

import asyncio

from tests.fakes import FakeScheduler, FakeTransport
from tornadio2 import SocketConnection, event, gen
from tornadio2.session import ConnectionInfo, Session, SessionConfig


async def _run(conn_class, gate):
    session = Session("s", conn_class, ConnectionInfo("127.0.0.1", {}, None), SessionConfig(),
                      FakeScheduler())
    await session.open()
    transport = FakeTransport()
    session.attach(transport)
    session.receive_frames('\ufffd32\ufffd5:1+::{"name":"slow","args":[1]}'
                           '\ufffd32\ufffd5:2+::{"name":"fast","args":[2]}')
    for _ in range(5):
        await asyncio.sleep(0)
    gate.set_result(None)
    for _ in range(10):
        await asyncio.sleep(0)
    return [packet for packet in transport.packets if packet.startswith("6:")]


class _Events(SocketConnection):
    gate: "asyncio.Future[None]"

    @event
    async def slow(self, value):
        await self.gate
        return value

    @event
    def fast(self, value):
        return value


def test_sync_engine_on_on_event_orders_every_event_of_a_connection():
    class Ordered(_Events):
        @gen.sync_engine
        def on_event(self, name, args=[], kwargs={}):
            return super().on_event(name, args, kwargs)

    async def scenario():
        _Events.gate = asyncio.get_running_loop().create_future()
        return await _run(Ordered, _Events.gate)

    assert asyncio.run(scenario()) == ["6:::1+[1]", "6:::2+[2]"]


def test_without_sync_engine_a_fast_event_overtakes_a_slow_one():
    async def scenario():
        _Events.gate = asyncio.get_running_loop().create_future()
        return await _run(_Events, _Events.gate)

    assert asyncio.run(scenario()) == ["6:::2+[2]", "6:::1+[1]"]


def test_sync_engine_handler_that_raises_closes_the_session_like_any_handler(caplog):
    class Failing(SocketConnection):
        @gen.sync_engine
        def on_event(self, name, args=[], kwargs={}):
            return super().on_event(name, args, kwargs)

        @event
        def explode(self):
            raise RuntimeError("handler failed")

    async def scenario():
        session = Session("s", Failing, ConnectionInfo("127.0.0.1", {}, None), SessionConfig(),
                          FakeScheduler())
        await session.open()
        transport = FakeTransport()
        session.attach(transport)
        session.receive_frames('5:::{"name":"explode","args":[]}')
        for _ in range(5):
            await asyncio.sleep(0)
        return session, transport

    session, transport = asyncio.run(scenario())
    assert session.is_closed
    assert transport.packets[-1] == "0::"
    errors = [r for r in caplog.records if r.name == "tornadio2.usercode"]
    assert len(errors) == 1 and isinstance(errors[0].exc_info[1], RuntimeError)
