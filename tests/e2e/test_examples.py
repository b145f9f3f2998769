"""End to end: each example in ``examples/`` as its own process, driven by real clients.

Every example starts the way its README line says (``python
examples/<name>/<name>.py --port N``) on a free loopback port; the test waits
for its ``listening on ...`` line, checks that its page loads the Socket.IO
client from ``node_modules``, drives it with socket.io-client 0.9.16 in Node
(``clients/example_node.js``) or its browser build in headless Chromium
(``clients/example_browser.js``, through playwright-core and the installed
Chromium), asserts what the clients saw, and fails if the example logged a
traceback or an ERROR. The chat example has its own test file.

Needs node, ``node_modules`` and, for the page tests, Chromium (``$CHROMIUM``
or ``chromium`` on ``PATH``) and playwright-core; without them the tests are
skipped, except with ``CI=true``, where they fail.
"""

import contextlib
import http.server
import json
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXAMPLES = ROOT / "examples"
NODE_DRIVER = HERE / "clients" / "example_node.js"
BROWSER_DRIVER = HERE / "clients" / "example_browser.js"
BROWSER_CLIENT = ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.js"

STARTUP_TIMEOUT = 20.0  # seconds for an example to print its listening line
CLIENT_TIMEOUT_MS = 10000  # what a Node client gives its scenario
BROWSER_STEP_TIMEOUT_MS = 10000  # what the browser driver gives each step
BROWSER_RUN_LIMIT = 90.0  # seconds for one whole browser driver run

READY_LINE = re.compile(r"^listening on (https?)://127\.0\.0\.1:(\d+)/$", re.MULTILINE)
NODE_TRANSPORTS = ["websocket", "xhr-polling"]

pytestmark = pytest.mark.e2e


