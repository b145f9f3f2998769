"""ACKs in both directions, as the 0.9 client expects them."""

import asyncio

from tests.fakes import FakeScheduler, FakeTransport, RecordingConnection
from tornadio2 import event
from tornadio2.session import ConnectionInfo, Session, SessionConfig


def test_plain_message_id_is_acked_before_the_message_is_handled(make_session, transport):
    session = make_session()
    session.attach(transport)
    session.receive_frames("3:5::hi")
    assert transport.packets[1:] == ["6:::5", "3:::got hi"]


def test_plain_id_on_endpoint_is_acked_on_that_endpoint(make_session, transport):
    class Main(RecordingConnection):
        __endpoints__ = {"/chat": RecordingConnection}

    session = make_session(Main)
    session.attach(transport)
    session.receive_frames("1::/chat")
    session.receive_frames("3:2:/chat:yo")
    assert transport.packets[-2:] == ["6::/chat:2", "3::/chat:got yo"]


def test_event_with_plus_gets_handler_result_as_ack_data(make_session, transport):
    session = make_session()
    session.attach(transport)
    session.receive_frames('5:4+::{"name":"add","args":[2,3]}')
    assert transport.packets[-1] == '6:::4+[5]'


def test_tuple_result_becomes_several_ack_args(make_session, transport):
    session = make_session()
    session.attach(transport)
    session.receive_frames('5:7+::{"name":"pair","args":["a",[1]]}')
    assert transport.packets[-1] == '6:::7+["a",[1]]'


def test_message_with_plus_gets_on_message_result(make_session, transport):
    session = make_session()
    session.attach(transport)
    session.receive_frames("3:9+::hey")
    assert transport.packets[-2:] == ["3:::got hey", '6:::9+["acked hey"]']


def test_none_result_sends_bare_ack(make_session, transport):
    session = make_session()
    session.attach(transport)
    session.receive_frames('5:3+::{"name":"ping","args":[1]}')
    assert transport.packets[-2:] == ['5:::{"name":"pong","args":[1]}', "6:::3"]


def test_send_with_callback_writes_plain_id_and_runs_callback_on_ack(make_session, transport):
    session = make_session()
    session.attach(transport)
    seen = []
    session.conn.send("hello", lambda msg, data: seen.append((msg, data)))
    assert transport.packets[-1] == "3:1::hello"
    session.receive_frames("6:::1")
    assert seen == [("hello", [])]


def test_emit_ack_writes_plus_and_gets_client_args(make_session, transport):
    session = make_session()
    session.attach(transport)
    seen = []
    session.conn.emit_ack(lambda msg, data: seen.append((msg, data)), "ask", "sure?")
    assert transport.packets[-1] == '5:1+::{"name":"ask","args":["sure?"]}'
    session.receive_frames('6:::1+["yes",2]')
    assert seen == [(("ask", ("sure?",), {}), ["yes", 2])]


def test_ack_ids_are_per_endpoint(make_session, transport):
    class Main(RecordingConnection):
        __endpoints__ = {"/chat": RecordingConnection}

    session = make_session(Main)
    session.attach(transport)
    session.receive_frames("1::/chat")
    seen = []
    session.conn.emit_ack(lambda m, d: seen.append(("main", d)), "a")
    session.get_endpoint("/chat").emit_ack(lambda m, d: seen.append(("chat", d)), "b")
    assert transport.packets[-2:] == ['5:1+::{"name":"a"}', '5:1+:/chat:{"name":"b"}']
    session.receive_frames('6::/chat:1+["c"]')
    session.receive_frames('6:::1+["m"]')
    assert seen == [("chat", ["c"]), ("main", ["m"])]


def test_unknown_ack_id_is_logged_and_ignored(make_session, transport, caplog):
    session = make_session()
    session.attach(transport)
    session.receive_frames('6:::99+["x"]')
    assert "unknown ack id 99" in caplog.text
    assert not session.is_closed


def _run_async(conn_class, frame):
    """Feed ``frame`` to a session of ``conn_class`` and let its coroutines run.

    Returns the session, what the client got at once and what it got in the end.
    """
    async def scenario():
        session = Session("s", conn_class, ConnectionInfo("1.1.1.1", {}, None), SessionConfig(),
                          FakeScheduler())
        await session.open()
        transport = FakeTransport()
        session.attach(transport)
        session.receive_frames(frame)
        at_once = list(transport.packets)
        for _ in range(3):
            await asyncio.sleep(0)
        return session, at_once, transport.packets

    return asyncio.run(scenario())


class AsyncAdd(RecordingConnection):
    @event
    async def slow_add(self, a, b):
        await asyncio.sleep(0)
        return a + b


class AsyncFail(RecordingConnection):
    @event
    async def fail(self):
        raise ValueError("async boom")


def test_async_event_handler_result_is_the_ack():
    _, at_once, packets = _run_async(AsyncAdd, '5:2+::{"name":"slow_add","args":[20,22]}')
    assert at_once == ["1::"]
    assert packets == ["1::", "6:::2+[42]"]


def test_async_handler_exception_is_logged_and_closes_session(caplog):
    session, _, _ = _run_async(AsyncFail, '5:1+::{"name":"fail"}')
    assert "async boom" in caplog.text
    assert session.is_closed


class AsyncMessages(RecordingConnection):
    async def on_message(self, message):
        await asyncio.sleep(0)
        if message == "explode":
            raise ValueError("async message boom")
        return "done " + message


def test_async_message_handler_result_is_the_ack_when_asked():
    session, _, packets = _run_async(AsyncMessages, "3:4+::hi")
    assert packets == ["1::", '6:::4+["done hi"]']
    assert not session.is_closed


def test_async_message_handler_result_is_dropped_without_plus():
    session, _, packets = _run_async(AsyncMessages, "3:4::hi")
    assert packets == ["1::", "6:::4"]
    assert not session.is_closed


def test_async_message_handler_exception_is_logged_and_closes_session(caplog):
    session, _, packets = _run_async(AsyncMessages, "3:::explode")
    assert "async message boom" in caplog.text
    assert session.is_closed
    assert packets[-1] == "0::"


def test_an_ack_result_that_is_not_json_closes_the_session_as_a_user_error(
        make_session, transport, caplog):
    from tornadio2 import event

    class Unserialisable(RecordingConnection):
        @event
        def give(self):
            return object()

    session = make_session(Unserialisable)
    session.attach(transport)
    with caplog.at_level("ERROR", logger="tornadio2.usercode"):
        session.receive_frames('5:1+::{"name":"give","args":[]}')
    assert session.is_closed
    assert transport.packets[-1] == "0::"
    errors = [r for r in caplog.records if r.name == "tornadio2.usercode"]
    assert len(errors) == 1 and isinstance(errors[0].exc_info[1], TypeError)
