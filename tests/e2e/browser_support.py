"""Helpers of the browser tests: prerequisites, in-process servers, the Chromium driver, raw HTTP.

* :func:`find_chromium` / :func:`playwright_dir`: what the tests need besides
  node (``$CHROMIUM`` or ``chromium`` on ``PATH``; ``playwright-core`` in the
  project's ``node_modules``, used only to drive that installed browser).
* :func:`serve` / :func:`served`: an ``HTTPServer`` on 127.0.0.1 and a free
  port, on the current IOLoop, so the test awaits server-side facts directly.
* :func:`run_driver`: runs ``clients/browser_driver.js`` (one Chromium for all
  the runs given) and returns a :class:`DriverRun`; :class:`PageRun` is one
  tab's report, with :meth:`PageRun.explain` for failure messages.
* :func:`raw_request`: one HTTP request written byte for byte, for wire-level
  checks a browser cannot make (a chosen Origin on any request).
"""

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, NamedTuple, Optional, Sequence, Tuple

import tornado.httpserver
import tornado.iostream
import tornado.netutil
import tornado.web

__all__ = ["PAGE_TIMEOUT", "Run", "PageRun", "DriverRun", "RawResponse", "find_chromium",
           "playwright_dir", "serve", "served", "run_driver", "driver_time_limit", "raw_request"]

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent.parent
DRIVER_JS = HERE / "clients" / "browser_driver.js"

#: Seconds a page gives one scenario (it reports a timeout after that).
PAGE_TIMEOUT = 10
#: Seconds allowed for launching and closing Chromium in one driver run.
LAUNCH_ALLOWANCE = 30
#: Network entries and trace lines shown in a failure report.
SHOWN = 60


def find_chromium() -> Optional[str]:
    """The Chromium executable: ``$CHROMIUM`` if set, else ``chromium`` on ``PATH``."""
    wanted = os.environ.get("CHROMIUM")
    for name in [wanted] if wanted else ["chromium", "chromium-browser"]:
        found = shutil.which(name)
        if found:
            return found
    return None


def playwright_dir() -> Optional[Path]:
    """``node_modules/playwright-core`` of the project, if installed."""
    found = PROJECT_ROOT / "node_modules" / "playwright-core"
    return found if (found / "package.json").is_file() else None


def serve(app: tornado.web.Application) -> Tuple[tornado.httpserver.HTTPServer, int]:
    """Serve ``app`` on 127.0.0.1 and a free port on the current IOLoop."""
    [sock] = tornado.netutil.bind_sockets(0, address="127.0.0.1", family=socket.AF_INET)
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets([sock])
    return server, sock.getsockname()[1]


class Run(NamedTuple):
    """One tab: forced transport, scenario, tag (the server tells runs apart by it)."""

    transport: str
    scenario: str
    tag: str
    server: Optional[str] = None  # another Socket.IO server than the driver's default


class PageRun:
    """What the driver reported for one tab."""

    def __init__(self, run: Run, report: Optional[Dict[str, Any]]) -> None:
        self.run = run
        self.report = report or {}
        self.page: Dict[str, Any] = self.report.get("page") or {}
        self.network: List[Dict[str, Any]] = self.report.get("network") or []

    @property
    def outcome(self) -> Optional[str]:
        return self.page.get("outcome")

    @property
    def passed(self) -> bool:
        return self.outcome == "pass" and not self.report.get("driverError")

    def requests_to(self, base_url: str) -> List[Dict[str, Any]]:
        """The requests (and websocket opens) the tab made to ``base_url``."""
        ws_base = "ws" + base_url[len("http"):]
        return [n for n in self.network
                if (n["kind"] == "request" and n["url"].startswith(base_url))
                or (n["kind"] == "ws-open" and n["url"].startswith(ws_base))]

    def responses_from(self, base_url: str) -> List[Dict[str, Any]]:
        return [n for n in self.network
                if n["kind"] == "response" and n["url"].startswith(base_url)]

    def explain(self, extra: str = "") -> str:
        """A failure report: checks, events, the page's Socket.IO trace, Chromium's network log."""
        run, page = self.run, self.page
        out = ["%s over %s (tag %s): outcome %s" % (run.scenario, run.transport, run.tag,
                                                    self.outcome)]
        if not self.report:
            out.append("the driver reported nothing for this run")
        if self.report.get("driverError"):
            out.append("driver: %s" % self.report["driverError"])
        if page.get("error"):
            out.append("page error: %s (stage: %s)" % (page["error"], page.get("stage")))
        for check in page.get("checks") or []:
            out.append("check %s: %s %s" % ("ok" if check["ok"] else "FAILED", check["check"],
                                            ascii(check.get("detail"))[:400]))
        for event in page.get("events") or []:
            out.append("event %6s %s" % (event["ms"], ascii(event["event"])[:200]))
        trace = page.get("trace") or []
        if trace:
            out.append("socket.io data in the page (ms, direction, data; ascii-escaped):")
            out.extend("  %6s %-4s %s" % (t["ms"], t["dir"], ascii(t["data"]))
                       for t in trace[-SHOWN:])
        if self.network:
            out.append("Chromium network log (ms, what):")
            for entry in self.network[-SHOWN:]:
                shown = {k: v for k, v in entry.items() if k not in ("ms", "kind") and v}
                out.append("  %6s %-11s %s" % (entry["ms"], entry["kind"], ascii(shown)[:300]))
        for line in (self.report.get("pageErrors") or []):
            out.append("page exception: %s" % line)
        if extra:
            out.append(extra)
        return "\n".join(out)


