"""RFC 6455 frames, sans-IO: a server-side parser and the frame encoders.

:class:`FrameParser` takes the bytes a client sent, in chunks of any size,
and gives back whole messages (``str`` for text, ``bytes`` for binary).
What the server must answer on its own (a pong for each ping, the close
reply, a close with an error code) collects in :attr:`FrameParser.outgoing`
as encoded frames; once :attr:`FrameParser.closed` is set the connection is
over and the socket is to be closed after ``outgoing`` is written.

Close codes: 1000 for a close handshake the client began (its code is
echoed), 1002 for a broken frame (an unmasked client frame, reserved bits,
an unknown opcode, a fragmented or oversized control frame, a continuation
out of place), 1007 for a text message that is not UTF-8 (checked on the
whole message, so a character split across fragments is fine), 1009 for a
message over ``max_message_size`` (checked on the frame header, before its
payload is buffered).

Unmasking is done by a function ``mask(key, data)`` given to the parser
(Tornado's C helper when it is there); :func:`mask_python` is the fallback.
This module imports nothing from Tornado or the rest of tornadio2.
"""

import struct
from typing import Callable, List, Optional, Union

__all__ = [
    "FrameParser", "Masker", "mask_python", "encode_frame", "text_frame", "close_frame",
    "OP_CONTINUATION", "OP_TEXT", "OP_BINARY", "OP_CLOSE", "OP_PING", "OP_PONG",
    "CLOSE_NORMAL", "CLOSE_PROTOCOL_ERROR", "CLOSE_NO_STATUS", "CLOSE_INVALID_DATA",
    "CLOSE_TOO_BIG",
]

OP_CONTINUATION = 0x0  #: Opcode of a message's second and later fragments.
OP_TEXT = 0x1  #: Opcode of a text message.
OP_BINARY = 0x2  #: Opcode of a binary message.
OP_CLOSE = 0x8  #: Opcode of a close frame.
OP_PING = 0x9  #: Opcode of a ping.
OP_PONG = 0xA  #: Opcode of a pong.

CLOSE_NORMAL = 1000  #: Close code: a normal close.
CLOSE_PROTOCOL_ERROR = 1002  #: Close code: the peer broke the framing rules.
CLOSE_NO_STATUS = 1005  #: What a close frame without a code means (never sent).
CLOSE_INVALID_DATA = 1007  #: Close code: a text message that is not UTF-8.
CLOSE_TOO_BIG = 1009  #: Close code: a message over the size limit.

#: ``mask(key, data)``: ``data`` XORed with the 4-byte ``key`` repeated.
Masker = Callable[[bytes, bytes], bytes]

_KNOWN_OPCODES = frozenset((OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG))
_PACK_16 = struct.Struct("!BBH").pack
_PACK_64 = struct.Struct("!BBQ").pack
_UNPACK_16 = struct.Struct("!H").unpack_from
_UNPACK_64 = struct.Struct("!Q").unpack_from


def mask_python(key: bytes, data: bytes) -> bytes:
    """XOR ``data`` with ``key`` repeated, in pure Python (one big-integer XOR)."""
    size = len(data)
    if not size:
        return b""
    stream = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "little") ^ int.from_bytes(stream, "little")).to_bytes(
        size, "little")


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """A whole (FIN) unmasked server frame of ``opcode`` carrying ``payload``."""
    size = len(payload)
    first = 0x80 | opcode
    if size < 126:
        return bytes((first, size)) + payload
    if size < 65536:
        return _PACK_16(first, 126, size) + payload
    return _PACK_64(first, 127, size) + payload


