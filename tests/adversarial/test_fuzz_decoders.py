"""Every decoder, fed what an attacker can send, raises only ``ProtocolError``
(the RFC 6455 parser, which answers with close codes instead, never raises).

Each decoder is the place where peer bytes become values; anything but the
typed error escaping from one of them turns into a 500 or a dropped socket
somewhere above. The strategies mix wire-shaped text (packet types, ids,
endpoints, frame separators, JSON fragments, deep nesting, huge digit runs)
with arbitrary text, so that hypothesis reaches the branches a random string
would not.
"""

import json
import logging
from typing import Any, List

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.adversarial.live import ws_frame
from tests.fakes import RecordingConnection
from tornadio2 import framing, hixie76, proto, wsframe
from tornadio2.exceptions import ProtocolError

FUZZ = settings(max_examples=400, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# Pieces an attacker builds packets from.
_WIRE_BITS = st.sampled_from([
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ":", "::", ":::", "+", "/chat", "\ufffd",
    "{", "}", "[", "]", '"', '{"name":', '"args":', "null", "1e999", "-0", "\\u0000", "\\ud800",
    "9" * 12, "9" * 5000, "[" * 2000, "\x00", "\xff", "²", " ", "\r\n",
])
_WIRE_TEXT = st.lists(st.one_of(_WIRE_BITS, st.text(max_size=8)), max_size=24).map("".join)
_ANY_TEXT = st.one_of(_WIRE_TEXT, st.text(max_size=200))


def _framed(parts: List[str]) -> str:
    return "".join("\ufffd%d\ufffd%s" % (framing.utf16_len(part), part) for part in parts)


_FRAMES = st.one_of(
    _ANY_TEXT.map(lambda text: "\ufffd" + text),
    st.lists(_ANY_TEXT, min_size=1, max_size=5).map(_framed),
    st.tuples(st.lists(_ANY_TEXT, max_size=3).map(_framed), _ANY_TEXT).map("".join),
)


def _typed_only(decode: Any, *args: Any) -> None:
    try:
        decode(*args)
    except ProtocolError:
        pass


@FUZZ
@given(_ANY_TEXT)
def test_packet_decoder_raises_only_protocol_error(text: str) -> None:
    _typed_only(proto.decode_packet, text)
    _typed_only(proto.parse_packet, text)


@FUZZ
@given(_ANY_TEXT)
def test_json_event_and_ack_decoders_raise_only_protocol_error(text: str) -> None:
    _typed_only(proto.decode_json, text)
    _typed_only(proto.decode_event, text)
    _typed_only(proto.decode_ack, text)


@FUZZ
@given(st.integers(min_value=0, max_value=30000), st.sampled_from(["[", "{\"a\":", "[{\"x\":"]))
def test_deep_nesting_is_a_protocol_error(depth: int, opener: str) -> None:
    text = opener * depth
    for decode in (proto.decode_json, proto.decode_event):
        _typed_only(decode, text)
    _typed_only(proto.decode_ack, "1+" + text)


@FUZZ
@given(st.integers(min_value=1, max_value=6000))
def test_ack_ids_of_any_length_raise_only_protocol_error(digits: int) -> None:
    _typed_only(proto.decode_ack, "7" * digits + "+[1]")
    _typed_only(proto.decode_packet, "5:" + "7" * digits + "+::{}")


@FUZZ
@given(_FRAMES)
def test_payload_framing_raises_only_protocol_error(payload: str) -> None:
    _typed_only(framing.decode_frames, payload)


@FUZZ
@given(st.lists(st.text(max_size=50), min_size=1, max_size=6))
def test_payload_framing_round_trips(packets: List[str]) -> None:
    assert framing.decode_frames(_framed(packets)) == packets


_KEY = st.one_of(st.text(max_size=60), st.lists(st.sampled_from("0123456789 ²١x"), max_size=80).map("".join))


@FUZZ
@given(_KEY, _KEY, st.binary(max_size=12))
def test_hixie76_challenge_raises_only_protocol_error(key1: str, key2: str, key3: bytes) -> None:
    _typed_only(hixie76.challenge_response, key1, key2, key3)


@FUZZ
@given(st.lists(st.binary(max_size=40), max_size=8), st.integers(min_value=1, max_value=64))
def test_hixie76_frame_parser_raises_only_protocol_error(chunks: List[bytes], max_size: int) -> None:
    parser = hixie76.FrameParser(max_size)
    try:
        for chunk in chunks:
            for message in parser.feed(chunk):
                assert len(message.encode("utf-8", "surrogatepass")) <= 3 * max_size
    except ProtocolError:
        pass


class _QuietConnection(RecordingConnection):
    """Answers events it knows, ignores the rest (as an application would)."""


@FUZZ
@given(st.lists(st.one_of(_ANY_TEXT, _FRAMES), min_size=1, max_size=8))
def test_session_survives_any_frames(make_session: Any, frames: List[str]) -> None:
    """A session fed arbitrary frames never lets an exception out of its input path."""
    logging.disable(logging.WARNING)  # every frame here is bad input: logging it is tested elsewhere
    try:
        session = make_session(_QuietConnection)
        for frame in frames:
            session.receive_frame(frame)
            session.receive_frames(frame)
    finally:
        logging.disable(logging.NOTSET)


@pytest.mark.parametrize("data", [
    json.dumps({"name": "x", "args": [1]}), '{"name": 1}', '{"args": []}', "[]", '{"name": "x", "args": {}}',
])
def test_event_decoder_accepts_only_named_events_with_list_args(data: str) -> None:
    try:
        name, args = proto.decode_event(data)
    except ProtocolError:
        return
    assert isinstance(name, str) and isinstance(args, list)


def _chunks(data: bytes, cuts: List[int]) -> List[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    return [data[a:b] for a, b in zip([0] + points, points + [len(data)])]


@FUZZ
@given(st.lists(st.binary(max_size=60), max_size=10), st.integers(min_value=0, max_value=300))
def test_websocket_frame_parser_never_raises(chunks: List[bytes], max_size: int) -> None:
    """The RFC 6455 parser answers bad input with a close code, never an exception."""
    parser = wsframe.FrameParser(max_size)
    for chunk in chunks:
        for message in parser.feed(chunk):
            assert isinstance(message, (str, bytes))
    if parser.closed:
        assert parser.close_code is None or 1000 <= parser.close_code < 5000


@FUZZ
@given(st.lists(st.text(max_size=300), min_size=1, max_size=5), st.lists(st.integers(0, 5000), max_size=6))
def test_websocket_frame_parser_reads_what_a_client_wrote_in_any_chunks(messages: List[str],
                                                                       cuts: List[int]) -> None:
    wire = b"".join(ws_frame(text.encode("utf-8", "surrogatepass"), opcode=wsframe.OP_TEXT)
                    for text in messages)
    parser = wsframe.FrameParser(10_000)
    got: List[Any] = []
    for chunk in _chunks(wire, cuts):
        got.extend(parser.feed(chunk))
    if any("\ud800" <= char <= "\udfff" for text in messages for char in text):
        return  # lone surrogates are not UTF-8: a 1007 close is the right answer
    assert got == messages and not parser.closed
