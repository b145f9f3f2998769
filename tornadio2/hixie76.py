"""The hixie-76 websocket draft, free of I/O.

The Flash websocket bundled with socket.io-client 0.9 (web-socket-js) speaks
only this 2010 draft, which Tornado no longer implements: a handshake proven
by an MD5 digest over two header keys and eight body bytes, then text frames
``0x00 <utf-8> 0xFF`` and the closing frame ``0xFF 0x00``. This module computes
the handshake answer and turns bytes into messages and back; the flashsocket
handler does the reading and writing. It must not import Tornado.
"""

import hashlib
import struct
from typing import List, Mapping, Optional

from tornadio2.exceptions import ProtocolError

__all__ = ["is_hixie76_request", "check_keys", "challenge_response", "handshake_response",
           "encode_frame", "CLOSE_FRAME", "FrameParser"]

#: The frame that closes a hixie-76 connection.
CLOSE_FRAME = b"\xff\x00"
KEY3_LENGTH = 8


def is_hixie76_request(headers: Mapping[str, str]) -> bool:
    """Whether an upgrade request uses hixie-76 (two keys, no version header)."""
    return ("Sec-WebSocket-Key1" in headers and "Sec-WebSocket-Key2" in headers
            and "Sec-WebSocket-Version" not in headers)


_DIGITS = frozenset("0123456789")
#: A key's number is at most 0xFFFFFFFF times its spaces: far fewer digits than this.
_MAX_KEY_DIGITS = 20


def _key_number(key: str) -> int:
    # ASCII digits only: str.isdigit() also takes '²', which int() refuses.
    digits = "".join(char for char in key if char in _DIGITS)
    spaces = key.count(" ")
    if not digits or spaces == 0 or len(digits) > _MAX_KEY_DIGITS:
        raise ProtocolError("bad hixie-76 key %r" % key[:60])
    number, remainder = divmod(int(digits), spaces)
    if remainder or number > 0xFFFFFFFF:
        raise ProtocolError("bad hixie-76 key %r" % key[:60])
    return number


def check_keys(key1: str, key2: str) -> None:
    """Raise :class:`ProtocolError` unless both header keys can be read."""
    _key_number(key1)
    _key_number(key2)


def challenge_response(key1: str, key2: str, key3: bytes) -> bytes:
    """The 16-byte MD5 answer to the handshake's keys."""
    if len(key3) != KEY3_LENGTH:
        raise ProtocolError("hixie-76 key3 must be 8 bytes")
    challenge = struct.pack(">II", _key_number(key1), _key_number(key2)) + key3
    return hashlib.md5(challenge).digest()


def handshake_response(origin: str, location: str, digest: bytes,
                       protocol: Optional[str] = None) -> bytes:
    """The whole ``101`` answer, headers and digest."""
    lines = [
        "HTTP/1.1 101 WebSocket Protocol Handshake",
        "Upgrade: WebSocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Origin: %s" % origin,
        "Sec-WebSocket-Location: %s" % location,
    ]
    if protocol:
        lines.append("Sec-WebSocket-Protocol: %s" % protocol)
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("latin-1") + digest


def encode_frame(payload: bytes) -> bytes:
    """A text frame around already UTF-8 encoded ``payload``."""
    return b"\x00" + payload + b"\xff"


class FrameParser:
    """Feed bytes in, get whole text messages out; ``closed`` after a close frame.

    Messages are decoded once they are complete, so a character split across
    reads is never damaged. ``max_size`` bounds one message in bytes.
    """

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.closed = False
        self._buffer = bytearray()

    def feed(self, data: bytes) -> List[str]:
        """Consume ``data``; return the messages it completed."""
        self._buffer += data
        messages = []
        while self._buffer and not self.closed:
            kind = self._buffer[0]
            if kind == 0x00:
                end = self._buffer.find(b"\xff", 1)
                size = (end if end >= 0 else len(self._buffer)) - 1
                if size > self.max_size:
                    raise ProtocolError("hixie-76 message over %d bytes" % self.max_size)
                if end < 0:
                    break
                raw = bytes(self._buffer[1:end])
                del self._buffer[:end + 1]
                messages.append(raw.decode("utf-8", "replace"))
            elif kind == 0xFF:
                if len(self._buffer) < 2:
                    break
                if self._buffer[1] != 0x00:
                    raise ProtocolError("hixie-76 length-prefixed frames are not supported")
                self.closed = True
                del self._buffer[:2]
            else:
                raise ProtocolError("bad hixie-76 frame type 0x%02x" % kind)
        return messages
