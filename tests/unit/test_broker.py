"""The broker seam: what an audience publishes, how another process's message is applied.

Two registries stand for two processes; a recording broker carries what one
publishes, JSON-encoded as on the wire, to the other. The Redis broker
itself runs against a real redis-server in tests/scaleout; here only its
URL helpers, which need no server.
"""

import json

import pytest

from tests.unit.test_rooms import World
from tornadio2 import broker
from tornadio2.rooms import Audience


class Recorder:
    """A shared broker that keeps what is published (as the JSON sent)."""

    shared = True

    def __init__(self):
        self.host_id = broker.new_host_id()
        self.sent = []

    def publish(self, message):
        self.sent.append(broker.encode(message, self.host_id))

    def messages(self):
        return [json.loads(text) for text in self.sent]


def two_processes():
    a, b = World(), World()
    a.rooms.broker = Recorder()
    return a, b


def carry(a, b):
    """Apply everything ``a`` published to ``b``'s rooms; how many connections were touched."""
    touched = sum(b.rooms.apply(broker.decode(text)) for text in a.rooms.broker.sent)
    a.rooms.broker.sent.clear()
    return touched


def test_local_broker_publishes_nothing_and_changes_nothing():
    world = World()
    assert isinstance(world.rooms.broker, broker.LocalBroker)
    assert world.rooms.broker.shared is False
    session, transport = world.session()
    assert Audience(world.rooms, None).emit("news", 1) == 1
    assert transport.packets[-1] == '5:::{"name":"news","args":[1]}'


def test_room_emit_is_delivered_here_at_once_and_once_over_there():
    a, b = two_processes()
    sa, ta = a.session()
    sb, tb = b.session()
    sa.conn.join("lobby")
    sb.conn.join("lobby")
    assert sa.conn.to("lobby").emit("news", 1, 2) == 1   # the local member, now
    assert ta.packets[-1] == '5:::{"name":"news","args":[1,2]}'
    [message] = a.rooms.broker.messages()
    assert message == {"method": "emit", "event": "news", "data": [1, 2], "namespace": "/",
                       "room": "lobby", "skip_sid": None, "callback": None, "volatile": False,
                       "packet": '5:::{"name":"news","args":[1,2]}',
                       "host_id": a.rooms.broker.host_id}
    assert carry(a, b) == 1
    assert tb.packets[-1] == '5:::{"name":"news","args":[1,2]}'


def test_to_others_names_the_sender_and_the_receiver_skips_it_if_it_is_there():
    a, b = two_processes()
    sa, ta = a.session()
    other, to = a.session()
    sb, tb = b.session()
    sa.conn.to_others().send("hi")
    [message] = a.rooms.broker.messages()
    assert (message["skip_sid"], message["room"], message["event"], message["data"]) == \
        (sa.sid, None, "message", ["hi"])
    assert ta.packets == ["1::"] and to.packets[-1] == "3:::hi"
    carry(a, b)
    assert tb.packets[-1] == "3:::hi"


def test_keyword_arguments_travel_as_one_object():
    a, b = two_processes()
    sa, _ = a.session()
    sa.conn.to_all().emit("kw", x=1)
    assert a.rooms.broker.messages()[0]["data"] == [{"x": 1}]


def test_own_volatile_send_is_never_published():
    a, _ = two_processes()
    sa, _ = a.session()
    sa.conn.volatile.emit("pos", 1)
    assert a.rooms.broker.sent == []


def test_a_python_socketio_message_without_packet_is_encoded_here():
    world = World()
    session, transport = world.session()
    session.conn.join("lobby")
    message = {"method": "emit", "event": "news", "data": [{"a": 1}], "namespace": "/",
               "room": "lobby", "skip_sid": None, "callback": None, "host_id": "x"}
    assert world.rooms.apply(message) == 1
    assert transport.packets[-1] == '5:::{"name":"news","args":[{"a":1}]}'
    # a list of sids to skip (python-socketio may send one)
    message.update(room=None, skip_sid=[session.sid])
    assert world.rooms.apply(message) == 0


def test_close_room_disconnect_enter_and_leave_apply_to_local_members():
    world = World()
    s1, t1 = world.session()
    s2, t2 = world.session()
    s1.conn.join("lobby")
    assert world.rooms.apply({"method": "enter_room", "sid": s2.sid, "room": "lobby",
                              "namespace": "/"}) == 1
    assert world.rooms.apply({"method": "leave_room", "sid": s1.sid, "room": "lobby",
                              "namespace": "/"}) == 1
    assert world.rooms.connections("lobby") == [s2.conn]
    assert world.rooms.apply(broker.close_room_message("lobby")) == 1
    assert world.rooms.connections("lobby") == []
    assert world.rooms.apply(broker.disconnect_message(s1.sid)) == 1
    assert s1.is_closed and not s2.is_closed
    assert world.rooms.apply(broker.disconnect_message("elsewhere.x")) == 0


