"""The RFC 6455 frame codec (``tornadio2.wsframe``), fed bytes as a client writes them."""

import os
import random
import struct
from typing import List

import pytest

from tornadio2 import wsframe
from tornadio2.wsframe import FrameParser, mask_python


def client_frame(opcode: int, payload: bytes, fin: bool = True, masked: bool = True,
                 rsv: int = 0, length: int = -1) -> bytes:
    """A frame as a client sends it: masked with a random key."""
    size = len(payload) if length < 0 else length
    first = (0x80 if fin else 0) | rsv | opcode
    mask_bit = 0x80 if masked else 0
    if size < 126:
        head = bytes((first, mask_bit | size))
    elif size < 65536:
        head = struct.pack("!BBH", first, mask_bit | 126, size)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, size)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + mask_python(key, payload)


def parse_all(data: bytes, limit: int = 1 << 20, chunk: int = 0) -> tuple:
    parser = FrameParser(limit)
    messages: List[object] = []
    if chunk:
        for i in range(0, len(data), chunk):
            messages += parser.feed(data[i:i + chunk])
    else:
        messages = list(parser.feed(data))
    return parser, messages


def test_mask_python_matches_tornados_helper():
    speedups = pytest.importorskip("tornado.speedups")
    for size in (0, 1, 3, 4, 5, 125, 4097):
        data = os.urandom(size)
        assert mask_python(b"\x01\x02\x03\x04", data) == speedups.websocket_mask(
            b"\x01\x02\x03\x04", data)


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_text_sizes_round_trip(size):
    text = "x" * size
    parser, messages = parse_all(client_frame(wsframe.OP_TEXT, text.encode()))
    assert messages == [text] and not parser.closed and parser.outgoing == []


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_server_frame_headers(size):
    frame = wsframe.text_frame(b"y" * size)
    assert frame[0] == 0x81
    if size < 126:
        assert frame[1] == size and len(frame) == 2 + size
    elif size < 65536:
        assert frame[1] == 126 and struct.unpack("!H", frame[2:4])[0] == size
    else:
        assert frame[1] == 127 and struct.unpack("!Q", frame[2:10])[0] == size


def test_fragments_with_control_frames_interleaved_byte_by_byte():
    data = (client_frame(wsframe.OP_TEXT, b"hel", fin=False)
            + client_frame(wsframe.OP_PING, b"p1")
            + client_frame(wsframe.OP_CONTINUATION, b"lo ", fin=False)
            + client_frame(wsframe.OP_PONG, b"ignored")
            + client_frame(wsframe.OP_CONTINUATION, b"world")
            + client_frame(wsframe.OP_TEXT, b"next"))
    parser, messages = parse_all(data, chunk=1)
    assert messages == ["hello world", "next"]
    assert parser.outgoing == [b"\x8a\x02p1"]
    assert not parser.closed


def test_ping_answered_with_same_payload():
    payload = bytes(range(125))
    parser, _ = parse_all(client_frame(wsframe.OP_PING, payload))
    assert parser.outgoing == [wsframe.encode_frame(wsframe.OP_PONG, payload)]


def test_binary_message_is_bytes():
    _, messages = parse_all(client_frame(wsframe.OP_BINARY, b"\x00\xff"))
    assert messages == [b"\x00\xff"]


def test_client_close_is_echoed():
    parser, messages = parse_all(client_frame(wsframe.OP_CLOSE, struct.pack("!H", 1000) + b"bye")
                                 + client_frame(wsframe.OP_TEXT, b"after"))
    assert messages == [] and parser.closed
    assert parser.peer_close_code == 1000 and parser.outgoing == [b"\x88\x02\x03\xe8"]
    assert parser.feed(client_frame(wsframe.OP_TEXT, b"more")) == []


def test_empty_close_answered_without_code():
    parser, _ = parse_all(client_frame(wsframe.OP_CLOSE, b""))
    assert parser.peer_close_code == 1005 and parser.outgoing == [b"\x88\x00"]


def _closed_with(data: bytes, code: int, limit: int = 1 << 20) -> None:
    parser, _ = parse_all(data, limit)
    assert parser.closed and parser.close_code == code
    assert parser.outgoing[-1] == wsframe.close_frame(code)


@pytest.mark.parametrize("frame", [
    client_frame(wsframe.OP_TEXT, b"hi", masked=False),
    client_frame(wsframe.OP_TEXT, b"hi", rsv=0x40),
    client_frame(wsframe.OP_TEXT, b"hi", rsv=0x10),
    client_frame(0x3, b"hi"),
    client_frame(0xB, b"hi"),
    client_frame(wsframe.OP_PING, b"p", fin=False),
    client_frame(wsframe.OP_PING, b"p" * 126),
    client_frame(wsframe.OP_CONTINUATION, b"orphan"),
    client_frame(wsframe.OP_TEXT, b"a", fin=False) + client_frame(wsframe.OP_TEXT, b"b"),
    client_frame(wsframe.OP_CLOSE, b"\x03"),
    client_frame(wsframe.OP_CLOSE, struct.pack("!H", 1005)),
    client_frame(wsframe.OP_CLOSE, struct.pack("!H", 999)),
], ids=["unmasked", "rsv1", "rsv3", "opcode3", "opcodeB", "fragmented-ping", "long-ping",
        "orphan-continuation", "cut-message", "close-1-byte", "close-1005", "close-999"])
def test_protocol_errors_close_with_1002(frame):
    _closed_with(frame, 1002)


def test_invalid_utf8_closes_with_1007():
    _closed_with(client_frame(wsframe.OP_TEXT, b"\xff\xfe"), 1007)
    _closed_with(client_frame(wsframe.OP_TEXT, b"\xed\xa0\x80"), 1007)  # a surrogate


def test_utf8_split_across_fragments():
    euro = "\u20ac".encode()
    parser, messages = parse_all(client_frame(wsframe.OP_TEXT, euro[:1], fin=False)
                                 + client_frame(wsframe.OP_CONTINUATION, euro[1:]))
    assert messages == ["\u20ac"]
    _closed_with(client_frame(wsframe.OP_TEXT, euro[:1], fin=False)
                 + client_frame(wsframe.OP_CONTINUATION, b"x"), 1007)


def test_too_big_closes_with_1009_on_the_header_alone():
    head = client_frame(wsframe.OP_TEXT, b"", length=2000)[:4]  # header only, no payload yet
    _closed_with(head, 1009, limit=1000)
    _closed_with(client_frame(wsframe.OP_TEXT, b"a" * 600, fin=False)
                 + client_frame(wsframe.OP_CONTINUATION, b"b" * 600), 1009, limit=1000)
    parser, messages = parse_all(client_frame(wsframe.OP_TEXT, b"a" * 1000), limit=1000)
    assert messages == ["a" * 1000] and not parser.closed


def test_close_frame_reason_is_cut_to_fit_a_control_frame():
    frame = wsframe.close_frame(1000, "r" * 300)
    assert len(frame) == 2 + 125


def test_any_chunking_gives_the_same_messages():
    rng = random.Random(6455)
    for _ in range(200):
        alphabet = (0x41, 0xe9, 0x20ac, 0x1f600)  # 1 to 4 bytes in UTF-8
        texts = ["".join(chr(rng.choice(alphabet)) for _ in range(rng.randrange(300)))
                 for _ in range(rng.randrange(8))]
        data = b"".join(client_frame(wsframe.OP_TEXT, t.encode()) for t in texts)
        parser, messages = parse_all(data, chunk=rng.randrange(1, 64))
        assert messages == texts and not parser.closed
