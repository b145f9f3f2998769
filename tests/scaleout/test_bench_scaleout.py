"""``bench/scaleout.py --quick``: the scale-out rows run, and nothing is lost.

Two tornadio2 processes on a redis-server of the script's own, the Node
load generator's clients on both; the script exits 1 on any loss or error.
Speed is not asserted: the machine is shared.
"""

import subprocess
import sys
from pathlib import Path

import pytest

try:
    from .conftest import PROJECT_ROOT, tool
except ImportError:  # tests/scaleout is not a package: pytest put it on sys.path
    from conftest import PROJECT_ROOT, tool  # type: ignore

pytestmark = pytest.mark.e2e


def test_quick_scaleout_bench_loses_nothing(tmp_path: Path) -> None:
    redis = tool("redis-server")
    node = tool("node")
    if not (PROJECT_ROOT / "node_modules" / "ws" / "package.json").is_file():
        pytest.fail("node_modules/ws is missing; run scripts/bootstrap.sh", pytrace=False)
    out = tmp_path / "records.jsonl"
    done = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bench" / "scaleout.py"), "--quick", "--out",
         str(out), "--python", sys.executable, "--node", node, "--redis", redis],
        cwd=str(PROJECT_ROOT), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| broadcast_n100 | two |" in done.stdout
    assert len(out.read_text().splitlines()) == 6  # three rows, two modes
