"""Fixtures of the test client's own tests: the same application on two servers.

``target`` is parametrised: ``tornadio2`` serves :func:`make_router` in the
test's loop through :func:`tornadio2.testing.serve`; ``native`` is the same
application on the reference server, socket.io 0.9.19 in Node
(``native_app.js``, one process for the session). Every test runs against
both, over both transports (``transport``), so the client is shown right for
the real protocol and not only for tornadio2.

Both servers use short timings: heartbeats every 0.2 s, 1 s to answer one,
and long polls held 1 s. A missing Node or npm package skips the native
runs, except with ``CI=true``, where it fails them.
"""

import asyncio
import json
import os
import shutil
import subprocess
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Tuple

import pytest

from tornadio2 import SocketConnection, TornadioRouter, event
from tornadio2.testing import serve

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent.parent
NATIVE_APP_JS = HERE / "native_app.js"
REQUIRED_PACKAGES = {"socket.io": "0.9.19"}
#: Seconds the native server gets to start listening, and to stop.
NATIVE_START_TIMEOUT = 10.0
#: Seconds between heartbeats; seconds a client has to answer one.
HEARTBEAT_INTERVAL = 0.2
HEARTBEAT_ANSWER_TIME = 0.8
#: Seconds a long poll is held.
POLL_HOLD = 1
#: Seconds a test waits for a server-side fact.
FACT_TIMEOUT = 5.0

ROUTER_SETTINGS = {
    "heartbeat_interval": HEARTBEAT_INTERVAL,
    "client_timeout": HEARTBEAT_ANSWER_TIME,
    "xhr_polling_timeout": POLL_HOLD,
    "enabled_protocols": ["websocket", "xhr-polling"],
    "client_path": None,
}
#: heartbeat interval, heartbeat timeout, close timeout, polling duration.
NATIVE_TIMINGS = (HEARTBEAT_INTERVAL, HEARTBEAT_INTERVAL + HEARTBEAT_ANSWER_TIME,
                  POLL_HOLD + HEARTBEAT_ANSWER_TIME, POLL_HOLD)


class Facts:
    """Session ids whose main connection closed, awaitable from any thread."""

    def __init__(self) -> None:
        self._closed: List[str] = []
        self._lock = threading.Lock()
        self._waiters: List[Tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]] = []

    def closed(self, sid: str) -> None:
        with self._lock:
            self._closed.append(sid)
            waiters, self._waiters = self._waiters, []
        for loop, waiter in waiters:
            loop.call_soon_threadsafe(_resolve, waiter)

    async def wait_closed(self, sid: str, timeout: float = FACT_TIMEOUT) -> None:
        """Return once the server saw session ``sid`` end; fail after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            waiter = loop.create_future()
            with self._lock:
                if sid in self._closed:
                    return
                self._waiters.append((loop, waiter))
            remaining = deadline - loop.time()
            try:
                await asyncio.wait_for(waiter, max(remaining, 0))
            except asyncio.TimeoutError:
                raise AssertionError("the server did not close session %s in %ss (closed: %r)"
                                     % (sid, timeout, self._closed)) from None


def _resolve(waiter: "asyncio.Future[None]") -> None:
    if not waiter.done():
        waiter.set_result(None)


# -- the application on tornadio2 --------------------------------------------------------

class PrivateConnection(SocketConnection):
    """``/private``: refuses everyone."""

    def on_open(self, info: Any) -> bool:
        return False


def make_router(facts: Facts) -> TornadioRouter:
    """The tests' application: what ``native_app.js`` does, on tornadio2."""
    left: Dict[str, List[str]] = {}  # session id -> endpoints closed in it

    class ChatConnection(SocketConnection):
        """``/chat``: echoes with a prefix; the event ``leave`` disconnects it."""

        def on_message(self, message: Any) -> None:
            self.send("chat:" + message)

        @event
        def leave(self) -> None:
            self.close()

        def on_close(self) -> None:
            left.setdefault(self.session.sid, []).append(self.endpoint or "")

    class MainConnection(SocketConnection):
        __endpoints__ = {"/chat": ChatConnection, "/private": PrivateConnection}

        def on_message(self, message: Any) -> None:
            self.send(message)

        @event
        def add(self, a: int, b: int) -> int:
            return a + b

        @event
        def ping(self, *args: Any) -> None:
            self.emit("pong", *args)

        @event
        def ask(self, question: str) -> None:
            self.emit_ack(lambda _sent, args: self.emit("answered", args), "question", question)

        @event
        def send_me(self) -> None:
            self.send("ack me", lambda _sent, _args: self.emit("sent_acked"))

        @event
        def closed_endpoints(self) -> List[str]:
            return list(left.get(self.session.sid, []))

        @event
        def kick(self) -> None:
            self.close()

        def on_close(self) -> None:
            facts.closed(self.session.sid)

    return TornadioRouter(MainConnection, ROUTER_SETTINGS)


