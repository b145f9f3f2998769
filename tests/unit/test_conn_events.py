"""@event registry, inheritance and the args-versus-kwargs rule."""

from tests.fakes import RecordingConnection
from tornadio2 import SocketConnection, event


def test_one_object_argument_arrives_as_keyword_arguments(make_session, transport):
    session = make_session()
    session.attach(transport)
    session.receive_frames('5:1+::{"name":"login","args":[{"user":"ann","password":"pw"}]}')
    assert session.conn.calls[-1] == ("login", "ann", "pw")
    assert transport.packets[-1] == '6:::1+["welcome ann"]'


def test_several_arguments_arrive_positionally(make_session, transport):
    session = make_session()
    session.attach(transport)
    session.receive_frames('5:::{"name":"ping","args":[{"a":1},2]}')
    assert session.conn.calls[-1] == ("ping", ({"a": 1}, 2))


def test_event_without_args_calls_handler_with_none(make_session, transport):
    session = make_session()
    session.attach(transport)
    session.receive_frames('5:::{"name":"ping"}')
    assert session.conn.calls[-1] == ("ping", ())
    assert transport.packets[-1] == '5:::{"name":"pong"}'


def test_named_event_decorator_registers_under_that_name():
    assert "pair" in RecordingConnection._events
    assert "make_pair" not in RecordingConnection._events


def test_events_are_inherited_and_can_be_overridden():
    class Base(SocketConnection):
        @event
        def hello(self):
            return "base"

        @event
        def bye(self):
            return "bye"

    class Child(Base):
        @event
        def hello(self):
            return "child"

    assert set(Child._events) == {"hello", "bye"}
    assert Child._events["hello"](None) == "child"
    assert Base._events["hello"](None) == "base"


def test_unknown_event_is_logged_not_fatal(make_session, transport, caplog):
    session = make_session()
    session.attach(transport)
    session.receive_frames('5:1+::{"name":"nope","args":[]}')
    assert "no handler for event 'nope'" in caplog.text
    assert not session.is_closed
    assert transport.packets[-1] == "6:::1"


def test_custom_on_event_receives_name_args_kwargs(make_session, transport):
    class Custom(SocketConnection):
        def on_event(self, name, args=[], kwargs={}):
            return [name, args, kwargs]

    session = make_session(Custom)
    session.attach(transport)
    session.receive_frames('5:1+::{"name":"x","args":[{"k":"v"}]}')
    assert transport.packets[-1] == '6:::1+[["x",[],{"k":"v"}]]'


def test_emit_with_keyword_arguments_sends_one_object(make_session, transport):
    session = make_session()
    session.attach(transport)
    session.conn.emit("news", title="hi", n=1)
    assert transport.packets[-1] == '5:::{"name":"news","args":[{"title":"hi","n":1}]}'


def test_json_message_reaches_on_message_decoded(make_session, transport):
    session = make_session()
    session.attach(transport)
    session.receive_frames('4:::{"a":[1,"é"]}')
    assert session.conn.calls[-1] == ("message", {"a": [1, "é"]})


def test_send_of_object_is_a_json_message(make_session, transport):
    session = make_session()
    session.attach(transport)
    session.conn.send({"x": 1})
    session.conn.send('["already", "json"]', force_json=True)
    assert transport.packets[-2:] == ['4:::{"x":1}', '4:::["already", "json"]']


def test_broadcast_encodes_once_and_reaches_every_open_connection(make_session):
    from tests.fakes import FakeTransport
    from tornadio2 import broadcast

    sessions = [make_session() for _ in range(3)]
    transports = [FakeTransport() for _ in sessions]
    for session, transport in zip(sessions, transports):
        session.attach(transport)
    sessions[1].close(send_disconnect=False)
    sent = broadcast([s.conn for s in sessions], "news", "hi", 1)
    assert sent == 2
    assert transports[0].packets[-1] == '5:::{"name":"news","args":["hi",1]}'
    assert transports[2].packets[-1] == '5:::{"name":"news","args":["hi",1]}'
    assert '5:::{"name":"news","args":["hi",1]}' not in transports[1].packets
