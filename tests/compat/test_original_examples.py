"""TornadIO2's own examples, in TornadIO2's idioms, run unchanged and driven by the 0.9 client.

Each application of ``tests/compat/originals/`` starts as its own process,
the way TornadIO2's examples started (``SocketServer(application)`` with
``flash_policy_port = 843``), and socket.io-client 0.9.16 in Node
(``clients/originals.js``) does what the example's page did. Every example
runs twice: with port 843 free (the tests run as root, so the Flash policy
server binds it and answers) and with port 843 taken (as for an application
started without root): then the failure is logged and the HTTP server goes
on. Needs node and ``node_modules``; without them the tests skip, except
with ``CI=true``, where they fail.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ORIGINALS = HERE / "originals"
DRIVER = HERE / "clients" / "originals.js"
POLICY_PORT = 843
POLICY_REQUEST = b"<policy-file-request/>\0"
POLICY_REFUSED = "could not start the Flash policy server on port 843"
STARTUP_TIMEOUT = 20.0  # seconds for an application to accept connections
CLIENT_TIMEOUT_MS = 10000
QUERY_SECONDS = 0.5  # the gen example's query time (TornadIO2's took 3 s)
CLOCK = [int, int, int, int]  # the [hour, minute, second, millisecond] the examples send

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _can_bind(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Original:
    """``python originals/<name>.py`` in ``cwd``, its output in a log file."""

    def __init__(self, name: str, cwd: Path, env: Dict[str, str]) -> None:
        self.name = name
        self.port = int(env["SOCKET_IO_PORT"])
        self.log_path = cwd / (name + ".log")
        full_env = dict(os.environ, **env)
        full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT),
                                                               os.environ.get("PYTHONPATH")]))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(ORIGINALS / (name + ".py"))], cwd=str(cwd), env=full_env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_serving(self) -> None:
        """Returns once the port accepts a connection; fails if the process ends first."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail("%s exited with %s:\n%s" % (self.name, self.process.returncode,
                                                        self.log()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)  # poll interval while the process starts, not synchronisation
        pytest.fail("%s did not listen within %ss:\n%s" % (self.name, STARTUP_TIMEOUT, self.log()))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@pytest.fixture(params=["port 843 free", "port 843 taken"])
def policy_port(request) -> Iterator[bool]:
    """Whether the Flash policy server can bind port 843 (``False``: the port is taken)."""
    if request.param == "port 843 free":
        yield _can_bind(POLICY_PORT)  # root may; anyone else may not
        return
    blocker = socket.socket()
    # As a server binds (an earlier test's policy connection may be in TIME_WAIT).
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        blocker.bind(("127.0.0.1", POLICY_PORT))
        blocker.listen(1)
    except OSError:
        pass  # taken already (or refused to a non-root user): the same for the application
    try:
        yield False
    finally:
        blocker.close()


@pytest.fixture
def start(tmp_path, policy_port, node, node_modules):
    """``start(name, **env) -> Original``, serving; stopped and its log checked afterwards."""
    started: List[Original] = []

    def run(name: str, **env: str) -> Original:
        env.setdefault("SOCKET_IO_PORT", str(_free_port()))
        original = Original(name, tmp_path, env)
        started.append(original)
        original.wait_until_serving()
        original.policy_served = policy_port
        return original

    yield run
    for original in started:
        original.stop()
        log = original.log()
        assert "Traceback" not in log, log
        if policy_port:
            assert POLICY_REFUSED not in log, log
            assert_policy_was_served(original)
        else:
            assert log.count(POLICY_REFUSED) == 1, log


def assert_policy_was_served(original: Original) -> None:
    assert original.policy_answer == (ORIGINALS / "flashpolicy.xml").read_bytes() + b"\0"


def read_policy(original: Original) -> None:
    """While the application runs, ask port 843 for the policy (when it could bind it)."""
    if not original.policy_served:
        return
    with socket.create_connection(("127.0.0.1", POLICY_PORT), timeout=5) as sock:
        sock.sendall(POLICY_REQUEST)
        chunks = []
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            chunks.append(chunk)
    original.policy_answer = b"".join(chunks)


def transports(policy_port: bool) -> List[str]:
    """Both Node transports once; one is enough to show the server goes on without 843."""
    return ["websocket", "xhr-polling"] if policy_port else ["xhr-polling"]


