"""Handshake admission (the cap and the token buckets) and the lazy cookie reader."""

import pytest
from tornado.httputil import HTTPHeaders, parse_cookie

from tornadio2.admission import CAPACITY, RATE, Admission, TokenBuckets
from tornadio2.sessiontypes import KEPT_HEADER_BYTES, ConnectionInfo, parse_cookies


def test_a_bucket_allows_its_burst_then_its_rate():
    buckets = TokenBuckets(rate=2, burst=3)
    assert [buckets.take("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert buckets.take("b", 0.0)  # another address has its own bucket
    assert not buckets.take("a", 0.25)  # half a token so far
    assert buckets.take("a", 0.5)
    assert not buckets.take("a", 0.5)


def test_full_buckets_are_forgotten_and_the_table_is_bounded():
    buckets = TokenBuckets(rate=1, burst=2, max_addresses=100)
    for number in range(1000):
        buckets.take("10.0.%d.%d" % divmod(number, 256), number * 0.001)
        assert len(buckets) <= 100
    buckets.prune(1000.0)
    assert len(buckets) == 0


def test_bad_bucket_settings_are_refused():
    with pytest.raises(ValueError):
        TokenBuckets(rate=0, burst=1)
    with pytest.raises(ValueError):
        TokenBuckets(rate=1, burst=0.5)


def test_admission_checks_capacity_then_rate():
    admission = Admission(max_sessions=2, rate=1, burst=1)
    assert admission.refusal("a", 2, 0.0) == CAPACITY
    assert admission.refusal("a", 1, 0.0) is None
    assert admission.refusal("a", 1, 0.0) == RATE
    assert Admission().refusal("a", 10 ** 9, 0.0) is None  # no cap, no rate


@pytest.mark.parametrize("header", [
    "a=1; b=2", "a=1;b=2;", ' q="quoted value" ', 'e="a\\"b\\\\c\\073"', "flag", "=x; y=",
    "a=1; a=2", "sp ace=1; ok=2", "a=b=c",
])
def test_cookies_are_read_as_tornado_reads_them(header):
    expected = {}
    for name, value in parse_cookie(header).items():
        expected[name] = value
    got = {name: morsel.value for name, morsel in parse_cookies(header).items()}
    assert got == {name: value for name, value in expected.items() if name in got}
    assert set(expected) - set(got) <= {"", "sp ace"}  # names SimpleCookie refuses


def test_a_compact_info_keeps_headers_within_the_budget_case_insensitively():
    headers = HTTPHeaders({"Host": "h", "Cookie": "sid=1", "X-Pad": "p" * KEPT_HEADER_BYTES,
                           "User-Agent": "ua"})
    info = ConnectionInfo("1.2.3.4", {"t": ["1"]}, None, headers, "/socket.io/1/")
    compact = info.compact()
    assert compact.headers["user-agent"] == "ua" and "X-Pad" not in compact.headers
    assert compact.get_cookie("sid").value == "1"
    assert (compact.ip, compact.arguments, compact.path) == (info.ip, info.arguments, info.path)
    plain = ConnectionInfo("1.2.3.4", {}, None, {"A": "1"}).compact(header_bytes=1)
    assert plain.headers == {}
