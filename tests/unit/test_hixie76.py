"""The hixie-76 draft without I/O: the handshake digest, the 101 answer, framing.

The digests are checked against the examples printed in
draft-hixie-thewebsocketprotocol-76 and against MD5 computed here with hashlib.
"""

import hashlib
import json
import pathlib
import subprocess
import sys

import pytest

from tornadio2.exceptions import ProtocolError
from tornadio2.hixie76 import (
    CLOSE_FRAME, FrameParser, challenge_response, encode_frame, handshake_response,
    is_hixie76_request,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
EMOJI = "\U0001F600"

# (key1, key2, key3, the answer the draft prints, the two numbers it derives)
DRAFT_EXAMPLES = [
    ("18x 6]8vM;54 *(5:  {   U1]8  z [  8", "1_ tx7X d  <  nw  334J702) 7]o}` 0",
     b"Tm[K T2u", b"fQJ,fN/4F4!~K~MH", 1868545188 // 12, 1733470270 // 10),
    ("4 @1  46546xW%0l 1 5", "12998 5 Y3 1  .P00",
     b"^n:ds[4U", b"8jKS'y:G*Co,Wxa-", 4146546015 // 5, 1299853100 // 5),
]


@pytest.mark.parametrize("key1,key2,key3,answer,number1,number2", DRAFT_EXAMPLES,
                         ids=["fQJ-example", "8jKS-example"])
def test_challenge_response_matches_draft_example(key1, key2, key3, answer, number1, number2):
    independent = hashlib.md5(number1.to_bytes(4, "big") + number2.to_bytes(4, "big")
                              + key3).digest()
    assert independent == answer
    assert challenge_response(key1, key2, key3) == answer


@pytest.mark.parametrize("key", [
    "12345678",            # no space to divide by
    "   ",                 # no digit
    "1 3 ",                # 13 is not a multiple of its 2 spaces
    "1" * 5000 + " ",      # a number Python's int() would refuse to read
    "\u00b2 ",             # a superscript two: str.isdigit() says yes, int() says no
], ids=["no-space", "no-digit", "remainder", "5000-digits", "superscript"])
def test_malformed_key_is_a_protocol_error(key):
    with pytest.raises(ProtocolError):
        challenge_response(key, "1 2", b"12345678")
    with pytest.raises(ProtocolError):
        challenge_response("1 2", key, b"12345678")


def test_key_number_over_32_bits_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        challenge_response("4294967296 ", "1 2", b"12345678")
    assert len(challenge_response("4294967295 ", "1 2", b"12345678")) == 16


@pytest.mark.parametrize("key3", [b"", b"1234567", b"123456789"])
def test_key3_must_be_eight_bytes(key3):
    with pytest.raises(ProtocolError):
        challenge_response("1 2", "1 2", key3)


def test_hixie76_request_is_told_apart_from_rfc6455():
    keys = {"Sec-WebSocket-Key1": "1 2", "Sec-WebSocket-Key2": "3 4"}
    assert is_hixie76_request(keys)
    assert not is_hixie76_request({**keys, "Sec-WebSocket-Version": "13"})
    assert not is_hixie76_request({"Sec-WebSocket-Key1": "1 2"})
    assert not is_hixie76_request({"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                                   "Sec-WebSocket-Version": "13"})


def test_handshake_response_is_101_headers_then_digest():
    digest = bytes(range(16))
    raw = handshake_response("http://page.example", "ws://h:1/socket.io/1/flashsocket/S", digest)
    head, _, tail = raw.partition(b"\r\n\r\n")
    assert tail == digest
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 101 ")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Upgrade"] == "WebSocket"
    assert headers["Connection"] == "Upgrade"
    assert headers["Sec-WebSocket-Origin"] == "http://page.example"
    assert headers["Sec-WebSocket-Location"] == "ws://h:1/socket.io/1/flashsocket/S"
    assert "Sec-WebSocket-Protocol" not in headers
    with_protocol = handshake_response("o", "ws://h/", digest, "chat")
    assert b"\r\nSec-WebSocket-Protocol: chat\r\n" in with_protocol


def test_frames_are_nul_utf8_ff_and_close_is_ff_nul():
    assert encode_frame("é".encode("utf-8")) == b"\x00\xc3\xa9\xff"
    assert encode_frame(b"") == b"\x00\xff"
    assert CLOSE_FRAME == b"\xff\x00"


def test_parser_returns_each_whole_message():
    parser = FrameParser(100)
    assert parser.feed(b"\x00one\xff\x00\xff\x00two") == ["one", ""]
    assert parser.feed(b"\xff") == ["two"]
    assert not parser.closed


def test_parser_reassembles_a_character_split_across_feeds():
    data = b"\x00" + ("3:::Привет " + EMOJI).encode("utf-8") + b"\xff"
    for split in range(1, len(data)):
        parser = FrameParser(100)
        got = parser.feed(data[:split]) + parser.feed(data[split:])
        assert got == ["3:::Привет " + EMOJI], split


def test_parser_accepts_byte_by_byte_input():
    parser = FrameParser(100)
    got = []
    for byte in b"\x00a" + EMOJI.encode("utf-8") + b"b\xff\x00c\xff":
        got += parser.feed(bytes([byte]))
    assert got == ["a" + EMOJI + "b", "c"]


def test_invalid_utf8_becomes_replacement_characters():
    """wire-notes#websocket: undecodable text is decoded with U+FFFD, not dropped."""
    assert FrameParser(100).feed(b"\x00a\xc3(\xff") == ["a\ufffd("]


def test_close_frame_ends_parsing():
    parser = FrameParser(100)
    assert parser.feed(b"\x00last\xff\xff") == ["last"]
    assert not parser.closed
    assert parser.feed(b"\x00\x00after\xff") == []
    assert parser.closed


def test_message_of_exactly_max_size_is_accepted():
    parser = FrameParser(5)
    assert parser.feed(b"\x00hello") == []
    assert parser.feed(b"\xff") == ["hello"]


def test_unfinished_oversize_message_is_a_protocol_error():
    parser = FrameParser(5)
    with pytest.raises(ProtocolError):
        parser.feed(b"\x00hello!")


def test_whole_oversize_message_in_one_feed_is_a_protocol_error():
    """The limit must hold however the bytes were cut into reads."""
    parser = FrameParser(5)
    with pytest.raises(ProtocolError):
        parser.feed(b"\x00hello, world\xff")


@pytest.mark.parametrize("data", [b"\x80\x05hello", b"\x01x\xff", b"a", b"\xff\x05"],
                         ids=["length-prefixed", "type-01", "no-type", "bad-close"])
def test_bad_frame_type_is_a_protocol_error(data):
    with pytest.raises(ProtocolError):
        FrameParser(100).feed(data)


def test_bad_frame_after_good_one_still_raises():
    parser = FrameParser(100)
    with pytest.raises(ProtocolError):
        parser.feed(b"\x00ok\xff\x42")


def test_module_loads_without_tornado():
    script = ("import json, sys, tornadio2.hixie76; "
              "print(json.dumps([m for m in sys.modules if m.split('.')[0] == 'tornado']))")
    out = subprocess.run([sys.executable, "-c", script], cwd=str(ROOT), check=True,
                         capture_output=True, text=True, timeout=60).stdout
    assert json.loads(out) == []