class DriverRun:
    """A whole ``browser_driver.js`` run: one :class:`PageRun` per requested run."""

    def __init__(self, argv: List[str], runs: Sequence[Run], returncode: Optional[int],
                 stdout: str, stderr: str, timed_out: bool) -> None:
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr
        self.timed_out = timed_out
        self.lines: List[Dict[str, Any]] = []
        self.garbage: List[str] = []
        for raw in stdout.splitlines():
            try:
                self.lines.append(json.loads(raw))
            except ValueError:
                self.garbage.append(raw)
        reports = {line["run"]["tag"]: line for line in self.lines if "run" in line}
        self.pages = {run.tag: PageRun(run, reports.get(run.tag)) for run in runs}

    @property
    def complete(self) -> bool:
        return self.returncode == 0 and any(line.get("done") for line in self.lines)

    def explain(self) -> str:
        out = ["browser_driver.js exited %s%s" % (
            self.returncode, " after the time limit" if self.timed_out else "")]
        out.extend("driver: %s" % ascii(line)[:2000] for line in self.lines
                   if "run" not in line)
        if self.garbage:
            out.append("non-JSON stdout: %r" % self.garbage[:10])
        if self.stderr.strip():
            out.append("stderr: " + self.stderr.strip()[-3000:])
        return "\n".join(out)


async def run_driver(node: str, chromium: str, page_url: str, server_url: str,
                     runs: Sequence[Run]) -> DriverRun:
    """Run every ``run`` in one Chromium (one tab each), bounded in time."""
    argv = [node, str(DRIVER_JS), "--chromium=" + chromium, "--page=" + page_url,
            "--server=" + server_url, "--timeout=%d" % PAGE_TIMEOUT]
    for run in runs:
        argv.append("--run=%s/%s/%s%s" % (run.transport, run.scenario, run.tag,
                                          "@" + run.server if run.server else ""))
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=str(PROJECT_ROOT), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    timed_out = False
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), driver_time_limit(len(runs)))
    except asyncio.TimeoutError:
        timed_out = True
        proc.terminate()  # playwright closes Chromium on SIGTERM
        try:
            stdout, stderr = await asyncio.wait_for(proc.communicate(), 10)
        except asyncio.TimeoutError:
            proc.kill()
            stdout, stderr = await proc.communicate()
    return DriverRun(argv, runs, proc.returncode, stdout.decode("utf-8", "replace"),
                     stderr.decode("utf-8", "replace"), timed_out)


def driver_time_limit(run_count: int) -> float:
    """Seconds a driver run with ``run_count`` tabs may take at worst."""
    return LAUNCH_ALLOWANCE + run_count * (PAGE_TIMEOUT + 5)


class RawResponse(NamedTuple):
    status_line: str
    status: int
    headers: Dict[str, str]  # lower-cased names
    body: bytes


async def raw_request(port: int, request: bytes, timeout: float = 5.0) -> RawResponse:
    """Write ``request`` to 127.0.0.1:``port`` as is; read one response (headers + body)."""

    async def exchange() -> RawResponse:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        stream = tornado.iostream.IOStream(sock)
        try:
            await stream.connect(("127.0.0.1", port))
            await stream.write(request)
            head = (await stream.read_until(b"\r\n\r\n", max_bytes=65536)).decode("latin-1")
            status_line, *lines = head.rstrip("\r\n").split("\r\n")
            headers = {}
            for line in lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            body = await stream.read_bytes(length) if length else b""
            return RawResponse(status_line, int(status_line.split()[1]), headers, body)
        finally:
            stream.close()

    return await asyncio.wait_for(exchange(), timeout)


@contextlib.asynccontextmanager
async def served(app: tornado.web.Application) -> AsyncIterator[int]:
    """``async with served(app) as port``: :func:`serve`, then stop and drop every connection."""
    server, port = serve(app)
    try:
        yield port
    finally:
        server.stop()
        await asyncio.wait_for(server.close_all_connections(), 10)