def run_node(node: str, scenario: str, url: str, transport: str, count: int = 3,
             insecure: bool = False) -> Dict[str, Any]:
    """One ``originals.js`` scenario; its result, or a failure showing what it saw."""
    options = {"url": url, "transport": transport, "count": count,
               "timeoutMs": CLIENT_TIMEOUT_MS, "insecure": insecure}
    argv = [node, str(DRIVER), scenario, json.dumps(options)]
    proc = subprocess.run(argv, cwd=str(ROOT), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=CLIENT_TIMEOUT_MS / 1000 + 10)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines or "result" not in lines[-1]:
        pytest.fail("%s over %s: exit %s, stdout %s, stderr %s" % (
            scenario, transport, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    result = lines[-1]["result"]
    assert result["transport"] == transport
    return result


def is_clock(value: Any) -> bool:
    return isinstance(value, list) and [type(v) for v in value] == CLOCK


def url_of(original: Original, scheme: str = "http") -> str:
    return "%s://127.0.0.1:%d" % (scheme, original.port)


# -- the examples --------------------------------------------------------------------


def test_ackping(start, node, policy_port):
    app = start("ackping")
    read_policy(app)
    for transport in transports(policy_port):
        result = run_node(node, "ackping", url_of(app), transport)
        assert [ack[0] for ack in result["acked"]] == ["stamp 0", "stamp 1", "stamp 2"]
        assert all(len(ack) == 2 and is_clock(ack[1]) for ack in result["acked"]), result


def test_rpcping(start, node, policy_port):
    app = start("rpcping")
    read_policy(app)
    for transport in transports(policy_port):
        result = run_node(node, "rpcping", url_of(app), transport)
        assert [pong[0] for pong in result["pongs"]] == ["stamp 0", "stamp 1", "stamp 2"]
        assert all(is_clock(pong[1]) for pong in result["pongs"]), result


def test_stats_reads_session_server_stats_with_tornadio2_keys(start, node, policy_port):
    app = start("stats")
    read_policy(app)
    for transport in transports(policy_port):
        dump = run_node(node, "stats", url_of(app), transport)["dump"]
        assert dump["active_sessions"] >= 1 and dump["max_sessions"] >= 1
        assert dump["active_connections"] >= 1 and dump["max_connections"] >= 1
        for rate in ("connections_ps", "packets_sent_ps", "packets_recv_ps"):
            assert isinstance(dump[rate], (int, float)) and dump[rate] >= 0


def test_gen_runs_generator_handlers_in_order(start, node, policy_port):
    app = start("gen", QUERY_SECONDS=str(QUERY_SECONDS))
    read_policy(app)
    for transport in transports(policy_port):
        result = run_node(node, "gen", url_of(app), transport)
        responses = result["responses"]
        assert [r["text"] for r in responses] == ["Handled 1.", "Handled 2."]
        # In turn: the second query starts when the first has answered.
        assert responses[1]["ms"] >= 2 * QUERY_SECONDS * 1000 * 0.9, responses


def test_multiplexed_chat_and_ping(start, node, policy_port):
    app = start("multiplexed")
    read_policy(app)
    for transport in transports(policy_port):
        result = run_node(node, "multiplexed", url_of(app), transport)
        assert result["shared"] is True
        joined = re.fullmatch(r"(User\d+) joined chat\.", result["chat"][0])
        assert joined, result
        assert result["chat"][1] == "%s: hello over /chat" % joined.group(1)
        assert [ping["client"] for ping in result["pings"]] == [0, 1, 2]
        assert all(is_clock(ping["server"]) for ping in result["pings"]), result


def assert_chat_echo(result: Dict[str, Any]) -> None:
    assert result["messages"] == ["Welcome from the server."] + result["sent"]


def test_transports(start, node, policy_port):
    app = start("transports")
    read_policy(app)
    for transport in transports(policy_port):
        assert_chat_echo(run_node(node, "chat", url_of(app), transport))


def test_crosssite(start, node, policy_port):
    http_port = _free_port()
    app = start("crosssite", HTTP_PORT=str(http_port))
    read_policy(app)
    with socket.create_connection(("127.0.0.1", http_port), timeout=5) as page:
        page.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while not answer.endswith(b"crosssite"):
            chunk = page.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"crosssite"), answer
    for transport in transports(policy_port):
        assert_chat_echo(run_node(node, "chat", url_of(app), transport))


def _make_certificate(folder: Path) -> None:
    if not shutil.which("openssl"):
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail("CI needs the openssl command for the TLS example")
        pytest.skip("the openssl command is not installed")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(folder / "server.key"), "-out", str(folder / "server.crt"),
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60)


def test_ssl_transports(start, node, policy_port, tmp_path):
    _make_certificate(tmp_path)  # server.crt and server.key in the working directory
    app = start("ssl_transports")
    read_policy(app)
    for transport in transports(policy_port):
        result = run_node(node, "chat", url_of(app, "https"), transport, insecure=True)
        assert result["secure"] is True
        assert_chat_echo(result)
