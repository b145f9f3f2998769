"""The Socket.IO protocol 1 codec against literal wire strings.

Every expected string here is written by hand from the wire facts of the 0.9
client and the native server; none is produced by the codec under test.
"""

import logging

import pytest

from tornadio2 import proto
from tornadio2.exceptions import ProtocolError
from tornadio2.proto import Packet


# -- packets -------------------------------------------------------------------

# Wire strings that decode to a packet and encode back to the same string.
ROUND_TRIP = [
    ("0::", Packet(0)),
    ("0::/chat", Packet(0, "/chat")),
    ("1::", Packet(1)),
    ("1::/chat", Packet(1, "/chat")),
    ("1::/chat:?a=b", Packet(1, "/chat", "?a=b")),
    ("2::", Packet(2)),
    ("3::", Packet(3)),
    ("3:::hello", Packet(3, "", "hello")),
    ("3:1::hello", Packet(3, "", "hello", "1")),
    ("3::/news:re:abc", Packet(3, "/news", "re:abc")),
    ("3:5:/chat:hi", Packet(3, "/chat", "hi", "5")),
    ("3:::a:b:c:", Packet(3, "", "a:b:c:")),
    ("3:::line1\nline2", Packet(3, "", "line1\nline2")),
    ("3:::é😀\ufffd", Packet(3, "", "é😀\ufffd")),
    ('4:1::{"a":"b"}', Packet(4, "", '{"a":"b"}', "1")),
    ('4::/chat:{"t":"12:30"}', Packet(4, "/chat", '{"t":"12:30"}')),
    ('5:::{"name":"news","args":[1,"é😀"]}',
     Packet(5, "", '{"name":"news","args":[1,"é😀"]}')),
    ('5:1+::{"name":"ask","args":["sure?"]}',
     Packet(5, "", '{"name":"ask","args":["sure?"]}', "1", True)),
    ('5:9+::{"name":"ferret"}', Packet(5, "", '{"name":"ferret"}', "9", True)),
    ('5:12:/chat:{"name":"msg","args":["a:b"]}',
     Packet(5, "/chat", '{"name":"msg","args":["a:b"]}', "12")),
    ("6::/chat:4", Packet(6, "/chat", "4")),
    ('6:::4+["A","B"]', Packet(6, "", '4+["A","B"]')),
    ('6:::9+["woot"]', Packet(6, "", '9+["woot"]')),
    ("7:::1+0", Packet(7, "", "1+0")),
    ("7::/chat:2", Packet(7, "/chat", "2")),
    ("8::", Packet(8)),
]


@pytest.mark.parametrize("wire, packet", ROUND_TRIP, ids=[w for w, _ in ROUND_TRIP])
def test_wire_string_decodes_to_packet(wire, packet):
    assert proto.decode_packet(wire) == packet


@pytest.mark.parametrize("wire, packet", ROUND_TRIP, ids=[w for w, _ in ROUND_TRIP])
def test_packet_encodes_to_wire_string(wire, packet):
    assert proto.encode_packet(packet) == wire


# Accepted on input but written differently on output.
DECODE_ONLY = [
    ("3:::", Packet(3)),                      # empty message with its colon
    ("3:+::x", Packet(3, "", "x")),           # a '+' with no id asks for nothing
    ("5:7+:/chat:", Packet(5, "/chat", "", "7", True)),
]


@pytest.mark.parametrize("wire, packet", DECODE_ONLY, ids=[w for w, _ in DECODE_ONLY])
def test_lenient_wire_string_decodes(wire, packet):
    assert proto.decode_packet(wire) == packet


def test_empty_message_encodes_without_trailing_colon():
    assert proto.encode_packet(Packet(3, "", "")) == "3::"
    assert proto.encode_packet(Packet(3, "/chat", "")) == "3::/chat"


def test_decoded_packet_fields_are_named():
    packet = proto.decode_packet('5:3+::/x:{"name":"e"}')
    assert packet.type == proto.PacketType.EVENT == 5
    assert packet.id == "3"
    assert packet.ack_data is True
    assert packet.endpoint == ""
    assert packet.data == '/x:{"name":"e"}'


def test_packet_type_numbers_match_the_wire():
    assert list(proto.PacketType) == list(range(9))
    assert [ptype.name.lower() for ptype in proto.PacketType] == list(proto.PACKET_NAMES)


