"""Descriptor exhaustion: attackers hold more sockets than the server may open.

The server runs in a subprocess whose ``RLIMIT_NOFILE`` is 128; 300
attackers connect and hold their sockets open. Before the fix, ``accept()``
failed with ``EMFILE`` on every loop iteration: the server spun at 100 % of
a core and logged a traceback each time. Now it rests between attempts:
its CPU stays low, it logs once per burst, and once the attackers leave a
normal client is served again within 2 s.
"""

import asyncio
import errno
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

import pytest

from tests.adversarial.attack import LOOPBACK, cpu_seconds
from tornadio2.accept import AcceptBackoff, AcceptLoop
from tornadio2.flashserver import FlashPolicyServer
from tornadio2.server import GuardedHTTPServer, SocketServer

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 128
ATTACKERS = 300
#: Bounds asserted while the server is saturated.
MAX_CPU_SHARE = 0.20
MAX_LOG_BYTES = 4096


def blocking_handshake(port: int, timeout: float) -> bytes:
    """A normal client's handshake over a blocking socket: the answer's bytes."""
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as client:
        client.settimeout(timeout)
        client.sendall(b"GET /socket.io/1/ HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        answer = b""
        while True:
            chunk = client.recv(65536)
            if not chunk:
                return answer
            answer += chunk


def attack(port: int) -> List[socket.socket]:
    """Open ``ATTACKERS`` connections that send nothing."""
    sockets = []
    for _ in range(ATTACKERS):
        attacker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        attacker.setblocking(False)
        attacker.connect_ex((LOOPBACK, port))
        sockets.append(attacker)
    return sockets


def test_exhausted_descriptors_do_not_spin_and_the_server_recovers():
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.adversarial.attack", "serve", str(LIMIT)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
            env=dict(os.environ, PYTHONPATH=str(ROOT)))
        attackers: List[socket.socket] = []
        try:
            port = int(server.stdout.readline())
            assert blocking_handshake(port, 2).startswith(b"HTTP/1.1 200")
            attackers = attack(port)
            time.sleep(0.5)  # the server accepts what it can, then hits the limit
            cpu_before, wall_before = cpu_seconds(server.pid), time.monotonic()
            time.sleep(2.0)
            share = (cpu_seconds(server.pid) - cpu_before) / (time.monotonic() - wall_before)
            log.seek(0)
            logged = log.read()
            assert b"cannot accept connections" in logged, logged[-2000:]
            assert share < MAX_CPU_SHARE, "server used %.0f%% of a core" % (share * 100)
            assert len(logged) < MAX_LOG_BYTES, len(logged)
            for attacker in attackers:
                attacker.close()
            left = time.monotonic()
            answer = blocking_handshake(port, 2.0)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
            served = time.monotonic() - left
            assert served < 2.0
            logging.getLogger("tests.adversarial").info(
                "descriptors exhausted: server CPU %.1f %% of a core, %d bytes of log; "
                "served again %.3f s after the attackers left", share * 100, len(logged), served)
            log.seek(0)
            assert b"accepting connections again" in log.read()
        finally:
            for attacker in attackers:
                attacker.close()
            server.stdin.close()
            try:
                server.wait(5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            server.stdout.close()


class _Exhausted(socket.socket):
    """A listening socket whose ``accept()`` always fails as when descriptors run out."""

    calls = 0

    def accept(self):  # type: ignore[no-untyped-def]
        self.calls += 1
        raise OSError(errno.EMFILE, "Too many open files")


@pytest.mark.gen_test(timeout=5)
async def test_the_accept_loop_rests_between_failures_and_logs_once(caplog):
    listener = _Exhausted(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen(8)
    listener.setblocking(False)
    client = socket.create_connection(listener.getsockname())  # keeps the listener readable
    loop = AcceptLoop(listener, lambda connection, address: None)
    try:
        await asyncio.sleep(0.5)
    finally:
        loop.stop()
        client.close()
        listener.close()
    # Pauses of 0.05, 0.1, 0.2 s...: a handful of calls, where a spinning loop makes thousands.
    assert 2 <= listener.calls <= 6, listener.calls
    assert [record.getMessage()[:26] for record in caplog.records
            if record.name == "tornadio2.accept"] == ["cannot accept connections "]


def test_every_listening_server_of_the_package_backs_off():
    assert issubclass(GuardedHTTPServer, AcceptBackoff)
    assert issubclass(SocketServer, AcceptBackoff)
    assert issubclass(FlashPolicyServer, AcceptBackoff)
