"""End to end: examples/chat/chat.py with stock socket.io-client 0.9.16 users in Node.

The example runs as its own process, the way users start it; one user connects
over websocket and the other over xhr-polling, and each must see the other's
line; users in another room see none of them, until they switch rooms. Skips
when Node.js or node_modules are missing, except under CI=true.
"""

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAT_SCRIPT = ROOT / "examples" / "chat" / "chat.py"
CHAT_USER = Path(__file__).resolve().parent / "clients" / "chat_user.js"
BROWSER_CLIENT = ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.js"
NODE = shutil.which("node")

STARTUP_TIMEOUT = 20.0  # seconds for chat.py to answer HTTP
STEP_TIMEOUT = 15.0  # seconds for each expected chat event

pytestmark = pytest.mark.e2e


def _require_node() -> None:
    missing = []
    if NODE is None:
        missing.append("node is not on PATH")
    if not BROWSER_CLIENT.is_file():
        missing.append("node_modules/socket.io-client is missing (npm install --ignore-scripts)")
    if missing:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail("; ".join(missing) + " (CI=true: e2e tests must run)")
        pytest.skip("; ".join(missing))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


class ChatServer:
    """examples/chat/chat.py running in a subprocess on a free loopback port."""

    def __init__(self, log_path: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = dict(os.environ)
        # Import tornadio2 from this checkout whether or not it is installed.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(CHAT_SCRIPT), "--port", str(self.port)],
                cwd=str(ROOT), env=env, stdout=log, stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_answering(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"chat.py exited with {self.process.returncode}:\n{self.log()}")
            try:
                _get(self.url + "/")
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)  # poll interval while the process starts, not synchronisation
        pytest.fail(f"chat.py did not answer within {STARTUP_TIMEOUT}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory):
    _require_node()
    server = ChatServer(tmp_path_factory.mktemp("chat") / "chat.log")
    try:
        server.wait_until_answering()
        yield server
    finally:
        server.stop()


class NodeUser:
    """A chat_user.js process; collects the JSON events it prints."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self.process = process
        self.events: list = []
        self._changed = asyncio.Condition()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, url: str, nick: str, transport: str, say=None,
                    say_after=None, leave_after=None, room=None) -> "NodeUser":
        options = {"url": url, "nick": nick, "transport": transport, "say": say,
                   "sayAfter": say_after, "leaveAfter": leave_after, "room": room}
        process = await asyncio.create_subprocess_exec(
            NODE, str(CHAT_USER), json.dumps(options), cwd=str(ROOT),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(nick, process)

    @property
    def messages(self) -> list:
        return [event["data"] for event in self.events if event["event"] == "message"]

    def command(self, **command) -> None:
        """Tell chat_user.js to ``say`` a line or ``join`` a room."""
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())

    async def says(self, line: str) -> None:
        """Say ``line`` and wait until it comes back from the room."""
        self.command(say=line)
        await self.wait_until("own line %r back" % line,
                              lambda: "%s: %s" % (self.name, line) in self.messages)

    @property
    def transport(self):
        return next((e["transport"] for e in self.events if e["event"] == "connect"), None)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            async with self._changed:
                self.events.append(json.loads(line))
                self._changed.notify_all()
        async with self._changed:
            self.events.append({"event": "exit"})
            self._changed.notify_all()

    async def wait_until(self, what: str, condition) -> None:
        """Wait for ``condition()`` to hold; fail with everything seen if it never does."""
        def done() -> bool:
            return condition() or self.events[-1:] == [{"event": "exit"}]

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(done), STEP_TIMEOUT)
            except asyncio.TimeoutError:
                pass
        if not condition():
            stderr = await self._stderr_so_far()
            pytest.fail(f"{self.name}: expected {what}; events {self.events}; stderr {stderr!r}")

    async def _stderr_so_far(self) -> str:
        assert self.process.stderr is not None
        try:
            return (await asyncio.wait_for(self.process.stderr.read(65536), 1)).decode()
        except asyncio.TimeoutError:
            return ""

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()
        await self._reader


def test_chat_page_loads_socket_io_client_from_node_modules(chat_server):
    page = _get(chat_server.url + "/").decode()
    assert '<script src="/socket.io.js"></script>' in page
    assert _get(chat_server.url + "/socket.io.js") == BROWSER_CLIENT.read_bytes()


def test_websocket_and_xhr_polling_users_see_each_others_lines(chat_server):
    async def conversation() -> None:
        # alice joins first and speaks once bob is there; bob speaks as soon as he connects.
        # alice leaves over websocket: an xhr-polling client drops its disconnect packet
        # while one of its POSTs is still in flight, so bob could not leave reliably.
        alice = await NodeUser.start(chat_server.url, "alice", "websocket", "hello from alice",
                                     say_after="* bob joined", leave_after="bob: hello from bob")
        try:
            await alice.wait_until("to see herself join", lambda: "* alice joined" in alice.messages)
            bob = await NodeUser.start(chat_server.url, "bob", "xhr-polling", "hello from bob")
            try:
                await alice.wait_until("bob's line", lambda: "bob: hello from bob" in alice.messages)
                await bob.wait_until("alice's line", lambda: "alice: hello from alice" in bob.messages)
                await bob.wait_until("alice to leave", lambda: "* alice left" in bob.messages)
            finally:
                await bob.stop()
        finally:
            await alice.stop()
        assert (alice.transport, bob.transport) == ("websocket", "xhr-polling")
        assert alice.messages.index("* bob joined") < alice.messages.index("bob: hello from bob")

    asyncio.run(conversation())
    log = chat_server.log()
    assert "Traceback" not in log and " ERROR " not in log, log


def test_users_in_another_room_see_none_of_the_lines_until_they_switch(chat_server):
    # Absence is proven by order: each user's own line comes back after
    # everything the server sent them before it, so a line from another
    # room that had reached them would sit earlier in their list.
    async def conversation() -> None:
        erin = await NodeUser.start(chat_server.url, "erin", "websocket", room="attic")
        frank = await NodeUser.start(chat_server.url, "frank", "xhr-polling")  # lobby
        try:
            await erin.wait_until("to join the attic", lambda: "* erin joined" in erin.messages)
            await frank.wait_until("to join", lambda: "* frank joined" in frank.messages)
            await frank.says("hello lobby")
            await erin.says("hello attic")
            await frank.says("anyone?")
            assert erin.messages == ["* erin joined", "erin: hello attic"]
            assert frank.messages == ["* frank joined", "frank: hello lobby", "frank: anyone?"]
            erin.command(join="lobby")
            await erin.wait_until("the ACK of join", lambda: any(
                e["event"] == "joined" for e in erin.events))
            await frank.wait_until("erin to come", lambda: "* erin joined" in frank.messages)
            await frank.says("welcome erin")
            await erin.wait_until("frank's welcome", lambda: "frank: welcome erin" in erin.messages)
        finally:
            await frank.stop()
            await erin.stop()
        assert [e["room"] for e in erin.events if e["event"] == "joined"] == ["lobby"]
        assert erin.messages == ["* erin joined", "erin: hello attic", "* erin joined",
                                 "frank: welcome erin"]
        assert frank.messages == ["* frank joined", "frank: hello lobby", "frank: anyone?",
                                  "* erin joined", "frank: welcome erin"]
        assert (erin.transport, frank.transport) == ("websocket", "xhr-polling")

    asyncio.run(conversation())
    log = chat_server.log()
    assert "Traceback" not in log and " ERROR " not in log, log
