"""Fixtures for the end-to-end tests with the real socket.io-client 0.9.16 in Node.

* ``node`` / ``node_modules``: the Node executable and the npm packages from
  the project's ``node_modules`` (``npm install --ignore-scripts``). When one
  is missing the tests are skipped, except with ``CI=true``, where they fail.
* ``recorder``, ``app``, ``server_url``: the tornadio2 e2e app
  (``e2e_app.py``) served in-process on the test's IOLoop, on 127.0.0.1 and
  a free port, so a test can await server-side facts directly.
* ``native_url``: the same app on the native socket.io 0.9.19 server
  (``clients/native_app.js``), one process for the whole session; it shows
  that the scenarios themselves are right for the real protocol.
* ``run_client``: runs ``clients/scenarios.js`` and returns a
  :class:`ScenarioRun`.
"""

import asyncio
import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import tornado.web

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent.parent
NODE_MODULES = PROJECT_ROOT / "node_modules"
SCENARIOS_JS = HERE / "clients" / "scenarios.js"
NATIVE_APP_JS = HERE / "clients" / "native_app.js"
REQUIRED_PACKAGES = {"socket.io-client": "0.9.16", "socket.io": "0.9.19"}

#: Seconds the Node driver gives a scenario before reporting a timeout.
CLIENT_TIMEOUT = 10
#: Seconds to wait for the native server process to listen.
NATIVE_START_TIMEOUT = 10
#: Trace lines shown in a failure report.
TRACE_SHOWN = 80


def _unavailable(reason: str) -> None:
    """Skip for a missing prerequisite, but fail on CI where it must be there."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail("e2e prerequisite missing on CI: " + reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def node() -> str:
    """Path of the Node executable (``$NODE`` or ``node`` on ``PATH``)."""
    wanted = os.environ.get("NODE") or "node"
    found = shutil.which(wanted)
    if not found:
        _unavailable("node is not installed (looked for %r)" % wanted)
    return str(found)


@pytest.fixture(scope="session")
def node_modules(node: str) -> Path:
    """The project's ``node_modules`` with the pinned socket.io packages."""
    for name, version in REQUIRED_PACKAGES.items():
        manifest = NODE_MODULES / name / "package.json"
        if not manifest.is_file():
            _unavailable("%s is missing; run `npm install --ignore-scripts` in %s"
                         % (manifest, PROJECT_ROOT))
        found = json.loads(manifest.read_text(encoding="utf-8")).get("version")
        if found != version:
            pytest.fail("%s is %s, the e2e tests need %s" % (name, found, version),
                        pytrace=False)
    return NODE_MODULES


class ScenarioRun:
    """The outcome of one ``scenarios.js`` run: its JSON lines, exit code and stderr."""

    def __init__(self, argv: List[str], returncode: Optional[int], stdout: str,
                 stderr: str) -> None:
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr
        self.lines: List[Dict[str, Any]] = []
        self.garbage: List[str] = []
        for raw in stdout.splitlines():
            try:
                self.lines.append(json.loads(raw))
            except ValueError:
                self.garbage.append(raw)
        results = [line for line in self.lines if "result" in line]
        self.result: Dict[str, Any] = results[-1] if results else {}

    @property
    def checks(self) -> List[Dict[str, Any]]:
        return [line for line in self.lines if "check" in line]

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and self.result.get("result") == "pass"

    def explain(self) -> str:
        """A failure report: what failed, where it stopped, and the wire trace."""
        out = ["node %s -> exit %s, result %s" % (
            " ".join(self.argv[1:]), self.returncode, self.result.get("result"))]
        if self.result.get("error"):
            out.append("error: %s" % self.result["error"])
        if self.result.get("stage"):
            out.append("stage: %s" % self.result["stage"])
        for line in self.checks:
            out.append("check %s: %s %s" % (
                "ok" if line["ok"] else "FAILED", line["check"],
                json.dumps(line.get("detail"), ensure_ascii=True)[:400]))
        trace = self.result.get("trace") or []
        if trace:
            out.append("client wire trace (ms, direction, data; ascii-escaped):")
            for entry in trace[-TRACE_SHOWN:]:
                out.append("  %6s %-5s %s" % (entry.get("ms"), entry.get("dir"),
                                              ascii(entry.get("data"))))
        if self.garbage:
            out.append("non-JSON stdout: %r" % self.garbage[:10])
        if self.stderr.strip():
            out.append("stderr: " + self.stderr.strip()[-2000:])
        return "\n".join(out)


@pytest.fixture
def run_client(node: str, node_modules: Path) -> Any:
    """An async function ``run_client(url, transport, scenario) -> ScenarioRun``."""

    async def run(url: str, transport: str, scenario: str) -> ScenarioRun:
        argv = [node, str(SCENARIOS_JS), url, transport, scenario,
                "--timeout=%d" % CLIENT_TIMEOUT]
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=str(PROJECT_ROOT), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            stdout, stderr = await asyncio.wait_for(proc.communicate(), CLIENT_TIMEOUT + 5)
        except asyncio.TimeoutError:
            proc.kill()
            stdout, stderr = await proc.communicate()
        return ScenarioRun(argv, proc.returncode, stdout.decode("utf-8", "replace"),
                           stderr.decode("utf-8", "replace"))

    return run


def _e2e_app() -> Any:
    # Imported late: the native-server tests must not depend on tornadio2 importing.
    try:
        from . import e2e_app
    except ImportError:  # tests/ is not a package: pytest put this directory on sys.path
        import e2e_app  # type: ignore[no-redef]
    return e2e_app


@pytest.fixture
def recorder() -> Any:
    """Server-side facts of the tornadio2 e2e app (an ``e2e_app.Recorder``)."""
    return _e2e_app().Recorder()


@pytest.fixture
def app(recorder: Any) -> tornado.web.Application:
    """The tornadio2 e2e app (pytest-tornado's ``http_server`` serves it)."""
    return _e2e_app().make_application(recorder)


@pytest.fixture
def server_url(http_server: Any, http_port: int) -> str:
    """Root URL of the in-process tornadio2 app; always 127.0.0.1, never localhost."""
    return "http://127.0.0.1:%d" % http_port


class _NativeServer:
    """``node native_app.js 0`` with its output drained by a reader thread."""

    def __init__(self, node: str) -> None:
        self.output: List[str] = []
        self._lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self.proc = subprocess.Popen(
            [node, str(NATIVE_APP_JS), "0"], cwd=str(PROJECT_ROOT),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            encoding="utf-8", errors="replace")
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line.rstrip("\n"))
            self._lines.put(line)
        self._lines.put(None)

    def wait_listening(self) -> int:
        while True:
            try:
                line = self._lines.get(timeout=NATIVE_START_TIMEOUT)
            except queue.Empty:
                line = None
            if line is None:
                raise RuntimeError("native server did not start: %r" % self.output)
            try:
                fact = json.loads(line)
            except ValueError:
                continue
            if "listening" in fact:
                return int(fact["listening"])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture(scope="session")
def native_url(node: str, node_modules: Path) -> Iterator[str]:
    """Root URL of the e2e app on the native socket.io 0.9.19 server."""
    server = _NativeServer(node)
    try:
        port = server.wait_listening()
    except RuntimeError as exc:
        server.stop()
        pytest.fail(str(exc), pytrace=False)
    yield "http://127.0.0.1:%d" % port
    server.stop()
