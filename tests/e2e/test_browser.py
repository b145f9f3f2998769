"""socket.io-client 0.9.16's browser build in headless Chromium against tornadio2, cross-origin.

The test page (``pages/client.html`` + ``pages/harness.js``) is served from one
port and talks to tornadio2 (``browser_app.py``) on another, so every
Socket.IO request is cross-origin, as for a site embedding a Socket.IO 0.9
client from another host. Both servers run in-process on the test's IOLoop.
``clients/browser_driver.js`` launches the installed Chromium once per test
(never a downloaded one) and opens one tab per scenario; the page forces
one transport (``io.transports`` and the ``transports`` option) and checks
that the client really uses it. Each scenario is a subtest that asserts what
the page received (its checks, Socket.IO data trace and Chromium's network
log are in the failure message) and what the server saw.

The origin policy is checked twice: a page whose origin is not in
``allowed_origins`` cannot connect on any transport, and, at the wire level,
a session made without an Origin refuses every transport request carrying a
foreign one.

Needs node, ``node_modules`` (socket.io-client, playwright-core) and Chromium
(``$CHROMIUM`` or ``chromium`` on ``PATH``); without them the browser tests
are skipped, except with ``CI=true``, where they fail. The wire-level test
needs none of them.
"""

import asyncio
import logging
import os
import socket
from typing import Any, Awaitable, Callable, Dict, List

import pytest

try:
    from . import browser_support as support
    from .browser_app import TagRecorder, make_application, make_page_application
except ImportError:  # tests/e2e is not a package: pytest put this directory on sys.path
    import browser_support as support  # type: ignore[no-redef]
    from browser_app import (  # type: ignore[no-redef]
        TagRecorder, make_application, make_page_application)

pytestmark = pytest.mark.e2e

TRANSPORTS = ["websocket", "xhr-polling", "jsonp-polling"]

#: Scenario of harness.js -> what it shows (the subtest's message).
SCENARIOS = {
    "connect": "the page connects over the forced transport, cross-origin",
    "send_echo": "a message sent by the page is echoed back",
    "emit_ack": "the page's emit with an ACK callback gets the handler's return value",
    "server_ack": "the server's emit_ack is answered by the page and its callback runs",
    "multiplex": "/chat and /news are multiplexed over the page's one connection",
    "unicode": "Cyrillic, emoji and U+FFFD arrive exact in both directions",
    "server_close": "the server's close() reaches the page as a disconnect",
    "client_disconnect": "the page's disconnect() calls on_close on the server",
}

# The same literals as PAYLOADS in harness.js.
UNICODE_PAYLOADS = [
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440",
    "\U0001F600",
    "\ufffd",
    "\ufffd3\ufffdabc",
    "\u0451\U0001F600\ufffd\U0001D11E end",
]

#: Seconds to wait for a server-side fact the page has already seen happen.
SERVER_WAIT = 5.0
#: A whole test: one driver run with every tab, plus the server checks.
TEST_TIME_LIMIT = support.driver_time_limit(len(SCENARIOS)) + 30


