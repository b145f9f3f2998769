"""The payload framing of the polling transports, free of I/O.

Several packets in one polling response or POST body are framed
``\ufffdLEN\ufffdPACKET``, LEN counting UTF-16 code units as JavaScript's
``String.length`` does (an emoji counts 2); one packet goes bare. This
module owns that framing, both ways; :mod:`tornadio2.proto` re-exports its
names. It must not import Tornado or any other part of tornadio2 except
:mod:`tornadio2.exceptions`.
"""

import re
import sys
from typing import Callable, List, Optional, Sequence

from tornadio2.exceptions import ProtocolError

__all__ = ["FRAME_SEPARATOR", "utf16_len", "encode_frames", "decode_frames"]

#: Starts every frame of a polling payload that carries several packets.
FRAME_SEPARATOR = "\ufffd"

#: Longest length prefix accepted in a framed payload (10 digits is > 1 GB).
_MAX_LENGTH_DIGITS = 10
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")
_UTF16 = "utf-16-le" if sys.byteorder == "little" else "utf-16-be"


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (JavaScript's ``String.length``)."""
    if text.isascii():
        return len(text)
    return len(text.encode(_UTF16, "surrogatepass")) // 2


def encode_frames(packets: Sequence[str]) -> str:
    """Join encoded packets into one payload (text); a single packet goes bare.

    The result is a ``str``, ``''`` for no packets: transports encode it when
    they write it (:func:`tornadio2.proto.to_utf8`). TornadIO2 returned UTF-8 bytes.
    """
    if len(packets) == 1:
        return packets[0]
    return "".join(
        "\ufffd%d\ufffd%s" % (utf16_len(packet), packet) for packet in packets
    )


def decode_frames(payload: str, limit: Optional[int] = None) -> List[str]:
    """Split a payload into packet strings; a payload not framed is one packet.

    Raises :class:`ProtocolError` when the framing is broken. With ``limit``,
    reading stops after ``limit + 1`` packets: a caller that finds more than
    ``limit`` knows the payload is over its budget without paying for the rest.
    """
    stop_after = sys.maxsize if limit is None else limit + 1
    if not payload.startswith(FRAME_SEPARATOR):
        return [payload]
    if _ASTRAL_RE.search(payload) is None:
        # Only BMP characters: code points and UTF-16 code units coincide.
        return _split_frames(payload, len(payload), payload.find, payload.__getitem__, stop_after)
    raw = payload.encode(_UTF16, "surrogatepass")
    units = memoryview(raw).cast("H")
    sep = ord(FRAME_SEPARATOR)

    def find(unit: str, start: int) -> int:
        for pos in range(start, min(len(units), start + _MAX_LENGTH_DIGITS + 1)):
            if units[pos] == sep:
                return pos
        return -1

    def take(span: slice) -> str:
        return raw[2 * span.start:2 * span.stop].decode(_UTF16, "surrogatepass")

    return _split_frames(payload, len(units), find, take, stop_after)


def _split_frames(
    payload: str,
    size: int,
    find: Callable[[str, int], int],
    take: Callable[[slice], str],
    stop_after: int = sys.maxsize,
) -> List[str]:
    """Walk ``\\ufffdLEN\\ufffdPACKET`` frames over positions counted in code units."""
    packets = []
    pos = 0
    while pos < size and len(packets) < stop_after:
        if take(slice(pos, pos + 1)) != FRAME_SEPARATOR:
            raise ProtocolError("frame does not start with a separator at %d" % pos)
        digits_end = find(FRAME_SEPARATOR, pos + 1)
        digits = take(slice(pos + 1, digits_end)) if digits_end > 0 else ""
        if not (digits.isascii() and digits.isdigit()) or len(digits) > _MAX_LENGTH_DIGITS:
            raise ProtocolError("bad frame length %r" % digits[:20])
        start = digits_end + 1
        stop = start + int(digits)
        if stop > size:
            raise ProtocolError("frame longer than the payload")
        packets.append(take(slice(start, stop)))
        pos = stop
    return packets