def test_tornadio2_packet_type_constants_are_the_wire_strings():
    assert (proto.DISCONNECT, proto.CONNECT, proto.HEARTBEAT, proto.MESSAGE, proto.JSON,
            proto.EVENT, proto.ACK, proto.ERROR, proto.NOOP) == tuple("012345678")
    # As TornadIO2 applications compare them: with a raw packet's first field.
    assert "5:::{}".split(":")[0] == proto.EVENT


MALFORMED = [
    "garbage",
    "9::",
    "3",
    "3:",
    "x:1::",
    "",
    ":::",
    "33:::x",
    "-1::",
    "3:a::x",
    " 3:::x",
    "3:1\u00b2::x",    # a superscript digit: str.isdigit() says yes, the wire says no
    "3:\u0663::x",     # an Arabic-Indic digit
    "3:++::x",
    "3:1+1::x",
]


@pytest.mark.parametrize("wire", MALFORMED)
def test_malformed_packet_raises_protocol_error(wire):
    with pytest.raises(ProtocolError):
        proto.decode_packet(wire)
    with pytest.raises(ProtocolError):
        proto.parse_packet(wire)


@pytest.mark.parametrize("wire", [w for w, _ in ROUND_TRIP + DECODE_ONLY])
def test_parse_packet_gives_the_packet_fields_as_a_plain_tuple(wire):
    fields = proto.parse_packet(wire)
    assert type(fields) is tuple
    assert fields == tuple(proto.decode_packet(wire))


def test_protocol_error_is_a_tornadio_error():
    from tornadio2.exceptions import TornadioError

    with pytest.raises(TornadioError):
        proto.decode_packet("garbage")


# -- packet data -----------------------------------------------------------------

@pytest.mark.parametrize("data, expected", [
    ('{"name":"ping"}', ("ping", [])),
    ('{"name":"ping","args":[]}', ("ping", [])),
    ('{"name":"add","args":[1,2]}', ("add", [1, 2])),
    ('{"name":"msg","args":[{"a":"é😀"}]}', ("msg", [{"a": "é😀"}])),
    ('{"args":[1],"name":"late"}', ("late", [1])),
])
def test_event_data_decodes_to_name_and_args(data, expected):
    assert proto.decode_event(data) == expected


@pytest.mark.parametrize("data", [
    "",
    "not json",
    "{",
    '["ping"]',
    '"ping"',
    '{"args":[1]}',
    '{"name":1}',
    '{"name":null}',
    '{"name":"x","args":{"a":1}}',
    '{"name":"x","args":"a"}',
])
def test_bad_event_data_raises_protocol_error(data):
    with pytest.raises(ProtocolError):
        proto.decode_event(data)


@pytest.mark.parametrize("data, expected", [
    ("4", (4, [])),
    ("12", (12, [])),
    ('4+["A","B"]', (4, ["A", "B"])),
    ('9+["woot"]', (9, ["woot"])),
    ("1+[]", (1, [])),
    ('3+[{"a":[1,2]},null]', (3, [{"a": [1, 2]}, None])),
])
def test_ack_data_decodes_to_id_and_args(data, expected):
    assert proto.decode_ack(data) == expected


@pytest.mark.parametrize("data", [
    "",
    "x",
    "+[1]",
    "-1",
    "4+notjson",
    '4+{"a":1}',
    '4+"a"',
    "4 ",
    "4x",
])
def test_bad_ack_data_raises_protocol_error(data):
    with pytest.raises(ProtocolError):
        proto.decode_ack(data)


@pytest.mark.parametrize("data, expected", [
    ('{"a":"b"}', {"a": "b"}),
    ("[1,2.5,null,true]", [1, 2.5, None, True]),
    ('"é😀"', "é😀"),
    ('"\\u00e9\\ud83d\\ude00"', "é😀"),
    ("12", 12),
    (' {"a" : 1} ', {"a": 1}),
])
def test_json_data_decodes(data, expected):
    assert proto.decode_json(data) == expected


@pytest.mark.parametrize("data", [
    "",
    "{",
    "{'a':1}",
    '{"a":1}x',
    "[1,]",
    "undefined",
    "NaN",
])
def test_bad_json_data_raises_protocol_error(data):
    with pytest.raises(ProtocolError):
        proto.decode_json(data)


# -- framing ---------------------------------------------------------------------

S = "\ufffd"

