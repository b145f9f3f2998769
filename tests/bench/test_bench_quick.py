"""The benchmark suite in quick mode: every scenario on every server, nothing lost.

Runs ``bench/run.py --quick`` once (about a second per row and server) and
checks the JSON lines it wrote. It asserts correctness under load, never a
speed: each row that ran received exactly what it sent, without errors, and
tornadio2 and raw Tornado ran every row (the native socket.io server may be
skipped when it does not start). Skipped when Node or the ``ws`` package is
missing, except with ``CI=true``, where that fails.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List, Tuple

import pytest

# It runs real Node clients against server processes, like the e2e tests.
pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
RUN_PY = ROOT / "bench" / "run.py"
#: Seconds the whole quick run may take (it takes 15-40 s on 2 cores).
RUN_TIMEOUT = 150
#: bench/run.py's exit status when node, ws or Tornado is missing.
EXIT_MISSING = 3


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail("benchmark prerequisite missing on CI: " + reason, pytrace=False)
    pytest.skip(reason)


def _load_run_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", RUN_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick_rows() -> List[str]:
    """The row keys of quick mode, from bench/run.py itself."""
    return [row.key for row in _load_run_module().quick_rows()]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: Any) -> Tuple[subprocess.CompletedProcess, List[Dict[str, Any]]]:
    """The finished quick run and its records."""
    node = shutil.which(os.environ.get("NODE") or "node")
    if node is None:
        _unavailable("node is not installed")
    manifest = ROOT / "node_modules" / "ws" / "package.json"
    if not manifest.is_file():
        _unavailable("npm package ws is missing; run `npm install --ignore-scripts` in %s" % ROOT)
    out = tmp_path_factory.mktemp("bench") / "quick.jsonl"
    proc = subprocess.run(
        [sys.executable, str(RUN_PY), "--quick", "--python", sys.executable,
         "--node", str(node), "--out", str(out)],
        cwd=str(ROOT), capture_output=True, text=True, timeout=RUN_TIMEOUT)
    if proc.returncode == EXIT_MISSING:
        _unavailable(proc.stderr.strip())
    records = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    return proc, records


def _report(proc: subprocess.CompletedProcess) -> str:
    return "bench/run.py --quick said:\n%s\n%s" % (proc.stdout[-4000:], proc.stderr[-2000:])


def test_quick_run_reports_success(quick_run: Any) -> None:
    proc, _ = quick_run
    assert proc.returncode == 0, _report(proc)


def test_every_run_received_everything_it_sent(quick_run: Any) -> None:
    proc, records = quick_run
    ran = [rec for rec in records if "skipped" not in rec]
    assert ran, _report(proc)
    lossy = ["%s/%s: sent %s received %s" % (rec["row"], rec["server"], rec["sent"],
                                            rec["received"])
             for rec in ran if not rec["sent"] or rec["sent"] != rec["received"]]
    assert not lossy, "\n".join(lossy) + "\n" + _report(proc)


def test_every_run_had_no_errors(quick_run: Any) -> None:
    proc, records = quick_run
    failed = ["%s/%s: %s" % (rec["row"], rec["server"], rec.get("error_samples"))
              for rec in records if "skipped" not in rec and rec.get("errors") != 0]
    assert not failed, "\n".join(failed) + "\n" + _report(proc)


@pytest.mark.parametrize("server", ["tornadio2", "raw"])
def test_server_ran_every_quick_row(quick_run: Any, quick_rows: List[str], server: str) -> None:
    proc, records = quick_run
    ran = {rec["row"] for rec in records if rec["server"] == server and "skipped" not in rec}
    assert ran == set(quick_rows), _report(proc)