@pytest.mark.parametrize("message", [
    {"method": "callback", "sid": "x", "namespace": "/", "id": 1, "args": []},
    {"method": "emit"},
    {"method": "emit", "event": "x", "data": [], "room": 5},
    {"method": "close_room", "namespace": "/"},
])
def test_unknown_or_malformed_messages_touch_nothing(message):
    world = World()
    world.session()
    assert world.rooms.apply(message) == 0


def test_decode_takes_only_objects_with_a_method():
    assert broker.decode(b'{"method":"emit"}') == {"method": "emit"}
    for data in (b"not json", b"[1]", b'{"x":1}', None, b"\x80\x04pickle"):
        assert broker.decode(data) is None


def test_endpoints_map_to_namespaces():
    assert broker.namespace_of(None) == broker.namespace_of("") == "/"
    assert broker.namespace_of("/chat") == "/chat"
    assert broker.endpoint_of("/") == broker.endpoint_of(None) == ""
    assert broker.endpoint_of("/chat") == "/chat"


def test_endpoint_sends_are_published_under_their_namespace():
    a, b = two_processes()
    sa, _ = a.session()
    sb, tb = b.session()
    sa.receive_frames("1::/chat")
    sb.receive_frames("1::/chat")
    sa.get_endpoint("/chat").to_all().emit("x")
    [message] = a.rooms.broker.messages()
    assert (message["namespace"], message["packet"]) == ("/chat", '5::/chat:{"name":"x"}')
    assert carry(a, b) == 1
    assert tb.packets[-1] == '5::/chat:{"name":"x"}'


def test_redis_url_helpers():
    from tornadio2 import redisbroker  # the test extra has redis
    assert redisbroker.redact("redis://:pw@h:1/0") == "redis://:***@h:1/0"
    assert redisbroker.redact("redis://h:1/0") == "redis://h:1/0"
    sentinels, service, kwargs = redisbroker._sentinel_parts(
        "redis+sentinel://:pw@s1:26379,s2/mymaster/2")
    assert sentinels == [("s1", 26379), ("s2", 26379)]
    assert (service, kwargs) == ("mymaster", {"db": 2, "password": "pw"})
    with pytest.raises(ValueError):
        redisbroker._sentinel_parts("redis+sentinel://s1:26379")


def test_encode_stamps_the_sequence_number_when_given():
    message = broker.close_room_message("lobby", None)
    assert "seq" not in json.loads(broker.encode(message, "h1"))
    assert json.loads(broker.encode(message, "h1", 7))["seq"] == 7


def test_a_message_that_comes_again_is_refused_per_publisher():
    seen = broker.SeenSequences()
    first = [{"method": "emit", "host_id": "a", "seq": n} for n in (1, 2, 3)]
    assert [seen.is_new(m) for m in first] == [True, True, True]
    # The batch is sent again whole after a failure, then the next publish.
    again = first + [{"method": "emit", "host_id": "a", "seq": 4}]
    assert [seen.is_new(m) for m in again] == [False, False, False, True]
    # Another publisher counts on its own.
    assert seen.is_new({"method": "emit", "host_id": "b", "seq": 1})
    # Gaps (publishes dropped in an outage) are fine.
    assert seen.is_new({"method": "emit", "host_id": "a", "seq": 9})
    assert not seen.is_new({"method": "emit", "host_id": "a", "seq": 5})


@pytest.mark.parametrize("message", [
    {"method": "emit", "host_id": "a"},                  # python-socketio: no seq
    {"method": "emit", "host_id": "a", "seq": "1"},      # not a number
    {"method": "emit", "host_id": "a", "seq": True},     # not a number either
    {"method": "emit", "seq": 1},                        # nobody's
])
def test_messages_without_a_usable_sequence_are_always_new(message):
    seen = broker.SeenSequences()
    assert seen.is_new(message) and seen.is_new(message)


def test_only_the_most_recent_publishers_are_remembered():
    seen = broker.SeenSequences(max_hosts=2)

    def new(host, seq):
        return seen.is_new({"method": "emit", "host_id": host, "seq": seq})

    assert new("a", 1) and new("b", 1) and new("a", 2)
    assert new("c", 1)  # a third publisher: "b", heard least recently, is forgotten
    assert not new("a", 2) and not new("c", 1)
    assert new("b", 1)
