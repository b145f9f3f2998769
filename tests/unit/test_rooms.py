"""Rooms: joining and leaving, the implicit rooms, sends to a room, volatile packets.

Sessions share one registry as under a router; transports are fakes, the
clock is the fake scheduler, so every end of a session can be played out.
"""

import gc
import tracemalloc

import pytest

from tests.fakes import FakeScheduler, FakeTransport, RecordingConnection
from tornadio2.rooms import ALL, RoomRegistry
from tornadio2.session import ConnectionInfo, Session, SessionConfig
from tornadio2.sessioncontainer import SessionContainer
from tornadio2.stats import StatsCollector

CONFIG = SessionConfig(heartbeat_interval=12, heartbeat_timeout=17, global_heartbeats=False,
                       session_expiry=30, poll_timeout=20, max_queue_length=100)


class Chat(RecordingConnection):
    pass


class Main(RecordingConnection):
    __endpoints__ = {"/chat": Chat}


class World:
    """A registry, a container and a clock, and sessions made on them."""

    def __init__(self):
        self.rooms = RoomRegistry()
        self.container = SessionContainer()
        self.scheduler = FakeScheduler()
        self.stats = StatsCollector()

    def session(self, transport=None, conn_class=Main):
        session = Session(self.container.new_id(), conn_class, ConnectionInfo("127.0.0.1", {}, None),
                          CONFIG, self.scheduler, self.stats, self.container.hooks, self.rooms)
        opened = session.open()
        with pytest.raises(StopIteration) as done:
            opened.send(None)  # on_open is synchronous: the coroutine ends at once
        assert done.value.value is True
        self.container.add(session)
        transport = transport if transport is not None else FakeTransport()
        session.attach(transport)
        return session, transport

    def expire(self):
        for session in self.container.expire(self.scheduler.now()):
            session.close(send_disconnect=False)

    def let_time_pass(self):
        """Drop what the clock and the container still hold for ended sessions."""
        self.scheduler.advance(CONFIG.session_expiry + 1)
        self.expire()


@pytest.fixture
def world():
    return World()


def test_a_new_connection_is_in_its_endpoint_and_its_session_id_room(world):
    session, _ = world.session()
    assert session.conn.rooms == {session.sid}
    assert world.rooms.connections() == [session.conn]
    assert world.rooms.connections(session.sid) == [session.conn]


def test_join_and_leave(world):
    session, _ = world.session()
    session.conn.join("lobby")
    assert session.conn.rooms == {session.sid, "lobby"}
    session.conn.leave("lobby")
    assert session.conn.rooms == {session.sid}
    assert ("", "lobby") not in set(world.rooms)


def test_room_emit_reaches_exactly_its_members_sender_included(world):
    (a, ta), (b, tb), (c, tc) = world.session(), world.session(), world.session()
    a.conn.join("red")
    b.conn.join("red")
    c.conn.join("blue")
    assert a.conn.to("red").emit("news", 1) == 2
    assert ta.packets[-1] == tb.packets[-1] == '5:::{"name":"news","args":[1]}'
    assert tc.packets == ["1::"]


def test_to_others_excludes_the_sender(world):
    (a, ta), (b, tb), (c, tc) = world.session(), world.session(), world.session()
    assert a.conn.to_others().send("hi") == 2
    assert ta.packets == ["1::"]
    assert tb.packets[-1] == tc.packets[-1] == "3:::hi"
    b.conn.join("red")
    a.conn.join("red")
    assert a.conn.to_others("red").send("only b") == 1
    assert tb.packets[-1] == "3:::only b"
    assert tc.packets[-1] == "3:::hi"


def test_rooms_of_different_endpoints_are_separate(world):
    (a, ta), (b, tb) = world.session(), world.session()
    a.receive_frames("1::/chat")
    b.receive_frames("1::/chat")
    chat_a = a.get_endpoint("/chat")
    chat_a.join("lobby")
    b.conn.join("lobby")  # the main endpoint's lobby: another room
    assert chat_a.to("lobby").emit("x") == 1
    assert ta.packets[-1] == '5::/chat:{"name":"x"}'
    assert tb.packets[-1] == "1::/chat"
    assert world.rooms.connections("lobby", "/chat") == [chat_a]
    assert world.rooms.connections("lobby") == [b.conn]


def test_send_to_one_client_by_session_id(world):
    (a, ta), (b, tb) = world.session(), world.session()
    assert Audience_of(world, b.sid).emit("private") == 1
    assert tb.packets[-1] == '5:::{"name":"private"}'
    assert ta.packets == ["1::"]


def Audience_of(world, room, endpoint=None):  # noqa: N802 - reads like the router's method
    from tornadio2.rooms import Audience

    return Audience(world.rooms, endpoint, room)


def test_close_room_takes_everyone_out(world):
    (a, _), (b, _) = world.session(), world.session()
    a.conn.join("red")
    b.conn.join("red")
    assert world.rooms.close_room("red") == 2
    assert "red" not in a.conn.rooms and "red" not in b.conn.rooms
    assert Audience_of(world, "red").emit("x") == 0


@pytest.mark.parametrize("end", ["client disconnect", "endpoint disconnect", "heartbeat timeout",
                                 "expiry", "server close", "endpoint closed by server"])
