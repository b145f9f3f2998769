"""bench/run.py's order of servers: every server leads some runs."""

import runpy
from pathlib import Path

RUN = Path(__file__).resolve().parents[2] / "bench" / "run.py"


def test_each_run_starts_with_the_next_server():
    rotated = runpy.run_path(str(RUN))["rotated"]  # its names, without running main()
    servers = ["tornadio2", "raw", "native"]
    orders = [rotated(servers, run) for run in range(4)]
    assert orders == [
        ["tornadio2", "raw", "native"],
        ["raw", "native", "tornadio2"],
        ["native", "tornadio2", "raw"],
        ["tornadio2", "raw", "native"],
    ]
    assert rotated(["raw"], 5) == ["raw"]
    assert rotated([], 2) == []
