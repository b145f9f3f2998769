"""PeerLog and peer_value: bounded, escaped, rate-limited logging of peer-caused warnings."""

import logging

import pytest

from tornadio2.peerlog import PeerLog, peer_value, reset_all

LOGGER = "tornadio2.test_peerlog"


class Clock:
    """A clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def peerlog(clock):
    return PeerLog(logging.getLogger(LOGGER), burst=3, interval=10.0, limit=20, clock=clock)


def lines(caplog):
    return [record.getMessage() for record in caplog.records if record.name == LOGGER]


@pytest.mark.parametrize("value, shown", [
    ("chat", "'chat'"),
    (b"chat", "b'chat'"),
    (12, "12"),
    (None, "None"),
    (["a", 1], "['a', 1]"),
])
def test_peer_value_is_repr_of_short_values(value, shown):
    assert peer_value(value) == shown


def test_peer_value_escapes_line_breaks_and_control_characters():
    shown = peer_value("a\nb\r\x1b[31m\u2028\u202e")
    assert "\n" not in shown and "\r" not in shown and "\x1b" not in shown
    assert "\u2028" not in shown and "\u202e" not in shown
    assert shown == "'a\\nb\\r\\x1b[31m\\u2028\\u202e'"


@pytest.mark.parametrize("value", [
    "x" * 10_000_000,
    "\n" * 1000,
    b"\x00" * 1000,
    ["y" * 1000] * 1000,
    {"k" * 500: ["v" * 500] * 50},
    [[[[[["deep"]]]]]],
    10 ** 5000,
], ids=["long-str", "newlines", "nul-bytes", "long-list", "dict", "nested", "huge-int"])
def test_peer_value_is_at_most_limit_characters(value):
    for limit in (10, 80):
        shown = peer_value(value, limit)
        assert len(shown) <= limit
        assert "\n" not in shown


def test_peer_value_marks_a_cut():
    assert peer_value("x" * 100, limit=10) == "'xxxxxx..."


def test_peer_value_of_a_huge_int_names_its_size():
    assert peer_value(10 ** 5000, limit=80).startswith("<int of ")


def test_warning_shows_arguments_truncated_and_escaped(peerlog, caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert peerlog.warning("unknown event %s on %s", "e" * 1000, "/a\nforged line")
    (line,) = lines(caplog)
    assert line == "unknown event 'eeeeeeeeeeeeeeee... on '/a\\nforged line'"


def test_small_numbers_pass_unchanged_so_percent_d_works(peerlog, caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        peerlog.warning("%d packets, %.1f s, %s", 12, 1.5, 10 ** 5000)
    (line,) = lines(caplog)
    assert line.startswith("12 packets, 1.5 s, <int of ")


def test_at_most_burst_lines_per_template_per_interval(peerlog, clock, caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        written = [peerlog.warning("unknown ack %s", n) for n in range(1000)]
        other = peerlog.warning("bad packet %s", "x")
    assert written == [True] * 3 + [False] * 997
    assert other is True
    assert lines(caplog) == ["unknown ack 0", "unknown ack 1", "unknown ack 2", "bad packet 'x'"]
    assert peerlog.suppressed("unknown ack %s") == 997


def test_suppressed_count_is_reported_once_when_logging_resumes(peerlog, clock, caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for n in range(5):
            peerlog.warning("unknown ack %s", n)
        clock.now += 9.9
        assert not peerlog.warning("unknown ack %s", 5)
        clock.now += 0.1
        assert peerlog.warning("unknown ack %s", 6)
        clock.now += 10
        assert peerlog.warning("unknown ack %s", 7)
    assert lines(caplog) == [
        "unknown ack 0", "unknown ack 1", "unknown ack 2",
        "3 similar messages suppressed: unknown ack %s",
        "unknown ack 6", "unknown ack 7",
    ]
    assert peerlog.suppressed("unknown ack %s") == 0


def test_flush_reports_what_is_held_back(peerlog, caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for n in range(4):
            peerlog.warning("bad packet %s", n)
        assert peerlog.flush() == ["bad packet %s"]
        assert peerlog.flush() == []
    assert lines(caplog)[-1] == "1 similar messages suppressed: bad packet %s"


def test_disabled_level_costs_nothing_and_counts_nothing(peerlog, caplog):
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        assert not peerlog.warning("unknown ack %s", 1)
    assert lines(caplog) == []
    assert peerlog.suppressed("unknown ack %s") == 0


def test_info_is_rate_limited_too(peerlog, caplog):
    with caplog.at_level(logging.INFO, logger=LOGGER):
        written = [peerlog.info("client error %s", n) for n in range(5)]
    assert written == [True, True, True, False, False]
    assert [r.levelno for r in caplog.records if r.name == LOGGER] == [logging.INFO] * 3


def test_defaults_match_the_documented_api():
    log = PeerLog(logging.getLogger(LOGGER))
    assert (log.burst, log.interval, log.limit) == (5, 10.0, 80)


def test_reset_all_lets_every_template_log_again(peerlog, caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for n in range(5):
            peerlog.warning("bad packet %s", n)
        reset_all()
        assert peerlog.warning("bad packet %s", 5)
    assert peerlog.suppressed("bad packet %s") == 0
