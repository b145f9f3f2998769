"""Fixtures for the scale-out tests: a real redis-server, tornadio2 processes, Node clients.

* ``redis_server``: ``redis-server`` on a free 127.0.0.1 port, without
  persistence (``--save ''``), in its own folder under the test's tmp dir,
  stopped by pid at the end. :class:`RedisServer` can kill and restart it.
* ``cluster``: two tornadio2 processes (``scaleout_app.py``, node ids ``a1``
  and ``b2``) on that Redis.
* ``clients``: :class:`NodeClients`, many stock socket.io-client 0.9.16
  connections in one Node process (``clients/driver.js``).

A missing redis-server, nginx or Node skips these tests, except with
``CI=true``, where it fails them.
"""

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent.parent
APP = HERE / "scaleout_app.py"
DRIVER_JS = HERE / "clients" / "driver.js"
#: Seconds a process gets to start listening.
START_TIMEOUT = 15.0
#: Seconds any one wait of a test lasts at most.
WAIT = 10.0


def unavailable(reason: str) -> None:
    """Skip for a missing tool, but fail on CI where it must be there."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail("scale-out prerequisite missing on CI: " + reason, pytrace=False)
    pytest.skip(reason)


def tool(name: str) -> str:
    """The path of ``name`` (also looked for in the sbin folders), or skip/fail."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/local/sbin")
    if not found:
        unavailable("%s is not installed (Debian: apt-get install %s)" % (name, name))
    return str(found)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = START_TIMEOUT) -> None:
    """Wait until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("nothing listens on 127.0.0.1:%d" % port) from None
            time.sleep(0.05)


def stop_pid(proc: "subprocess.Popen[Any]", sig: int = signal.SIGTERM) -> None:
    """Stop the process we started, by its pid, and reap it."""
    if proc.poll() is None:
        os.kill(proc.pid, sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)


class RedisServer:
    """One ``redis-server`` on 127.0.0.1, no persistence; killable and restartable."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.proc: Optional["subprocess.Popen[bytes]"] = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return "redis://127.0.0.1:%d/0" % self.port

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder), "--daemonize", "no",
             "--logfile", str(self.folder / "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def kill(self) -> None:
        """SIGKILL: Redis vanishes as in a crash."""
        assert self.proc is not None
        stop_pid(self.proc, signal.SIGKILL)

    def stop(self) -> None:
        if self.proc is not None:
            stop_pid(self.proc)


@pytest.fixture(scope="session")
def redis_binary() -> str:
    return tool("redis-server")


@pytest.fixture
def redis_server(redis_binary: str, tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server for the test, stopped at the end."""
    server = RedisServer(redis_binary, tmp_path / "redis")
    server.start()
    yield server
    server.stop()


class TornadioProcess:
    """``scaleout_app.py`` in a subprocess; its stderr (logs) goes to a file."""

    def __init__(self, node: str, broker: Optional[str], folder: Path,
                 extra: Optional[List[str]] = None, port: Optional[int] = None) -> None:
        self.node = node
        self.port = port or free_port()
        self.log = folder / ("%s.log" % node)
        argv = [sys.executable, str(APP), "--port", str(self.port), "--node", node]
        if broker:
            argv += ["--broker", broker]
        argv += extra or []
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(argv, cwd=str(PROJECT_ROOT), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=log)

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.port

    def wait_listening(self) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the app prints once it serves, or exits
        if not line:
            raise RuntimeError("%s did not start: %s" % (self.node, self.logs()))
        assert json.loads(line)["listening"] == self.port

    def logs(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def stop(self) -> None:
        stop_pid(self.proc)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def start_processes(specs: List[Dict[str, Any]], folder: Path) -> List[TornadioProcess]:
    procs = [TornadioProcess(folder=folder, **spec) for spec in specs]
    try:
        for proc in procs:
            proc.wait_listening()
    except BaseException:
        for proc in procs:
            proc.stop()
        raise
    return procs


@pytest.fixture
def cluster(redis_server: RedisServer, tmp_path: Path) -> Iterator[List[TornadioProcess]]:
    """Two tornadio2 processes, ``a1`` and ``b2``, sharing ``redis_server``."""
    procs = start_processes([{"node": "a1", "broker": redis_server.url},
                             {"node": "b2", "broker": redis_server.url}], tmp_path)
    yield procs
    for proc in procs:
        proc.stop()


class NodeClients:
    """Stock 0.9 clients in one Node process; every report is kept in order."""

    def __init__(self, proc: "asyncio.subprocess.Process") -> None:
        self.proc = proc
        self.reports: List[Dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.reports.append(json.loads(line))
            self._changed.set()

    def command(self, **cmd: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode("utf-8"))

    async def wait_for(self, check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
        """Wait until ``check()`` is truthy (re-checked on every report); its value."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = check()
            if value:
                return value
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError("timed out waiting for %s; reports: %s"
                                     % (what, json.dumps(self.reports[-40:])))
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def of(self, name: str, kind: Optional[str] = None,
           event: Optional[str] = None) -> List[Dict[str, Any]]:
        return [r for r in self.reports if r.get("name") == name
                and (kind is None or r["type"] == kind)
                and (event is None or r.get("event") == event)]

    def args(self, name: str, event: str) -> List[List[Any]]:
        """The arguments of every ``event`` client ``name`` received, in order."""
        return [r["args"] for r in self.of(name, "event", event)]

    async def connect(self, name: str, url: str, transport: str) -> str:
        """Open client ``name`` on ``url`` (with its query) and return its session id."""
        self.command(cmd="connect", name=name, url=url, transport=transport)
        report = await self.wait_for(lambda: (self.of(name, "connect") or self.of(name, "error")),
                                     "%s to connect" % name)
        assert report[0]["type"] == "connect", report
        assert report[0]["transport"] == transport, report
        return str(report[0]["sid"])

    async def call(self, name: str, event: str, *args: Any) -> Any:
        """Emit ``event`` with an ACK and return the ACK's first argument."""
        before = len(self.of(name, "ack"))
        self.command(cmd="emit", name=name, event=event, args=list(args), ack=True)
        acks = await self.wait_for(lambda: self.of(name, "ack")[before:],
                                   "%s: ACK of %s" % (name, event))
        return acks[0]["args"][0] if acks[0]["args"] else None

    async def received(self, name: str, event: str, count: int = 1) -> List[List[Any]]:
        """Wait until ``name`` has ``count`` ``event`` events; all of them."""
        return await self.wait_for(lambda: len(self.args(name, event)) >= count
                                   and self.args(name, event),
                                   "%s to receive %d %r" % (name, count, event))

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.command(cmd="exit")
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._reader.cancel()


@pytest.fixture(scope="session")
def node_binary() -> str:
    node = tool(os.environ.get("NODE") or "node")
    if not (PROJECT_ROOT / "node_modules" / "socket.io-client" / "package.json").is_file():
        unavailable("node_modules/socket.io-client is missing; run scripts/bootstrap.sh")
    return node


@pytest.fixture
def node_clients(node_binary: str) -> Callable[[], Any]:
    """``await node_clients()`` -> :class:`NodeClients` (closed at the end of the test)."""
    made: List[NodeClients] = []

    async def make() -> NodeClients:
        proc = await asyncio.create_subprocess_exec(
            node_binary, str(DRIVER_JS), cwd=str(PROJECT_ROOT),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        clients = NodeClients(proc)
        made.append(clients)
        return clients

    yield make
    for clients in made:
        if clients.proc.returncode is None:
            clients.proc.kill()
        clients._reader.cancel()
