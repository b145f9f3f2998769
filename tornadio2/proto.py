"""Socket.IO protocol 1 codec, free of I/O.

This module owns the wire format: packets (``type:id[+]:endpoint[:data]``),
the handshake body, and JSON as the 0.9 client writes it; it re-exports the
payload framing of :mod:`tornadio2.framing`. It must not import Tornado or
any other part of tornadio2 except :mod:`tornadio2.exceptions` and
:mod:`tornadio2.framing`.

The builder functions (``message``, ``event``, ``ack`` ...) keep the names and
signatures TornadIO2 applications call.
"""

import decimal
import enum
import json
import logging
import re
from typing import Any, Dict, Iterable, NamedTuple, Optional, Tuple, Union

import simplejson

from tornadio2.exceptions import ProtocolError
from tornadio2 import framing
from tornadio2.framing import decode_frames, encode_frames, utf16_len

__all__ = [
    "PacketType", "DISCONNECT", "CONNECT", "HEARTBEAT", "MESSAGE", "JSON", "EVENT", "ACK",
    "ERROR", "NOOP", "DecimalEncoder", "json_decimal_args", "PACKET_NAMES", "FRAME_SEPARATOR",
    "REASONS", "ADVICE",
    "Packet", "parse_packet", "decode_packet", "encode_packet", "decode_frames", "encode_frames",
    "utf16_len", "decode_event", "decode_ack", "decode_json", "handshake_body",
    "json_dumps", "json_load", "to_utf8",
    "disconnect", "connect", "heartbeat", "text_prefix", "message", "event", "ack", "error", "noop",
]

logger = logging.getLogger("tornadio2.proto")


class PacketType(enum.IntEnum):
    """A packet type: the number in the first field of a packet on the wire.

    :attr:`Packet.type` and :func:`parse_packet` give plain ``int`` values,
    which compare equal to these members.
    """

    DISCONNECT = 0
    CONNECT = 1
    HEARTBEAT = 2
    MESSAGE = 3
    JSON = 4
    EVENT = 5
    ACK = 6
    ERROR = 7
    NOOP = 8


#: TornadIO2's names for the packet types: the type field as it is written on
#: the wire, a one-digit string (``EVENT == '5'``). For numbers, use :class:`PacketType`.
DISCONNECT, CONNECT, HEARTBEAT, MESSAGE, JSON, EVENT, ACK, ERROR, NOOP = (
    str(ptype.value) for ptype in PacketType)
# The numbers this module builds packets with (plain ints: no enum lookups).
_MESSAGE, _JSON, _EVENT, _ACK, _ERROR = 3, 4, 5, 6, 7
#: Packet type names, indexed by type number (for logs).
PACKET_NAMES = (
    "disconnect", "connect", "heartbeat", "message", "json", "event", "ack", "error", "noop",
)


#: Starts every frame of a polling payload that carries several packets
#: (:data:`tornadio2.framing.FRAME_SEPARATOR`).
FRAME_SEPARATOR = framing.FRAME_SEPARATOR

#: Error packets carry indexes into these tables, never the words themselves.
REASONS = ("transport not supported", "client not handshaken", "unauthorized")
#: The advice an error packet can carry, by index (0: the client should reconnect).
ADVICE = ("reconnect",)


#: Packet type by its digit on the wire.
_PACKET_TYPES = {str(ptype): ptype for ptype in range(9)}
# An ACK id counts the sender's messages: ten digits are plenty, and Python's
# int() refuses strings of more than about 4,300 digits with a ValueError.
_ACK_RE = re.compile(r"([0-9]{1,10})(?:\+(.*))?\Z", re.DOTALL)

_encoder = simplejson.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), ignore_nan=True
)
_decoder = simplejson.JSONDecoder()

#: simplejson's arguments for writing a :class:`decimal.Decimal` as a number
#: (``simplejson.dumps(value, **json_decimal_args)``); :func:`json_dumps` does it already.
json_decimal_args: Dict[str, Any] = {"use_decimal": True}


class DecimalEncoder(json.JSONEncoder):
    """A standard-library JSON encoder that writes a ``Decimal`` as a number.

    For ``json.dumps(value, cls=DecimalEncoder)``: the decimal goes through
    ``float``, so digits beyond its precision are lost (not with :func:`json_dumps`).
    """

    def default(self, o: Any) -> Any:
        if isinstance(o, decimal.Decimal):
            return float(o)
        return super().default(o)


