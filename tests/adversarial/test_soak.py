"""20,000 connect/disconnect cycles: nothing is left behind.

Half the cycles go over websocket and half over xhr-polling, each a full
session (handshake, transport opened, ``0::`` from the client). Before and
after, the server process reports its own resident memory, descriptors and
live sessions after a full collection: once the last session has expired,
memory is back within 10 % of its warmed-up start and descriptors at their
baseline.
"""

import asyncio
import logging
import time

import pytest

from tests.adversarial.live import TargetServer, handshake_time, health, run_cycles

CYCLES_PER_TRANSPORT = 10_000
WARM_UP = 500
WORKERS = 16
#: An upper bound on the whole soak, so a slow machine fails instead of hanging.
SOAK_SECONDS = 240
SETTINGS = {"session_expiry": 1, "session_check_interval": 1, "xhr_polling_timeout": 5}


async def _settled(port: int, baseline_fds: int, timeout: float = 15.0) -> dict:
    """Health once no session is left and descriptors are back (or the timeout passed)."""
    stop = time.monotonic() + timeout
    figures = await health(port)
    while time.monotonic() < stop and (figures["sessions"] or figures["fds"] > baseline_fds):
        await asyncio.sleep(0.25)  # polling an outside process: there is no event to await
        figures = await health(port)
    return figures


@pytest.fixture
def target(tmp_path):
    server = TargetServer(SETTINGS, str(tmp_path / "server.log"))
    yield server
    server.stop()


@pytest.mark.gen_test(timeout=SOAK_SECONDS + 60)
async def test_twenty_thousand_cycles_leave_memory_and_descriptors_where_they_were(target):
    deadline = time.monotonic() + SOAK_SECONDS
    for transport in ("websocket", "xhr-polling"):
        assert await run_cycles(target.port, transport, WARM_UP, WORKERS, deadline) == WARM_UP
    start = await _settled(target.port, baseline_fds=10**6)
    assert start["sessions"] == 0

    done = 0
    for transport in ("websocket", "xhr-polling"):
        done += await run_cycles(target.port, transport, CYCLES_PER_TRANSPORT, WORKERS, deadline)
    assert done == 2 * CYCLES_PER_TRANSPORT, "only %d cycles in %d s" % (done, SOAK_SECONDS)
    assert await handshake_time(target.port) < 1.0

    end = await _settled(target.port, baseline_fds=start["fds"])
    logging.getLogger("tests.adversarial").info(
        "soak of %d cycles: RSS %d -> %d KiB, descriptors %d -> %d", done,
        start["rss_kb"], end["rss_kb"], start["fds"], end["fds"])
    assert end["sessions"] == 0
    assert end["fds"] <= start["fds"], (start, end)
    assert end["rss_kb"] <= start["rss_kb"] * 1.10, (start, end)
    assert "Traceback" not in target.log()
