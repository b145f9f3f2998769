"""The origin policy shared by polling requests and websocket upgrades."""

import pytest

from tornadio2.origin import origin_allowed


@pytest.mark.parametrize("origin, allowed, server, expected", [
    (None, ["http://a.example"], "http://b.example", True),
    ("http://b.example", ["http://a.example"], "http://b.example", True),
    ("http://b.example:8080", ["http://a.example"], "http://b.example:8080", True),
    ("http://b.example:42055", ["http://a.example"], "http://b.example", False),
    ("http://a.example", ["http://a.example"], "http://b.example", True),
    ("http://a.example:81", ["http://a.example"], "http://b.example", False),
    ("http://a.example:81", ["a.example:*"], "http://b.example", True),
    ("https://a.example", ["*:443"], "http://b.example", True),
    ("http://evil.example", ["http://a.example"], "http://b.example", False),
    ("null", ["http://a.example"], "http://b.example", False),
    ("http://evil.example", "*", "http://b.example", True),
])
def test_origin_policy_allows_same_origin_listed_and_originless_requests_only(origin, allowed, server, expected):
    assert origin_allowed(origin, allowed, server) is expected
