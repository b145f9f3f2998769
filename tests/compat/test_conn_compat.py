"""``SocketConnection`` behaviours of TornadIO2 that applications relied on."""

import logging
import time

from tests.fakes import RecordingConnection
from tornadio2 import SocketConnection, event


class Base(SocketConnection):
    @event
    def ping(self):
        return "base ping"

    @event("hello")
    def greet(self):
        return "base hello"

    @event
    def kept(self):
        return "kept"


class Override(Base):
    def ping(self):  # no @event: TornadIO2 dropped the event
        return "plain method"

    def greet(self):
        return "plain greet"


class Redecorated(Override):
    @event
    def ping(self):
        return "redecorated"


def test_undecorated_override_drops_the_event(caplog):
    conn = Override.__new__(Override)
    assert set(Override._events) == {"kept"}
    with caplog.at_level(logging.WARNING, logger="tornadio2.conn"):
        assert conn.on_event("ping") is None
        assert conn.on_event("hello") is None
    assert "'ping'" in caplog.text and "'hello'" in caplog.text
    assert conn.on_event("kept") == "kept"
    assert conn.ping() == "plain method"  # still an ordinary method


def test_decorating_again_brings_the_event_back():
    conn = Redecorated.__new__(Redecorated)
    assert set(Redecorated._events) == {"ping", "kept"}
    assert conn.on_event("ping") == "redecorated"
    assert Base._events["ping"] is Base.ping  # the base is untouched


class Emitter(RecordingConnection):
    pass


def test_emit_with_args_and_kwargs_logs_and_drops_the_kwargs(make_session, transport, caplog):
    session = make_session(Emitter)
    session.attach(transport)
    with caplog.at_level(logging.ERROR):
        session.conn.emit("news", 1, 2, extra=3)
    assert transport.packets[-1] == '5:::{"name":"news","args":[1,2]}'
    assert not session.is_closed
    assert [r.levelno for r in caplog.records if r.name == "tornadio2.proto"] == [logging.ERROR]


def test_ack_id_ack_queue_and_queue_ack(make_session, transport):
    session = make_session(Emitter)
    session.attach(transport)
    conn = session.conn
    assert conn.ack_id == 1 and conn.ack_queue == {}
    answers = []
    before = time.time()
    ack_id = conn.queue_ack(lambda message, args: answers.append((message, args)), "question")
    assert ack_id == 1 and conn.ack_id == 2
    stamp, callback, message = conn.ack_queue[1]
    assert before <= stamp <= time.time() and message == "question"
    conn.send("hi", callback=lambda message, args: answers.append((message, args)))
    assert transport.packets[-1] == "3:2::hi"
    session.receive_frames("6:::1+[\"yes\"]")
    session.receive_frames("6:::2")
    assert answers == [("question", ["yes"]), ("hi", [])]
    assert conn.ack_queue == {}
    # An application that forgets a stale ACK removes its entry, as in TornadIO2.
    conn.emit_ack(lambda *a: answers.append(a), "late")
    del conn.ack_queue[3]
    session.receive_frames("6:::3")
    assert len(answers) == 2


class Refuser(RecordingConnection):
    refuse = True
    made = []

    def __init__(self, session, endpoint=None):
        super().__init__(session, endpoint)
        self.made.append(self)


class Main(RecordingConnection):
    __endpoints__ = {"/private": Refuser}


def test_refused_endpoint_gets_on_close_once(make_session, transport):
    Refuser.made.clear()
    session = make_session(Main)
    session.attach(transport)
    session.receive_frames("1::/private")
    assert transport.packets[-1] == "7::/private:2"
    [refused] = Refuser.made
    assert [call[0] for call in refused.calls] == ["open", "close"]
    assert refused.is_closed and not session.is_closed
    session.close()
    assert [call[0] for call in refused.calls] == ["open", "close"]
