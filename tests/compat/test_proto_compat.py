"""``tornadio2.proto`` names as TornadIO2 applications used them."""

import decimal
import json

import simplejson

from tornadio2 import proto


def test_packet_type_constants_are_tornadio2_strings():
    assert proto.MESSAGE == "3" and proto.EVENT == "5" and proto.NOOP == "8"
    kind, _, _ = "3:::hello".split(":", 2)
    assert kind == proto.MESSAGE


def test_decimal_encoder_writes_decimals_as_numbers():
    assert json.dumps({"price": decimal.Decimal("1.5")}, cls=proto.DecimalEncoder) == \
        '{"price": 1.5}'


def test_json_decimal_args_suit_the_json_library_of_tornadio2():
    assert simplejson.dumps(decimal.Decimal("0.10"), **proto.json_decimal_args) == "0.10"
    assert proto.json_dumps([decimal.Decimal("0.10")]) == "[0.10]"


def test_encode_frames_gives_text():
    assert proto.encode_frames([]) == ""
    assert proto.encode_frames(["3:::é"]) == "3:::é"
    framed = proto.encode_frames(["1::", "3:::é"])
    assert isinstance(framed, str) and framed == "\ufffd3\ufffd1::\ufffd5\ufffd3:::é"