# -- the application on the native server -------------------------------------------------

def _unavailable(reason: str) -> None:
    """Skip for a missing prerequisite, but fail on CI, where it must be there."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail("client test prerequisite missing on CI: " + reason, pytrace=False)
    pytest.skip(reason)


class NativeServer:
    """``node native_app.js`` with its output read by a thread."""

    def __init__(self, node: str, facts: Facts) -> None:
        self.facts = facts
        self.output: List[str] = []
        self._listening = threading.Event()
        self.port = 0
        self.proc = subprocess.Popen(
            [node, str(NATIVE_APP_JS)] + ["%g" % value for value in NATIVE_TIMINGS],
            cwd=str(PROJECT_ROOT), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, encoding="utf-8", errors="replace")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line.rstrip("\n"))
            try:
                fact: Dict[str, Any] = json.loads(line)
            except ValueError:
                continue
            if "listening" in fact:
                self.port = int(fact["listening"])
                self._listening.set()
            if "closed" in fact:
                self.facts.closed(fact["closed"])
        self._listening.set()

    def wait_listening(self) -> int:
        if not self._listening.wait(NATIVE_START_TIMEOUT) or not self.port:
            raise RuntimeError("native server did not start: %r" % self.output)
        return self.port

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(NATIVE_START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(NATIVE_START_TIMEOUT)
        self._reader.join(NATIVE_START_TIMEOUT)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture(scope="session")
def native_facts() -> Facts:
    return Facts()


@pytest.fixture(scope="session")
def native_server(native_facts: Facts) -> Iterator[NativeServer]:
    """The reference server for the whole session (needs node and socket.io 0.9.19)."""
    node = shutil.which(os.environ.get("NODE") or "node")
    if node is None:
        _unavailable("node is not installed")
    assert node is not None
    for name, version in REQUIRED_PACKAGES.items():
        manifest = PROJECT_ROOT / "node_modules" / name / "package.json"
        if not manifest.is_file():
            _unavailable("%s is missing; run `npm install --ignore-scripts`" % manifest)
        found = json.loads(manifest.read_text(encoding="utf-8")).get("version")
        if found != version:
            pytest.fail("%s is %s, these tests need %s" % (name, found, version), pytrace=False)
    server = NativeServer(node, native_facts)
    try:
        server.wait_listening()
    except RuntimeError as exc:
        server.stop()
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


# -- what the tests use --------------------------------------------------------------------

class Target:
    """One server under test: ``async with target.running() as url`` and its facts."""

    def __init__(self, name: str, facts: Facts, native: Optional[NativeServer]) -> None:
        self.name = name
        self.facts = facts
        self.native = native

    @property
    def heartbeats_on_polling(self) -> bool:
        """tornadio2 sends heartbeats on every transport (global_heartbeats); socket.io
        0.9 only on sockets."""
        return self.native is None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        if self.native is not None:
            yield "http://127.0.0.1:%d" % self.native.port
            return
        async with serve(make_router(self.facts)) as server:
            yield server.url


@pytest.fixture(params=["tornadio2", "native"])
def target(request: Any) -> Target:
    if request.param == "native":
        native = request.getfixturevalue("native_server")
        return Target("native", native.facts, native)
    return Target("tornadio2", Facts(), None)


@pytest.fixture(params=["websocket", "xhr-polling"])
def transport(request: Any) -> str:
    return str(request.param)