FRAMED = [
    # (packets, payload) — lengths are UTF-16 code units, as the 0.9 client counts.
    (["3:::hi", "1::"], S + "6" + S + "3:::hi" + S + "3" + S + "1::"),
    (["3:::x😀y", "8::"], S + "8" + S + "3:::x😀y" + S + "3" + S + "8::"),
    (["3:::a\ufffdb", "3:::c"], S + "7" + S + "3:::a\ufffdb" + S + "5" + S + "3:::c"),
    (["3:::" + S + "3" + S, "2::"],
     S + "7" + S + "3:::" + S + "3" + S + S + "3" + S + "2::"),
    (["3:::привет", "3:::мир"],
     S + "10" + S + "3:::привет" + S + "7" + S + "3:::мир"),
    (["3::", "3::"], S + "3" + S + "3::" + S + "3" + S + "3::"),
    (
        ["3:::hi", '5:::{"name":"news","args":[1]}', '6:::1+["woot"]', "6:::7", "3:::x😀y"],
        S + "6" + S + "3:::hi"
        + S + "30" + S + '5:::{"name":"news","args":[1]}'
        + S + "14" + S + '6:::1+["woot"]'
        + S + "5" + S + "6:::7"
        + S + "8" + S + "3:::x😀y",
    ),
    (["3:::😀😀😀😀😀", "3:::" + "a" * 20],
     S + "14" + S + "3:::😀😀😀😀😀" + S + "24" + S + "3:::" + "a" * 20),
]


@pytest.mark.parametrize("packets, payload", FRAMED)
def test_packets_encode_to_framed_payload(packets, payload):
    assert proto.encode_frames(packets) == payload


@pytest.mark.parametrize("packets, payload", FRAMED)
def test_framed_payload_decodes_to_packets(packets, payload):
    assert proto.decode_frames(payload) == packets


def test_emoji_frame_length_counts_two_units():
    assert proto.encode_frames(["3:::x😀y", "2::"]).startswith("\ufffd8\ufffd3:::x😀y")


@pytest.mark.parametrize("packet", ["3:::hi", "1::", "3:::x😀y", "3:::a\ufffdb", "3::"])
def test_single_packet_is_sent_bare(packet):
    assert proto.encode_frames([packet]) == packet


@pytest.mark.parametrize("payload", ["3:::hi", "2::", "3:::x😀y", "3:::a\ufffdb", ""])
def test_payload_not_starting_with_separator_is_one_packet(payload):
    assert proto.decode_frames(payload) == [payload]


def test_single_framed_packet_decodes():
    assert proto.decode_frames("\ufffd3\ufffd2::") == ["2::"]


BROKEN_FRAMES = [
    S,                                  # separator and nothing else
    S + "3",                            # no second separator
    S + "3" + S,                        # length past the end
    S + "5" + S + "3::",                # length past the end
    S + "9" + S + "3:::x😀y",           # 7 code points but 8 units: still short
    S + S + "3:::",                     # no length digits
    S + "x" + S + "3::",                # not digits
    S + "-3" + S + "3::",               # sign is not a digit
    S + " 3" + S + "3::",               # space is not a digit
    S + "٣" + S + "3::",                # Arabic-Indic three is not an ASCII digit
    S + "3" + S + "1::x",               # trailing bytes after the last frame
    S + "3" + S + "1::3::",             # second frame without separator
    S + "2" + S + "1::" + S + "1" + S,  # frame cut short, the rest misaligned
    S + "3" + S + "1::" + S + "3",      # second frame truncated
    S + "12345678901" + S + "3::",      # absurdly long length prefix
]


@pytest.mark.parametrize("payload", BROKEN_FRAMES, ids=range(len(BROKEN_FRAMES)))
def test_broken_framing_raises_protocol_error(payload):
    with pytest.raises(ProtocolError):
        proto.decode_frames(payload)


@pytest.mark.parametrize("payload", [
    S + "6" + S + "3:::x😀y" + S + "3" + S + "2::",   # length splits the emoji
    S + "6" + S + "3:::x😀",                          # 6 code points, 7 units: ends mid-emoji
    S + "5" + S + "3:::😀" + S + "3" + S + "2::",     # ends between the surrogates
])
def test_length_counted_in_code_points_raises_protocol_error(payload):
    with pytest.raises(ProtocolError):
        proto.decode_frames(payload)