def _unavailable(reason: str) -> None:
    """Skip for a missing prerequisite, but fail on CI where it must be there."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail("browser test prerequisite missing on CI: " + reason, pytrace=False)
    pytest.skip(reason)


class Browser:
    """Node and Chromium, ready to run ``browser_driver.js``."""

    def __init__(self, node: str, chromium: str) -> None:
        self.node = node
        self.chromium = chromium

    async def run(self, page_url: str, server_url: str,
                  runs: List[support.Run]) -> support.DriverRun:
        return await support.run_driver(self.node, self.chromium, page_url, server_url, runs)


@pytest.fixture(scope="session")
def browser(node: str, node_modules: Any) -> Browser:
    """Node (``node``/``node_modules`` fixtures of conftest.py) plus playwright-core and Chromium."""
    if support.playwright_dir() is None:
        _unavailable("playwright-core is missing from node_modules; run "
                     "`npm install --ignore-scripts` in %s" % support.PROJECT_ROOT)
    chromium = support.find_chromium()
    if chromium is None:
        _unavailable("Chromium not found (looked for %s; set $CHROMIUM or put chromium on PATH)"
                     % (os.environ.get("CHROMIUM") or "chromium, chromium-browser"))
    return Browser(node, str(chromium))


def root(port: int) -> str:
    return "http://127.0.0.1:%d" % port


def page_address(port: int) -> str:
    return root(port) + "/client.html"


def unused_port() -> int:
    """A port number nothing here listens on (for an origin that is not the page's)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_server_quiet(caplog: Any) -> None:
    """Nothing was logged at WARNING or worse while well-behaved pages ran."""
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not noisy, "server logged:\n" + "\n".join(
        "%s %s: %s" % (r.levelname, r.name, r.getMessage()) for r in noisy)


# -- server-side checks, one per scenario ----------------------------------------

ServerCheck = Callable[[TagRecorder, support.PageRun], Awaitable[None]]


def _facts(recorder: TagRecorder, page: support.PageRun) -> str:
    return "server facts of %s: %r\n%s" % (page.run.tag, recorder.of(page.run.tag),
                                           page.explain())


async def _closed(recorder: TagRecorder, page: support.PageRun, endpoint: str = "") -> None:
    try:
        await asyncio.wait_for(recorder.wait("close", page.run.tag, endpoint), SERVER_WAIT)
    except asyncio.TimeoutError:
        raise AssertionError("on_close never ran for %s on %r; %s" % (
            page.run.tag, endpoint, _facts(recorder, page))) from None


async def _connect(recorder: TagRecorder, page: support.PageRun) -> None:
    assert recorder.values("open", page.run.tag) == [None], _facts(recorder, page)


async def _send_echo(recorder: TagRecorder, page: support.PageRun) -> None:
    assert recorder.values("message", page.run.tag) == ["hello from the page"], \
        _facts(recorder, page)


async def _emit_ack(recorder: TagRecorder, page: support.PageRun) -> None:
    assert recorder.values("add", page.run.tag) == [[2, 3]], _facts(recorder, page)


async def _server_ack(recorder: TagRecorder, page: support.PageRun) -> None:
    assert recorder.values("ack", page.run.tag) == [["yes", {"n": 42}]], _facts(recorder, page)


async def _multiplex(recorder: TagRecorder, page: support.PageRun) -> None:
    tag = page.run.tag
    assert recorder.values("open", tag) == [None], "one session: " + _facts(recorder, page)
    assert recorder.values("open", tag, "/chat") == [None], _facts(recorder, page)
    assert recorder.values("open", tag, "/news") == [None], _facts(recorder, page)
    assert recorder.values("message", tag, "/chat") == ["to chat"], _facts(recorder, page)
    assert recorder.values("message", tag, "/news") == ["to news"], _facts(recorder, page)
    assert recorder.values("message", tag) == ["to main"], _facts(recorder, page)


async def _unicode(recorder: TagRecorder, page: support.PageRun) -> None:
    tag = page.run.tag
    assert recorder.values("message", tag) == UNICODE_PAYLOADS, _facts(recorder, page)
    assert recorder.values("ping", tag) == [[text] for text in UNICODE_PAYLOADS], \
        _facts(recorder, page)


async def _closed_once(recorder: TagRecorder, page: support.PageRun) -> None:
    await _closed(recorder, page)
    assert len(recorder.values("close", page.run.tag)) == 1, _facts(recorder, page)


SERVER_CHECKS: Dict[str, ServerCheck] = {
    "connect": _connect, "send_echo": _send_echo, "emit_ack": _emit_ack,
    "server_ack": _server_ack, "multiplex": _multiplex, "unicode": _unicode,
    "server_close": _closed_once, "client_disconnect": _closed_once,
}


def assert_no_http_errors(recorder: TagRecorder, page: support.PageRun) -> None:
    """The server answered every request of the run with a success (200, or 101)."""
    answered = recorder.values("http", page.run.tag)
    assert answered, _facts(recorder, page)
    assert all(status < 400 for _, _, status in answered), _facts(recorder, page)


def assert_used_only(page: support.PageRun, server: str, transport: str) -> None:
    """Chromium's own log: cross-origin handshake with CORS, then only the forced transport."""
    requests = page.requests_to(server)
    handshakes = [r for r in requests if r["url"].startswith(server + "/socket.io/1/?")]
    assert handshakes, "no handshake request seen by Chromium\n" + page.explain()
    assert handshakes[0].get("origin") == page.page.get("origin"), page.explain()
    answers = page.responses_from(server + "/socket.io/1/?")
    assert answers and answers[0]["status"] == 200, page.explain()
    assert answers[0].get("acao") == page.page.get("origin"), \
        "the handshake answer lacks CORS for the page's origin\n" + page.explain()
    used = set()
    for request in requests:
        if request in handshakes:
            continue
        url = request["url"].split("://", 1)[1]
        parts = url.split("/")  # host, socket.io, 1, transport, sid...
        used.add(parts[3] if len(parts) > 3 else url)
    assert used == {transport}, "transports used: %r\n%s" % (sorted(used), page.explain())


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.gen_test(timeout=TEST_TIME_LIMIT)
async def test_cross_origin_page_passes_every_scenario_over_the_forced_transport(
        browser: Browser, transport: str, subtests: Any, caplog: Any) -> None:
    recorder = TagRecorder()
    runs = [support.Run(transport, scenario, "%s.%s" % (scenario, transport))
            for scenario in SCENARIOS]
    async with support.served(make_page_application()) as page_port, \
            support.served(make_application(recorder)) as server_port:
        server = root(server_port)
        result = await browser.run(page_address(page_port), server, runs)
        for run in runs:
            page = result.pages[run.tag]
            with subtests.test(msg=SCENARIOS[run.scenario], transport=transport):
                assert page.passed, page.explain(result.explain())
                assert_used_only(page, server, transport)
                await SERVER_CHECKS[run.scenario](recorder, page)
                assert_no_http_errors(recorder, page)
        assert result.complete, result.explain()
    assert_server_quiet(caplog)


#: Room scenarios of harness.js: several sockets on one page, transports mixed.
ROOM_SCENARIOS = {
    "rooms": "three sockets on mixed transports: room emits reach exactly their members, "
             "broadcast skips the sender, /chat rooms are separate",
    "volatile": "a volatile send to a poller with no GET waiting is dropped, the next is queued",
}


def transports_used(page: support.PageRun, server: str) -> set:
    """The transports Chromium saw the page use (the handshake aside)."""
    used = set()
    for request in page.requests_to(server):
        parts = request["url"].split("://", 1)[1].split("/")  # host, socket.io, 1, transport
        if len(parts) > 4:
            used.add(parts[3])
    return used


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.gen_test(timeout=support.driver_time_limit(len(ROOM_SCENARIOS)) + 30)
async def test_rooms_broadcast_and_volatile_with_several_sockets_on_one_page(
        browser: Browser, transport: str, subtests: Any, caplog: Any) -> None:
    recorder = TagRecorder()
    runs = [support.Run(transport, scenario, "%s.%s" % (scenario, transport))
            for scenario in ROOM_SCENARIOS]
    polling = "jsonp-polling" if transport == "jsonp-polling" else "xhr-polling"
    expected = {  # the transports each scenario mixes (see harness.js)
        "rooms": {transport, "xhr-polling" if transport == "websocket" else "websocket"},
        "volatile": {transport, polling},
    }
    async with support.served(make_page_application()) as page_port, \
            support.served(make_application(recorder)) as server_port:
        server = root(server_port)
        result = await browser.run(page_address(page_port), server, runs)
        for run in runs:
            page = result.pages[run.tag]
            with subtests.test(msg=ROOM_SCENARIOS[run.scenario], transport=transport):
                assert page.passed, page.explain(result.explain())
                assert transports_used(page, server) == expected[run.scenario], page.explain()
                sockets = "ABC" if run.scenario == "rooms" else "PH"
                for name in sockets:
                    tag = "%s.%s" % (run.tag, name)
                    assert recorder.values("open", tag) == [None], recorder.of(tag)
                    if run.scenario == "rooms":
                        assert recorder.values("open", tag, "/chat") == [None], recorder.of(tag)
        assert result.complete, result.explain()
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=support.driver_time_limit(2 * len(TRANSPORTS)) + 30)
async def test_page_from_an_origin_outside_the_allow_list_cannot_connect_on_any_transport(
        browser: Browser, subtests: Any) -> None:
    recorder = TagRecorder()
    allowed = root(unused_port())
    async with support.served(make_page_application()) as page_port:
        page_origin = root(page_port)
        refusing_app = make_application(recorder, allowed_origins=[allowed])
        # The control: the same list plus the page's origin lets the page in.
        allowing_app = make_application(recorder, allowed_origins=[allowed, page_origin])
        async with support.served(refusing_app) as refusing_port, \
                support.served(allowing_app) as allowing_port:
            refusing, allowing = root(refusing_port), root(allowing_port)
            runs = ([support.Run(t, "refused", "refused." + t) for t in TRANSPORTS]
                    + [support.Run(t, "connect", "allowed." + t, allowing) for t in TRANSPORTS])
            result = await browser.run(page_address(page_port), refusing, runs)
            for transport in TRANSPORTS:
                page = result.pages["refused." + transport]
                with subtests.test(msg="page outside the allow-list is refused",
                                   transport=transport):
                    assert page.passed, page.explain(result.explain())
                    # Chromium hides the status of a CORS failure; the server
                    # tells: the handshake was the only request, refused.
                    assert recorder.values("http", page.run.tag) == [
                        ("GET", "/socket.io/1/", 403)], _facts(recorder, page)
                    assert [r["url"] for r in page.requests_to(refusing)
                            if "/socket.io/1/?" not in r["url"]] == [], \
                        "a transport was tried after a refused handshake\n" + page.explain()
                    assert recorder.values("open", page.run.tag) == [], _facts(recorder, page)
                page = result.pages["allowed." + transport]
                with subtests.test(msg="page in the allow-list connects", transport=transport):
                    assert page.passed, page.explain(result.explain())
                    assert_used_only(page, allowing, transport)
                    assert recorder.values("open", page.run.tag) == [None], \
                        _facts(recorder, page)
            assert result.complete, result.explain()