class Packet(NamedTuple):
    """One decoded packet, with its fields as they stand on the wire.

    ``type`` is a :class:`PacketType` number; ``id`` is the message id (digits,
    ``''`` when absent) and ``ack_data`` is
    true when the id carried a ``+``: the sender wants the application's ACK
    data rather than an automatic acknowledgement. ``data`` is the raw text
    after the third colon; :func:`decode_event`, :func:`decode_ack` and
    :func:`decode_json` interpret it.
    """

    type: int
    endpoint: str = ""
    data: str = ""
    id: str = ""
    ack_data: bool = False


#: A packet's fields as a plain tuple: ``(type, endpoint, data, id, ack_data)``.
PacketFields = Tuple[int, str, str, str, bool]


# -- JSON --------------------------------------------------------------------

def json_dumps(obj: Any) -> str:
    """Encode ``obj`` as compact JSON, non-ASCII kept, NaN and infinities as null.

    This is what ``JSON.stringify`` writes, so the 0.9 client reads it as the
    native server's output.
    """
    return _encoder.encode(obj)


def json_load(text: str) -> Any:
    """Decode JSON text; raises ``ValueError`` when it is not JSON (or nested too deeply)."""
    try:
        return _decoder.decode(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def decode_json(data: str) -> Any:
    """Decode the data of a JSON packet, raising :class:`ProtocolError` if bad."""
    try:
        return _decoder.decode(data)
    except ValueError as exc:
        raise ProtocolError("invalid JSON: %s" % exc) from None
    except RecursionError:
        raise ProtocolError("JSON nested too deeply") from None


def to_utf8(text: str) -> bytes:
    """UTF-8 bytes of ``text``; a lone surrogate becomes U+FFFD, as node writes it.

    JavaScript strings may hold unpaired surrogates (an emoji cut in half);
    Python refuses to encode them, node writes the replacement character.
    """
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


# -- packets -----------------------------------------------------------------

def parse_packet(text: str) -> PacketFields:
    """Parse one packet into a plain tuple in :class:`Packet`'s field order.

    What the session reads packets with: building the tuple costs a fraction
    of building a ``Packet`` (a tuple subclass). Raises
    :class:`ProtocolError` when the packet is malformed.
    """
    parts = text.split(":", 3)
    if len(parts) == 4:
        kind, pid, endpoint, data = parts
    elif len(parts) == 3:
        kind, pid, endpoint = parts
        data = ""
    else:
        raise ProtocolError("malformed packet %r" % text[:80])
    ptype = _PACKET_TYPES.get(kind)
    if ptype is None:
        raise ProtocolError("malformed packet %r" % text[:80])
    if not pid:
        return ptype, endpoint, data, pid, False  # the common case: no id
    ack_data = False
    if pid[-1] == "+":
        pid = pid[:-1]
        ack_data = bool(pid)
    if pid and not (pid.isdigit() and pid.isascii()):
        raise ProtocolError("malformed packet id %r" % text[:80])
    return ptype, endpoint, data, pid, ack_data


def decode_packet(text: str) -> Packet:
    """Parse one packet; raises :class:`ProtocolError` when it is malformed."""
    return Packet._make(parse_packet(text))


def encode_packet(packet: Packet) -> str:
    """Write a packet in wire form; the data part is left out when empty."""
    head = "%d:%s%s:%s" % (
        packet.type, packet.id, "+" if packet.ack_data else "", packet.endpoint
    )
    return head + ":" + packet.data if packet.data else head


def decode_event(data: str) -> Tuple[str, list]:
    """Return ``(name, args)`` from an event packet's JSON data."""
    obj = decode_json(data)
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        raise ProtocolError("event without a name: %r" % data[:80])
    args = obj.get("args", [])
    if not isinstance(args, list):
        raise ProtocolError("event args are not a list: %r" % data[:80])
    return obj["name"], args


def decode_ack(data: str) -> Tuple[int, list]:
    """Return ``(ack_id, args)`` from an ACK packet's data (``4`` or ``4+[..]``)."""
    match = _ACK_RE.match(data)
    if match is None:
        raise ProtocolError("malformed ack data %r" % data[:80])
    ack_id, raw_args = match.groups()
    args = decode_json(raw_args) if raw_args else []
    if not isinstance(args, list):
        raise ProtocolError("ack args are not a list: %r" % data[:80])
    return int(ack_id), args


# -- handshake ---------------------------------------------------------------

def handshake_body(
    sid: str,
    heartbeat_timeout: Optional[int],
    close_timeout: int,
    transports: Iterable[str],
) -> str:
    """The handshake answer ``sid:heartbeat:close:transport,transport``.

    ``heartbeat_timeout`` is ``None`` when heartbeats are off; the field is
    then empty, as the native server writes it.
    """
    beat = "" if heartbeat_timeout is None else str(heartbeat_timeout)
    return "%s:%s:%s:%s" % (sid, beat, close_timeout, ",".join(transports))


# -- TornadIO2-compatible builders ---------------------------------------------

def disconnect(endpoint: Optional[str] = None) -> str:
    """A disconnect packet for the whole socket or one endpoint."""
    return "0::" + (endpoint or "")


def connect(endpoint: Optional[str] = None) -> str:
    """A connect packet (``1::`` or ``1::/chat``)."""
    return "1::" + (endpoint or "")


def heartbeat() -> str:
    """A heartbeat packet."""
    return "2::"


def noop() -> str:
    """A noop packet, which closes an idle long poll."""
    return "8::"


def _id_field(message_id: Union[int, str, None]) -> str:
    return "" if message_id is None else str(message_id)


def text_prefix(endpoint: Optional[str]) -> str:
    """What a text message on ``endpoint`` starts with (``3:::``, ``3::/chat:``).

    ``text_prefix(endpoint) + text`` equals ``message(endpoint, text)`` for any
    non-empty ``str``: a connection keeps the prefix and skips the call.
    """
    return "3::%s:" % endpoint if endpoint else "3:::"


def message(
    endpoint: Optional[str],
    msg: Any,
    message_id: Union[int, str, None] = None,
    force_json: bool = False,
) -> str:
    """A text message (type 3) for a string, else a JSON message (type 4).

    With ``force_json`` a string is sent as a JSON message as it is: use it
    for text that is JSON already. A ``message_id`` asks the client for its
    automatic acknowledgement.
    """
    if type(msg) is str and message_id is None and not force_json:
        # The hot path (plain text, no ACK), built without a Packet.
        return "3::%s:%s" % (endpoint or "", msg) if msg else "3::" + (endpoint or "")
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8")
    if isinstance(msg, str):
        # With force_json a string is taken as JSON text already (TornadIO2's rule).
        ptype, data = (_JSON if force_json else _MESSAGE), msg
    else:
        ptype, data = _JSON, json_dumps(msg)
    return encode_packet(
        Packet(ptype, endpoint or "", data, _id_field(message_id))
    )


def event(
    endpoint: Optional[str],
    name: str,
    message_id: Union[int, str, None],
    *args: Any,
    **kwargs: Any
) -> str:
    """An event packet; keyword arguments travel as one object argument.

    With a ``message_id`` the id is written with ``+``: the 0.9 client only
    answers ACK requests on events that carry it. An event has positional or
    keyword arguments; given both, the keyword arguments are logged and
    dropped, as TornadIO2 did.
    """
    payload: Dict[str, Any] = {"name": name}
    if args:
        payload["args"] = list(args)
        if kwargs:
            logger.error("event %r: positional and keyword arguments; dropping the keyword "
                         "arguments %s", name, sorted(kwargs))
    elif kwargs:
        payload["args"] = [kwargs]
    pid = _id_field(message_id)
    return encode_packet(Packet(_EVENT, endpoint or "", json_dumps(payload), pid, bool(pid)))


def ack(
    endpoint: Optional[str],
    message_id: Union[int, str],
    ack_response: Any = None,
) -> str:
    """An ACK packet; ``ack_response`` becomes the client callback's arguments.

    A tuple is spread into several arguments, any other value is one argument,
    ``None`` sends a bare acknowledgement.
    """
    data = str(message_id)
    if ack_response is not None:
        args = list(ack_response) if isinstance(ack_response, tuple) else [ack_response]
        data += "+" + json_dumps(args)
    return encode_packet(Packet(_ACK, endpoint or "", data))


def error(
    endpoint: Optional[str],
    reason: Union[int, str, None],
    advice: Union[int, str, None] = None,
) -> str:
    """An error packet; reason and advice are written as the client's indexes."""
    data = _error_index(reason, REASONS)
    if advice is not None and advice != "":
        data += "+" + _error_index(advice, ADVICE)
    return encode_packet(Packet(_ERROR, endpoint or "", data))


def _error_index(value: Union[int, str, None], table: Tuple[str, ...]) -> str:
    # The client knows reasons and advice only by index; a word it has no
    # index for would reach it as '' anyway, so it is written as ''.
    if value is None or value == "":
        return ""
    if isinstance(value, int):
        return str(value)
    if value.isdigit():
        return value
    return str(table.index(value)) if value in table else ""