@pytest.mark.parametrize("text, expected", [
    ("", 0),
    ("3:::hi", 6),
    ("é", 1),
    ("привет", 6),
    ("\ufffd", 1),
    ("😀", 2),
    ("x😀y", 4),
    ("😀😀", 4),
    ("\U0010ffff", 2),
])
def test_utf16_len_counts_code_units(text, expected):
    assert proto.utf16_len(text) == expected


# -- JSON --------------------------------------------------------------------------

@pytest.mark.parametrize("obj, expected", [
    ({"a": [1, 2], "b": None}, '{"a":[1,2],"b":null}'),
    ({"name": "x", "args": [True, False]}, '{"name":"x","args":[true,false]}'),
    (["é", "😀", "привет"], '["é","😀","привет"]'),
    ("a\"b\\c\n", '"a\\"b\\\\c\\n"'),
    ([float("nan"), float("inf"), float("-inf"), 1.5], "[null,null,null,1.5]"),
    ({"v": float("nan")}, '{"v":null}'),
    ([], "[]"),
    ("", '""'),
])
def test_json_dumps_writes_like_json_stringify(obj, expected):
    assert proto.json_dumps(obj) == expected


def test_json_load_reads_json_and_raises_value_error_otherwise():
    assert proto.json_load('{"a":[1]}') == {"a": [1]}
    with pytest.raises(ValueError):
        proto.json_load("{")


# -- TornadIO2 builders ------------------------------------------------------------

@pytest.mark.parametrize("args, kwargs, expected", [
    ((None, "hello"), {}, "3:::hello"),
    (("", "hello"), {}, "3:::hello"),
    (("/chat", "hello"), {}, "3::/chat:hello"),
    ((None, "a:b"), {}, "3:::a:b"),
    ((None, ""), {}, "3::"),
    ((None, "é😀"), {}, "3:::é😀"),
    ((None, b"bytes \xc3\xa9"), {}, "3:::bytes é"),
    ((None, "hello", 7), {}, "3:7::hello"),
    ((None, {"a": "b"}), {}, '4:::{"a":"b"}'),
    (("/chat", [1, "é"]), {}, '4::/chat:[1,"é"]'),
    ((None, {"a": 1}, 2), {}, '4:2::{"a":1}'),
    ((None, 5), {}, "4:::5"),
    ((None, None), {}, "4:::null"),
    ((None, '{"a":1}'), {"force_json": True}, '4:::{"a":1}'),
])
def test_message_builder(args, kwargs, expected):
    assert proto.message(*args, **kwargs) == expected


@pytest.mark.parametrize("endpoint", [None, "", "/chat", "/a:b"])
@pytest.mark.parametrize("text", ["hello", "a:b", ":", "é😀", "3:::x"])
def test_text_prefix_plus_text_is_the_message(endpoint, text):
    assert proto.text_prefix(endpoint) + text == proto.message(endpoint, text)


def test_text_prefix_of_the_main_connection():
    assert proto.text_prefix(None) == proto.text_prefix("") == "3:::"
    assert proto.text_prefix("/chat") == "3::/chat:"


@pytest.mark.parametrize("args, kwargs, expected", [
    ((None, "ping", None), {}, '5:::{"name":"ping"}'),
    (("/chat", "ping", None), {}, '5::/chat:{"name":"ping"}'),
    ((None, "news", None, 1, "é😀"), {}, '5:::{"name":"news","args":[1,"é😀"]}'),
    ((None, "ask", 1, "sure?"), {}, '5:1+::{"name":"ask","args":["sure?"]}'),
    ((None, "ask", "12"), {}, '5:12+::{"name":"ask"}'),
    (("/chat", "ask", 3, [1, 2]), {}, '5:3+:/chat:{"name":"ask","args":[[1,2]]}'),
    ((None, "login", None), {"user": "bob"}, '5:::{"name":"login","args":[{"user":"bob"}]}'),
    ((None, "login", 4), {"user": "bob"},
     '5:4+::{"name":"login","args":[{"user":"bob"}]}'),
])
def test_event_builder(args, kwargs, expected):
    assert proto.event(*args, **kwargs) == expected