def _unavailable(reason: str) -> None:
    """Skip for a missing prerequisite, but fail on CI where it must be there."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail("e2e prerequisite missing on CI: " + reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium(node: str, node_modules: Path) -> str:
    """The installed Chromium (``$CHROMIUM`` or on ``PATH``), with playwright-core to drive it."""
    wanted = os.environ.get("CHROMIUM")
    found = next(filter(None, map(shutil.which, [wanted] if wanted else
                                  ["chromium", "chromium-browser"])), None)
    if found is None:
        _unavailable("Chromium is not installed (set $CHROMIUM or put chromium on PATH)")
    if not (node_modules / "playwright-core" / "package.json").is_file():
        _unavailable("node_modules/playwright-core is missing (npm install --ignore-scripts)")
    return str(found)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> Tuple[bytes, str]:
    """Body and Content-Type of ``url``; TLS certificates are not checked (self-signed)."""
    context = ssl._create_unverified_context() if url.startswith("https:") else None
    with urllib.request.urlopen(url, timeout=5, context=context) as response:
        return response.read(), response.headers.get("Content-Type", "")


class Example:
    """``examples/<name>/<name>.py --port PORT [args]`` in a subprocess, output in a log file."""

    def __init__(self, name: str, log_path: Path, args: List[str]) -> None:
        self.name = name
        self.port = _free_port()
        self.log_path = log_path
        env = dict(os.environ)
        # Import tornadio2 from this checkout whether or not it is installed.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(EXAMPLES / name / (name + ".py")),
                 "--port", str(self.port)] + args,
                cwd=str(ROOT), env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        self.url = ""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_listening(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            ready = READY_LINE.search(self.log())
            if ready:
                assert int(ready.group(2)) == self.port, self.log()
                self.url = "%s://127.0.0.1:%d" % (ready.group(1), self.port)
                return
            if self.process.poll() is not None:
                pytest.fail("%s exited with %s:\n%s" % (self.name, self.process.returncode,
                                                        self.log()))
            time.sleep(0.05)  # poll interval while the process starts, not synchronisation
        pytest.fail("%s printed no listening line within %ss:\n%s"
                    % (self.name, STARTUP_TIMEOUT, self.log()))

    def assert_clean_log(self) -> None:
        log = self.log()
        assert "Traceback" not in log and " ERROR " not in log, log

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@contextlib.contextmanager
def running(name: str, tmp_path: Path, *args: str) -> Iterator[Example]:
    """The example, listening; always stopped; its log must be clean if the block passed."""
    example = Example(name, tmp_path / (name + ".log"), list(args))
    try:
        example.wait_until_listening()
        yield example
    finally:
        example.stop()
    example.assert_clean_log()


def assert_page_loads_npm_client(example: Example) -> str:
    """The example's page uses ``/socket.io.js``, which is socket.io-client's browser build."""
    page, content_type = _get(example.url + "/")
    assert content_type.startswith("text/html")
    assert b'<script src="/socket.io.js"></script>' in page
    assert _get(example.url + "/socket.io.js")[0] == BROWSER_CLIENT.read_bytes()
    return page.decode()


def run_node(node: str, scenario: str, url: str, transport: str, count: int = 5,
             env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """Run one ``example_node.js`` scenario; its result, or a failure with everything it saw."""
    options = {"url": url, "transport": transport, "count": count, "timeoutMs": CLIENT_TIMEOUT_MS}
    argv = [node, str(NODE_DRIVER), scenario, json.dumps(options)]
    proc = subprocess.run(argv, cwd=str(ROOT), env=dict(os.environ, **(env or {})),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=CLIENT_TIMEOUT_MS / 1000 + 10)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines or "result" not in lines[-1]:
        pytest.fail("%s over %s: exit %s, stdout %s, stderr %s" % (
            scenario, transport, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    return lines[-1]["result"]


def run_browser(node: str, chromium: str, tabs: List[Dict[str, Any]],
                flags: Optional[List[str]] = None) -> Dict[str, Dict[str, Any]]:
    """Run ``example_browser.js`` over ``tabs``; each tab's report, by name."""
    plan = {"tabs": tabs, "flags": flags or [], "stepTimeoutMs": BROWSER_STEP_TIMEOUT_MS}
    argv = [node, str(BROWSER_DRIVER), "--chromium=" + chromium, json.dumps(plan)]
    try:
        proc = subprocess.run(argv, cwd=str(ROOT), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=BROWSER_RUN_LIMIT)
    except subprocess.TimeoutExpired as exc:
        pytest.fail("example_browser.js ran over %ss: %s" % (BROWSER_RUN_LIMIT, exc.stdout))
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or {"done": True} not in lines:
        pytest.fail("example_browser.js exited %s: %s %s" % (
            proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    return {line["tab"]: line for line in lines if "tab" in line}


def tab_values(reports: Dict[str, Dict[str, Any]], name: str) -> Dict[str, Any]:
    """The values a tab recorded; fails with the tab's report if a step failed."""
    report = reports[name]
    assert report["error"] is None and not report["pageErrors"], json.dumps(report, indent=1)
    return report["values"]


def echo_tab(name: str, url: str, text: str) -> Dict[str, Any]:
    """Open an echo page (transports, crosssite, ssl_transports), send ``text``, await the echo."""
    return {"name": name, "steps": [
        {"goto": url},
        {"wait": "document.body.dataset.state === 'connected'"},
        {"fill": "#text", "value": text},
        {"click": "#echo button"},
        {"wait": "document.querySelectorAll('#log li').length > 0 && "
                 "[...document.querySelectorAll('#log li')].some("
                 "li => li.textContent.startsWith('echo: '))"},
        {"eval": "document.body.dataset.transport", "as": "transport"},
        {"eval": "[...document.querySelectorAll('#log li')].map(li => li.textContent)",
         "as": "log"},
    ]}


# -- rpcping, ackping, multiplexed, gen: Node clients ---------------------------------


def test_rpcping_answers_every_ping_with_a_pong_carrying_its_timestamp(node, node_modules,
                                                                       tmp_path):
    with running("rpcping", tmp_path) as example:
        assert "emit('ping', performance.now())" in assert_page_loads_npm_client(example)
        for transport in NODE_TRANSPORTS:
            result = run_node(node, "rpcping", example.url, transport, count=10)
            assert result["transport"] == transport
            assert len(result["sent"]) == 10
            assert result["received"] == result["sent"]
            assert all(0 <= rtt < 5000 for rtt in result["rtts"]), result


def test_ackping_acknowledges_in_both_directions(node, node_modules, tmp_path):
    with running("ackping", tmp_path) as example:
        assert_page_loads_npm_client(example)
        for transport in NODE_TRANSPORTS:
            result = run_node(node, "ackping", example.url, transport, count=5)
            assert result["transport"] == transport
            # Client -> server: each ACK callback got exactly the value it sent.
            assert result["acked"] == [[sent] for sent in result["sent"]]
            # Server -> client: emit_ack asked for an ACK (the handler got a function),
            # and the server's callback saw the client's ACK arguments.
            assert result["serverPings"] == [{"token": n, "ackIsFunction": True}
                                             for n in range(1, 6)]
            assert [(r["token"], r["acked"]) for r in result["serverRtts"]] == \
                [(n, [n]) for n in range(1, 6)]
            assert all(r["ms"] >= 0 for r in result["serverRtts"])


def test_multiplexed_chat_and_ping_endpoints_share_one_connection(node, node_modules, tmp_path):
    with running("multiplexed", tmp_path) as example:
        assert_page_loads_npm_client(example)
        for transport in NODE_TRANSPORTS:
            result = run_node(node, "multiplexed", example.url, transport, count=3)
            assert result["transport"] == transport
            assert result["sameSocket"] is True
            first, second = result["sessionIds"]
            assert first and first == second
            nick = result["nick"]
            assert result["chat"][:2] == ["* %s joined" % nick, "%s: hello over /chat" % nick]
            assert result["pongs"] == result["sent"] == [0, 1, 2]


def test_gen_sync_engine_returns_results_in_call_order(node, node_modules, tmp_path):
    with running("gen", tmp_path) as example:
        assert_page_loads_npm_client(example)
        for transport in NODE_TRANSPORTS:
            result = run_node(node, "gen", example.url, transport)
            results = {kind: [(r["number"], r["square"]) for r in entries]
                       for kind, entries in result["results"].items()}
            # Requests 1, 2, 3 take 0.3, 0.2, 0.1 s: sync_engine keeps call order...
            assert results["ordered"] == [(1, 1), (2, 4), (3, 9)], result
            assert results["generator"] == [(1, 1), (2, 4), (3, 9)], result
            # ...and one at a time: the last result comes after all the work, 0.6 s.
            assert result["results"]["ordered"][-1]["ms"] >= 550, result
            # A plain async def handler overlaps its calls: completion order.
            assert results["unordered"] == [(3, 9), (2, 4), (1, 1)], result


# -- stats: JSON counters, and the chart in Chromium -------------------------------------


def _stats(example: Example) -> Dict[str, Any]:
    body, content_type = _get(example.url + "/stats")
    assert content_type.startswith("application/json")
    return json.loads(body)


def test_stats_json_counts_sessions_connections_and_packets(node, node_modules, tmp_path):
    with running("stats", tmp_path) as example:
        assert _stats(example)["sessions_total"] == 0
        for transport in NODE_TRANSPORTS:
            run_node(node, "rpcping", example.url, transport, count=20)
        stats = _stats(example)
        assert stats["sessions_total"] == 2 and stats["sessions_max"] >= 1, stats
        assert stats["connections_total"] >= 2, stats
        # 20 pings in and 20 pongs out per client, at least.
        assert stats["packets_recv_total"] >= 40 and stats["packets_sent_total"] >= 40, stats
        # The rates are moving averages the server updates once a second.
        deadline = time.monotonic() + 5
        while stats["packets_recv_ps"] == 0 and time.monotonic() < deadline:
            time.sleep(0.2)  # waiting for the server's one-second tick
            stats = _stats(example)
        assert stats["packets_recv_ps"] > 0 and stats["packets_sent_ps"] > 0, stats


#: The chart's line colours in examples/stats/index.html (sessions, connections, packets/s).
CHART_COLOURS = [(0x1f, 0x5f, 0xbf), (0xd9, 0x48, 0x0f), (0x2b, 0x8a, 0x3e)]

CHART_READY = """(() => {
  const chart = window.Chart && Chart.getChart(document.getElementById('chart'));
  return !!chart && chart.data.datasets[0].data.length >= 2 &&
    chart.data.datasets.some(d => d.data.some(v => v > 0));
})()"""


def test_stats_page_draws_a_live_chart_from_the_stats_json(node, chromium, tmp_path):
    screenshot = tmp_path / "chart.png"
    with running("stats", tmp_path) as example:
        page = assert_page_loads_npm_client(example)
        assert '<script src="/chart.umd.js"></script>' in page
        chart_js = ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.js"
        assert _get(example.url + "/chart.umd.js")[0] == chart_js.read_bytes()
        reports = run_browser(node, chromium, [{"name": "stats", "steps": [
            {"goto": example.url + "/"},
            {"wait": CHART_READY},
            {"eval": "Chart.getChart(document.getElementById('chart')).data.datasets"
                     ".map(d => ({label: d.label, data: d.data}))", "as": "datasets"},
            {"screenshot": "#chart", "path": str(screenshot)},
        ]}])
    datasets = tab_values(reports, "stats")["datasets"]
    assert [d["label"] for d in datasets] == ["sessions", "connections",
                                              "packets/s (sent + received)"]
    # The page's own connection: at least one session was active at some point.
    assert max(datasets[0]["data"]) >= 1, datasets

    width, height, pixels = _decode_png(screenshot.read_bytes())
    assert width >= 300 and height >= 200
    background, _ = Counter(pixels).most_common(1)[0]
    drawn = sum(1 for p in pixels if p != background)
    data_lines = sum(1 for p in pixels if any(_near(p, colour) for colour in CHART_COLOURS))
    assert drawn > width * height // 100, (drawn, width, height)
    # Lines in the series colours: data, not only axes and grid (the legend is HTML).
    assert data_lines > width, (data_lines, width)


def _near(pixel: Tuple[int, int, int], colour: Tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def _decode_png(data: bytes) -> Tuple[int, int, List[Tuple[int, int, int]]]:
    """(width, height, RGB pixels) of an 8-bit RGB(A) non-interlaced PNG, as Chromium writes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, chunks, idat = 8, {}, b""
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        offset += 12 + length
        if kind == b"IDAT":
            idat += body
        else:
            chunks[kind] = body
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, chunks[b"IHDR"]
    channels = 3 if colour_type == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    previous = bytearray(stride)
    pixels: List[Tuple[int, int, int]] = []
    for y in range(height):
        filter_type = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if filter_type == 1:
                line[i] = (line[i] + left) & 0xFF
            elif filter_type == 2:
                line[i] = (line[i] + up) & 0xFF
            elif filter_type == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif filter_type == 4:
                estimate = left + up - up_left
                distances = (abs(estimate - left), abs(estimate - up), abs(estimate - up_left))
                nearest = (left, up, up_left)[distances.index(min(distances))]
                line[i] = (line[i] + nearest) & 0xFF
        pixels.extend(tuple(line[x:x + 3]) for x in range(0, stride, channels))
        previous = line
    return width, height, pixels


# -- transports, crosssite, ssl_transports: pages in Chromium ------------------------------

#: What Chromium can use. htmlfile needs Internet Explorer's ActiveX and flashsocket
#: the Flash player: there the page must say that they are unavailable.
BROWSER_TRANSPORTS = ["websocket", "xhr-polling", "jsonp-polling"]
IE_AND_FLASH_ONLY = ["htmlfile", "flashsocket"]


def test_transports_page_echoes_over_the_transport_the_user_picks(node, chromium, tmp_path):
    with running("transports", tmp_path) as example:
        page = assert_page_loads_npm_client(example)
        offered = re.findall(r"<option>([a-z-]+)</option>", page)
        assert offered == ["websocket", "flashsocket", "xhr-polling", "jsonp-polling", "htmlfile"]
        tabs = [echo_tab(t, "%s/?transport=%s" % (example.url, t), "hello over " + t)
                for t in BROWSER_TRANSPORTS]
        tabs += [{"name": t, "steps": [
            {"goto": "%s/?transport=%s" % (example.url, t)},
            {"wait": "document.body.dataset.state === 'unavailable'"},
            {"eval": "document.getElementById('status').textContent", "as": "status"},
        ]} for t in IE_AND_FLASH_ONLY]
        reports = run_browser(node, chromium, tabs)
    for transport in BROWSER_TRANSPORTS:
        values = tab_values(reports, transport)
        assert values["transport"] == transport
        assert values["log"] == ["sent: hello over " + transport, "echo: hello over " + transport]
    for transport in IE_AND_FLASH_ONLY:
        status = tab_values(reports, transport)["status"]
        assert status == transport + " is not available in this browser"


class _ThirdOrigin:
    """A copy of the crosssite page (and client) served from another port: a foreign origin."""

    def __init__(self, page: bytes, client: bytes) -> None:
        files = {"/": (page, "text/html"), "/socket.io.js": (client, "application/javascript")}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body, content_type = files.get(self.path.split("?")[0], (b"", "text/plain"))
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def test_crosssite_page_talks_across_ports_and_other_origins_are_refused(node, chromium,
                                                                         tmp_path):
    socket_port = _free_port()
    with running("crosssite", tmp_path, "--socket-port", str(socket_port)) as example:
        page = assert_page_loads_npm_client(example)
        assert ":%d'" % socket_port in page  # the page talks to the other port
        third = _ThirdOrigin(page.encode(), BROWSER_CLIENT.read_bytes())
        try:
            tabs = [echo_tab(t, "%s/?transport=%s" % (example.url, t), "hello")
                    for t in ("websocket", "xhr-polling")]
            tabs.append({"name": "third origin", "steps": [
                {"goto": third.url + "/"},
                {"wait": "document.body.dataset.state === 'refused'"},
                {"eval": "document.body.dataset.transport || null", "as": "transport"},
            ]})
            reports = run_browser(node, chromium, tabs)
        finally:
            third.stop()
        log = example.log()
    for transport in ("websocket", "xhr-polling"):
        values = tab_values(reports, transport)
        assert values["transport"] == transport
        assert values["log"] == ["echo: hello (echoed to a page from %s)" % example.url]
    assert tab_values(reports, "third origin")["transport"] is None
    assert "refused origin %r" % third.url in log, log


def test_ssl_transports_echo_over_wss_and_https_polling(node, chromium, tmp_path):
    with running("ssl_transports", tmp_path) as example:
        assert example.url.startswith("https://")
        assert_page_loads_npm_client(example)
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(example.url + "/", timeout=5)  # self-signed, made at start
        for transport in NODE_TRANSPORTS:
            # Node's clients take the self-signed certificate only with this.
            result = run_node(node, "echo", example.url, transport, count=3,
                              env={"NODE_TLS_REJECT_UNAUTHORIZED": "0"})
            assert (result["transport"], result["secure"]) == (transport, True)
            assert result["echoed"] == result["sent"]
        reports = run_browser(
            node, chromium, [echo_tab(t, "%s/?transport=%s" % (example.url, t), "secret " + t)
                             for t in ("websocket", "jsonp-polling")],
            flags=["--ignore-certificate-errors"])
    for transport in ("websocket", "jsonp-polling"):
        values = tab_values(reports, transport)
        assert values["transport"] == transport
        assert values["log"] == ["sent: secret " + transport, "echo: secret " + transport]
    assert not list((EXAMPLES / "ssl_transports").glob("*.pem"))  # nothing written next to it