# -- the same policy on the wire ---------------------------------------------------

def _get(host: str, path: str, origin: str = "") -> bytes:
    lines = ["GET %s HTTP/1.1" % path, "Host: " + host]
    if origin:
        lines.append("Origin: " + origin)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _post(host: str, path: str, body: bytes, content_type: str, origin: str) -> bytes:
    head = ["POST %s HTTP/1.1" % path, "Host: " + host, "Origin: " + origin,
            "Content-Type: " + content_type, "Content-Length: %d" % len(body)]
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body


def _upgrade(host: str, path: str, origin: str) -> bytes:
    lines = ["GET %s HTTP/1.1" % path, "Host: " + host, "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Version: 13",
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Origin: " + origin]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


@pytest.mark.gen_test(timeout=30)
async def test_foreign_origin_is_refused_on_every_transport_of_a_session_made_without_origin(
        subtests: Any) -> None:
    recorder = TagRecorder()
    allowed, foreign = root(unused_port()), root(unused_port())
    async with support.served(make_application(recorder, allowed_origins=[allowed])) as port:
        host = "127.0.0.1:%d" % port  # what a browser sends for this server
        handshake = await support.raw_request(port, _get(host, "/socket.io/1/?tag=wire&t=1"))
        assert handshake.status == 200, handshake
        sid = handshake.body.decode("ascii").split(":")[0]
        assert len(sid) >= 16, handshake
        xhr = "/socket.io/1/xhr-polling/%s?tag=wire&t=2" % sid
        jsonp = "/socket.io/1/jsonp-polling/%s?tag=wire&t=3&i=0" % sid
        refused = {
            "handshake": _get(host, "/socket.io/1/?tag=wire&t=4", foreign),
            "xhr-polling GET": _get(host, xhr, foreign),
            "xhr-polling POST": _post(host, xhr, "3:::from a foreign page".encode("utf-8"),
                                      "text/plain;charset=UTF-8", foreign),
            "jsonp-polling GET": _get(host, jsonp, foreign),
            "jsonp-polling POST": _post(host, jsonp,
                                        b"d=%223%3A%3A%3Afrom%20a%20foreign%20page%22",
                                        "application/x-www-form-urlencoded", foreign),
            "websocket upgrade": _upgrade(host, "/socket.io/1/websocket/%s" % sid, foreign),
        }
        for what, request in refused.items():
            with subtests.test(msg="foreign Origin refused with 403", request=what):
                answer = await support.raw_request(port, request)
                assert answer.status == 403, "%s -> %r" % (what, answer)
                assert "access-control-allow-origin" not in answer.headers, answer
        with subtests.test(msg="the session is intact for its own client"):
            # The first GET of the session still gets the connect packet: none of
            # the refused requests attached to it or delivered a packet.
            answer = await support.raw_request(port, _get(host, xhr, allowed))
            assert (answer.status, answer.body) == (200, b"1::"), answer
            assert answer.headers.get("access-control-allow-origin") == allowed, answer
            assert recorder.values("message", "wire") == [], recorder.of("wire")
            assert recorder.values("open", "wire") == [None], recorder.of("wire")
        with subtests.test(msg="a Host without a port is port 80, not the Origin's port"):
            # Same host name, another port: still another origin (last, since a
            # wrongly accepted GET would attach to the session).
            answer = await support.raw_request(port, _get("127.0.0.1", xhr, foreign))
            assert answer.status == 403, answer