def text_frame(payload: bytes) -> bytes:
    """A text frame carrying ``payload`` (UTF-8 already)."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 65536:
        return _PACK_16(0x81, 126, size) + payload
    return _PACK_64(0x81, 127, size) + payload


def close_frame(code: Optional[int] = CLOSE_NORMAL, reason: str = "") -> bytes:
    """A close frame with ``code`` (none when ``None``) and a short ``reason``."""
    if code is None:
        return b"\x88\x00"
    return encode_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode("utf-8")[:123])


def _close_code_valid(code: int) -> bool:
    # RFC 6455 7.4: codes a peer may send (1004-1006 and 1015 are reserved).
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


class FrameParser:
    """Reads client frames; see the module docstring for what it answers."""

    __slots__ = ("max_message_size", "outgoing", "closed", "close_code", "peer_close_code",
                 "_mask", "_buffer", "_fragments", "_fragment_opcode", "_fragment_size")

    def __init__(self, max_message_size: int, mask: Optional[Masker] = None) -> None:
        self.max_message_size = max_message_size
        #: Frames the server must send back (pongs, the close), encoded.
        self.outgoing: List[bytes] = []
        #: Whether the connection is over (a close was received, or a rule broken).
        self.closed = False
        #: The code of the close frame the server sent back, once closed.
        self.close_code: Optional[int] = None
        #: The code of the client's close frame (1005 when it carried none).
        self.peer_close_code: Optional[int] = None
        self._mask = mask if mask is not None else mask_python
        self._buffer = b""
        self._fragments: List[bytes] = []
        self._fragment_opcode = 0
        self._fragment_size = 0

    def feed(self, data: bytes) -> List[Union[str, bytes]]:
        """The messages completed by ``data``, in order."""
        if self.closed:
            return []
        if self._buffer:
            data = self._buffer + data
        messages: List[Union[str, bytes]] = []
        pos = 0
        end = len(data)
        while end - pos >= 2:
            first = data[pos]
            second = data[pos + 1]
            size = second & 0x7F
            start = pos + 6  # header of a masked frame with a 7-bit length
            if size == 126:
                if end - pos < 4:
                    break
                size = _UNPACK_16(data, pos + 2)[0]
                start += 2
            elif size == 127:
                if end - pos < 10:
                    break
                size = _UNPACK_64(data, pos + 2)[0]
                start += 8
            if not self._header_ok(first, second, size):
                return messages
            stop = start + size
            if stop > end:
                break
            payload = self._mask(data[start - 4:start], data[start:stop]) if size else b""
            pos = stop
            if not self._frame(first, payload, messages):
                return messages
        self._buffer = data[pos:] if pos < end else b""
        return messages

    def _header_ok(self, first: int, second: int, size: int) -> bool:
        opcode = first & 0x0F
        if first & 0x70 or opcode not in _KNOWN_OPCODES or not second & 0x80:
            return self._fail(CLOSE_PROTOCOL_ERROR)
        if opcode & 0x08:
            if size > 125 or not first & 0x80:
                return self._fail(CLOSE_PROTOCOL_ERROR)
            return True
        if (opcode == OP_CONTINUATION) != bool(self._fragments):
            return self._fail(CLOSE_PROTOCOL_ERROR)  # a continuation of nothing, or a message cut
        if self._fragment_size + size > self.max_message_size:
            return self._fail(CLOSE_TOO_BIG)
        return True

    def _frame(self, first: int, payload: bytes, messages: List[Union[str, bytes]]) -> bool:
        opcode = first & 0x0F
        if opcode & 0x08:
            return self._control(opcode, payload)
        if not first & 0x80:
            if opcode != OP_CONTINUATION:
                self._fragment_opcode = opcode
            self._fragments.append(payload)
            self._fragment_size += len(payload)
            return True
        if opcode == OP_CONTINUATION:
            self._fragments.append(payload)
            payload = b"".join(self._fragments)
            opcode = self._fragment_opcode
            self._fragments = []
            self._fragment_size = 0
        if opcode == OP_BINARY:
            messages.append(payload)
            return True
        try:
            messages.append(payload.decode("utf-8"))
        except UnicodeDecodeError:
            return self._fail(CLOSE_INVALID_DATA)
        return True

    def _control(self, opcode: int, payload: bytes) -> bool:
        if opcode == OP_PING:
            self.outgoing.append(encode_frame(OP_PONG, payload))
            return True
        if opcode == OP_PONG:
            return True
        if not payload:
            self.peer_close_code = CLOSE_NO_STATUS
            return self._finish(None)
        if len(payload) < 2:
            return self._fail(CLOSE_PROTOCOL_ERROR)
        code = _UNPACK_16(payload)[0]
        if not _close_code_valid(code):
            return self._fail(CLOSE_PROTOCOL_ERROR)
        try:
            payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            return self._fail(CLOSE_INVALID_DATA)
        self.peer_close_code = code
        return self._finish(code)

    def _fail(self, code: int) -> bool:
        return self._finish(code)

    def _finish(self, code: Optional[int]) -> bool:
        self.outgoing.append(close_frame(code))
        self.closed = True
        self.close_code = code
        self._buffer = b""
        self._fragments = []
        return False