def test_event_builder_logs_and_drops_kwargs_given_with_args(caplog):
    # TornadIO2's behaviour: the positional arguments win, the keywords are logged.
    with caplog.at_level(logging.ERROR, logger="tornadio2.proto"):
        assert proto.event(None, "x", None, 1, a=2) == '5:::{"name":"x","args":[1]}'
    assert [(r.name, r.levelno) for r in caplog.records] == [("tornadio2.proto", logging.ERROR)]
    assert "'a'" in caplog.records[0].getMessage()


@pytest.mark.parametrize("args, expected", [
    ((None, 4), "6:::4"),
    (("/chat", 4), "6::/chat:4"),
    ((None, "4"), "6:::4"),
    ((None, 9, "woot"), '6:::9+["woot"]'),
    ((None, 4, ("A", "B")), '6:::4+["A","B"]'),
    ((None, 4, ("A",)), '6:::4+["A"]'),
    ((None, 4, [1, 2]), "6:::4+[[1,2]]"),
    ((None, 4, {"a": 1}), '6:::4+[{"a":1}]'),
    (("/chat", 2, 0), "6::/chat:2+[0]"),
    ((None, 4, False), "6:::4+[false]"),
    ((None, 4, ""), '6:::4+[""]'),
    ((None, 4, None), "6:::4"),
])
def test_ack_builder(args, expected):
    assert proto.ack(*args) == expected


@pytest.mark.parametrize("args, expected", [
    ((None, "client not handshaken", "reconnect"), "7:::1+0"),
    ((None, 1, 0), "7:::1+0"),
    ((None, "1", "0"), "7:::1+0"),
    ((None, "transport not supported"), "7:::0"),
    ((None, 0), "7:::0"),
    (("/chat", "unauthorized"), "7::/chat:2"),
    (("/chat", 2), "7::/chat:2"),
    (("/chat", 2, None), "7::/chat:2"),
])
def test_error_builder_writes_numeric_indexes(args, expected):
    assert proto.error(*args) == expected


@pytest.mark.parametrize("builder, args, expected", [
    (proto.connect, (), "1::"),
    (proto.connect, (None,), "1::"),
    (proto.connect, ("/chat",), "1::/chat"),
    (proto.disconnect, (), "0::"),
    (proto.disconnect, ("/chat",), "0::/chat"),
    (proto.heartbeat, (), "2::"),
    (proto.noop, (), "8::"),
])
def test_control_packet_builders(builder, args, expected):
    assert builder(*args) == expected


# -- handshake ---------------------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    (("ef_9lmN6YQ2KijNoQAoW", 17, 25, ["websocket", "xhr-polling"]),
     "ef_9lmN6YQ2KijNoQAoW:17:25:websocket,xhr-polling"),
    (("abc", 4, 4, ["websocket", "flashsocket", "htmlfile", "xhr-polling", "jsonp-polling"]),
     "abc:4:4:websocket,flashsocket,htmlfile,xhr-polling,jsonp-polling"),
    (("abc", None, 60, ["xhr-polling"]), "abc::60:xhr-polling"),
    (("abc", 0, 60, ("xhr-polling",)), "abc:0:60:xhr-polling"),
    (("abc", 17, 25, iter(["websocket"])), "abc:17:25:websocket"),
])
def test_handshake_body(args, expected):
    assert proto.handshake_body(*args) == expected


def test_error_with_a_reason_the_client_has_no_index_for_writes_it_empty():
    # TornadIO2 apps passed free-text reasons; the 0.9 client would map them to ''.
    assert proto.error(None, "bogus reason") == "7::"
    assert proto.error("/chat", "bogus reason", "reconnect") == "7::/chat:+0"


def test_package_reaches_proto_and_gen_without_explicit_import():
    import tornadio2

    assert tornadio2.proto.noop() == "8::"
    assert callable(tornadio2.gen.sync_engine)



@pytest.mark.parametrize("data", ["[" * 100000, '{"a":' * 100000])
def test_json_nested_too_deeply_is_a_protocol_error(data):
    with pytest.raises(ProtocolError):
        proto.decode_json(data)
    with pytest.raises(ProtocolError):
        proto.decode_event('{"name":"x","args":' + data + "}")
    with pytest.raises(ValueError):
        proto.json_load(data)


def test_ack_id_of_thousands_of_digits_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        proto.decode_ack("1" * 5000)
    with pytest.raises(ProtocolError):
        proto.decode_ack("1" * 11 + "+[]")
    assert proto.decode_ack("1" * 10) == (1111111111, [])
