"""A small hixie-76 websocket client, as the Flash client of socket.io-client 0.9 speaks it.

Written from draft-hixie-thewebsocketprotocol-76, independently of
``tornadio2.hixie76``: each of the two keys is a random number times a random
count of spaces, spelled with the spaces and some non-digit noise mixed in;
key3 is 8 random bytes sent after the headers; the server proves it read the
handshake with MD5(number1 as 4 big-endian bytes + number2 + key3). Frames are
``0x00 <UTF-8> 0xFF``; ``0xFF 0x00`` closes.
"""

import asyncio
import hashlib
import os
import random
import ssl as ssl_module
from typing import Dict, List, Optional, Tuple, Union

__all__ = ["make_key", "expected_answer", "Hixie76Client", "CLOSE"]

#: What ``read_frame`` returns for the closing frame ``0xFF 0x00``.
CLOSE = object()

# U+0021-U+002F and U+003A-U+007E: printable, not a digit, not a space.
_NOISE = [chr(c) for c in range(0x21, 0x30)] + [chr(c) for c in range(0x3A, 0x7F)]
_rng = random.Random()


def make_key(rng: random.Random = _rng) -> Tuple[str, int]:
    """A ``Sec-WebSocket-Key`` value and the number the server must find in it."""
    spaces = rng.randint(1, 12)
    number = rng.randint(0, 0xFFFFFFFF // spaces)
    chars = list(str(number * spaces))
    for _ in range(rng.randint(1, 12)):
        chars.insert(rng.randint(0, len(chars)), rng.choice(_NOISE))
    for _ in range(spaces):
        chars.insert(rng.randint(1, len(chars) - 1), " ")  # never first or last
    return "".join(chars), number


def expected_answer(number1: int, number2: int, key3: bytes) -> bytes:
    """The 16 bytes a hixie-76 server must answer."""
    return hashlib.md5(number1.to_bytes(4, "big") + number2.to_bytes(4, "big") + key3).digest()


class Hixie76Client:
    """One hixie-76 connection: the handshake, then text frames both ways.

    After :meth:`connect`, ``status`` is the HTTP status; for ``101``,
    ``answer`` holds the 16 bytes the server sent and ``expected`` what they
    should be; otherwise ``body`` holds the response body.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.status = 0
        self.status_line = ""
        self.headers: Dict[str, str] = {}
        self.answer = b""
        self.expected = b""
        self.body = b""

    @classmethod
    async def connect(cls, port: int, path: str, origin: Optional[str] = "http://127.0.0.1",
                      headers: Optional[Dict[str, str]] = None,
                      ssl: Optional[ssl_module.SSLContext] = None,
                      split_key3: bool = False, timeout: float = 5.0) -> "Hixie76Client":
        """Open ``path`` on ``127.0.0.1:port``; ``split_key3`` sends key3 in a later write."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, ssl=ssl), timeout)
        client = cls(reader, writer)
        await asyncio.wait_for(client._handshake(port, path, origin, headers or {}, split_key3),
                               timeout)
        return client

    async def _handshake(self, port: int, path: str, origin: Optional[str],
                         extra: Dict[str, str], split_key3: bool) -> None:
        key1, number1 = make_key()
        key2, number2 = make_key()
        key3 = os.urandom(8)
        self.expected = expected_answer(number1, number2, key3)
        lines = ["GET %s HTTP/1.1" % path, "Upgrade: WebSocket", "Connection: Upgrade",
                 "Host: 127.0.0.1:%d" % port]
        if origin is not None:
            lines.append("Origin: %s" % origin)
        lines += ["Sec-WebSocket-Key1: %s" % key1, "Sec-WebSocket-Key2: %s" % key2]
        lines += ["%s: %s" % item for item in extra.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if split_key3:
            self.writer.write(head)
            await self.writer.drain()
            await asyncio.sleep(0.05)  # a separate TCP segment, as a slow client would send
            self.writer.write(key3)
        else:
            self.writer.write(head + key3)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        text = raw.decode("latin-1").split("\r\n")
        self.status_line = text[0]
        self.status = int(text[0].split(" ", 2)[1])
        for line in text[1:]:
            if line:
                name, _, value = line.partition(":")
                self.headers[name.strip().lower()] = value.strip()
        if self.status == 101:
            self.answer = await self.reader.readexactly(16)
        elif "content-length" in self.headers:
            self.body = await self.reader.readexactly(int(self.headers["content-length"]))

    def send(self, text: str) -> None:
        """One text frame."""
        self.send_raw(b"\x00" + text.encode("utf-8") + b"\xff")

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    def send_close(self) -> None:
        """The closing frame ``0xFF 0x00``."""
        self.send_raw(b"\xff\x00")

    async def read_frame(self, timeout: float = 5.0) -> Union[str, object, None]:
        """Next text message, :data:`CLOSE` for a closing frame, ``None`` at EOF."""

        async def read() -> Union[str, object, None]:
            kind = await self.reader.read(1)
            if not kind:
                return None
            if kind == b"\x00":
                data = await self.reader.readuntil(b"\xff")
                return data[:-1].decode("utf-8")
            if kind == b"\xff":
                second = await self.reader.readexactly(1)
                assert second == b"\x00", "bad closing frame %r" % second
                return CLOSE
            raise AssertionError("unexpected frame type %r" % kind)

        return await asyncio.wait_for(read(), timeout)

    async def read_message(self, timeout: float = 5.0) -> str:
        """Next text message; fails the test on a close or EOF."""
        frame = await self.read_frame(timeout)
        assert isinstance(frame, str), "connection closed instead of a message"
        return frame

    async def read_until_eof(self, timeout: float = 5.0) -> List[Union[str, object]]:
        """Every frame (messages and :data:`CLOSE`) until the server closes TCP."""

        async def read_all() -> List[Union[str, object]]:
            frames: List[Union[str, object]] = []
            while True:
                try:
                    frame = await self.read_frame(timeout)
                except (ConnectionError, asyncio.IncompleteReadError):
                    return frames
                if frame is None:
                    return frames
                frames.append(frame)

        return await asyncio.wait_for(read_all(), timeout)

    async def close(self) -> None:
        """Drop the TCP connection."""
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError, ssl_module.SSLError):
            pass