def test_every_room_is_left_on_every_kind_of_end(world, end):
    session, transport = world.session()
    session.receive_frames("1::/chat")
    chat = session.get_endpoint("/chat")
    session.conn.join("red")
    chat.join("red")
    if end == "client disconnect":
        session.receive_frames("0::")
    elif end == "endpoint disconnect":
        session.receive_frames("0::/chat")
    elif end == "endpoint closed by server":
        chat.close()
    elif end == "heartbeat timeout":
        session.detach(transport)
        session.attach(FakeTransport())  # a socket: heartbeats run
        world.scheduler.advance(12 + 17 + 1)
    elif end == "expiry":
        session.detach(transport)
        world.scheduler.advance(31)
        world.expire()
    else:
        session.close(send_disconnect=False)
    assert chat.rooms == frozenset()
    if end.startswith("endpoint"):
        assert session.conn.rooms == {session.sid, "red"}
        assert set(world.rooms) == {("", ALL), ("", session.sid), ("", "red")}
    else:
        assert session.conn.rooms == frozenset()
        assert set(world.rooms) == set()


def test_volatile_to_a_polling_client_without_a_waiting_get_is_dropped(world):
    session, first_get = world.session(FakeTransport(oneshot=True))
    assert first_get.packets == ["1::"]  # the GET was answered: no GET waits now
    assert session.conn.volatile.emit("tick", 1) == 0
    assert session.conn.to(session.sid).emit("tock", 2) == 1  # non-volatile waits
    get = FakeTransport(oneshot=True)
    session.attach(get)
    assert get.packets == ['5:::{"name":"tock","args":[2]}']
    assert world.stats.volatile_dropped == 1


def test_volatile_to_a_polling_client_with_a_waiting_get_is_delivered(world):
    session, _ = world.session(FakeTransport(oneshot=True))
    get = FakeTransport(oneshot=True)
    session.attach(get)
    assert get.packets == []
    assert session.conn.volatile.send("now") == 1
    assert get.packets == ["3:::now"]


def test_volatile_to_a_socket_still_writing_is_dropped(world):
    socket = FakeTransport()
    session, _ = world.session(socket)
    socket.writing = True
    assert session.conn.to_all().volatile.send("skip me") == 0
    socket.writing = False
    assert session.conn.to_all().volatile.send("take me") == 1
    assert socket.packets == ["1::", "3:::take me"]


class JoinsOnOpen(RecordingConnection):
    """Joins ``red`` in ``on_open`` (native: ``socket.join`` in the connection handler)."""

    def on_open(self, info):
        self.join("red")
        assert self.rooms == {"red"}  # not entered yet: only what it joined
        return super().on_open(info)


class RefusesAfterJoining(JoinsOnOpen):
    refuse = True


class EndpointJoinsOnOpen(RecordingConnection):
    __endpoints__ = {"/chat": JoinsOnOpen, "/vip": RefusesAfterJoining}


def test_a_room_joined_in_on_open_is_entered_when_the_connection_is_accepted(world):
    session, _ = world.session(conn_class=JoinsOnOpen)
    assert session.conn.rooms == {session.sid, "red"}
    assert world.rooms.connections("red") == [session.conn]
    other, _ = world.session(conn_class=EndpointJoinsOnOpen)
    other.receive_frames("1::/chat")
    chat = other.get_endpoint("/chat")
    assert chat.rooms == {other.sid, "red"}
    assert world.rooms.connections("red", "/chat") == [chat]


def test_a_refused_connection_joins_nothing_in_on_open(world):
    refused = Session(world.container.new_id(), RefusesAfterJoining,
                      ConnectionInfo("127.0.0.1", {}, None), CONFIG, world.scheduler, world.stats,
                      world.container.hooks, world.rooms)
    opened = refused.open()
    with pytest.raises(StopIteration) as done:
        opened.send(None)
    assert done.value.value is False
    assert refused.conn.rooms == frozenset()
    session, transport = world.session(conn_class=EndpointJoinsOnOpen)
    session.receive_frames("1::/vip")
    assert transport.packets[-1] == "7::/vip:2"  # refused: unauthorized
    assert set(world.rooms) == {("", ALL), ("", session.sid)}
    del refused, opened
    gc.collect()
    assert len(world.rooms._opening) == 0  # the refused connections' joins went with them


def test_room_names_are_strings(world):
    session, _ = world.session()
    with pytest.raises(TypeError):
        session.conn.join(7)


def test_ten_thousand_join_leave_disconnect_cycles_leave_nothing_behind(world):
    def cycle(i):
        session, _ = world.session()
        session.conn.join("room-%d" % (i % 10))
        session.conn.join("shared")
        if i % 3 == 0:
            session.conn.leave("shared")
        session.receive_frames("0::")

    for i in range(1000):  # warm up: caches, interned strings, allocator pools
        cycle(i)
    world.let_time_pass()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(10000):
            cycle(i)
            if i % 1000 == 999:
                world.let_time_pass()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(world.rooms) == 0
    assert len(world.container) == 0
    assert after - before < 64 * 1024  # flat: well under 7 bytes a cycle
