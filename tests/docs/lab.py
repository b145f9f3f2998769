"""Run documentation snippets in child processes and talk to their servers.

``Lab`` writes a snippet to a temporary file and runs it with
``snippet_runner.py`` under the interpreter running the tests, with ``PORT``
(and any other port the scenario asks for) in its environment. A server
snippet is used as an async context manager: entering waits until it listens,
leaving stops it with SIGINT and checks that its IOLoop ended cleanly.
"""

import asyncio
import os
import signal
import socket
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Dict, List, Optional

from tests.docs.rawclient import Client
from tests.docs.snippets import ROOT, CodeBlock

RUNNER = Path(__file__).resolve().parent / "snippet_runner.py"
#: Seconds a snippet gets to start listening, to stop, or to run to its end.
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
RUN_TIMEOUT = 30.0


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SnippetProcess:
    """One running snippet: its output so far, and a way to wait for a line."""

    def __init__(self, block: CodeBlock, process: "asyncio.subprocess.Process") -> None:
        self.block = block
        self.process = process
        self.stdout: List[str] = []
        self.stderr: List[str] = []
        self._changed = asyncio.Event()
        self._readers = [
            asyncio.ensure_future(self._read(process.stdout, self.stdout)),
            asyncio.ensure_future(self._read(process.stderr, self.stderr)),
        ]

    async def _read(self, stream: Optional[asyncio.StreamReader], into: List[str]) -> None:
        assert stream is not None
        while True:
            line = await stream.readline()
            if not line:
                break
            into.append(line.decode("utf-8", "replace").rstrip("\n"))
            self._changed.set()
        self._changed.set()

    def report(self) -> str:
        return "%s\n--- stdout\n%s\n--- stderr\n%s" % (
            self.block.where, "\n".join(self.stdout), "\n".join(self.stderr))

    async def wait_for_line(self, line: str, timeout: float = START_TIMEOUT) -> None:
        """Return once the snippet printed ``line``; fail if it exits or takes too long."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while line not in self.stdout:
            if all(reader.done() for reader in self._readers):
                raise AssertionError("snippet ended before printing %r\n%s"
                                     % (line, self.report()))
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), deadline - loop.time())
            except asyncio.TimeoutError:
                raise AssertionError("no %r from the snippet in %ss\n%s"
                                     % (line, timeout, self.report())) from None

    async def finish(self, timeout: float) -> int:
        """Wait for the process to end (killing it after ``timeout``); its exit code."""
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except asyncio.TimeoutError:
            self.process.kill()
            await self.process.wait()
            await asyncio.gather(*self._readers)
            raise AssertionError("snippet still running after %ss\n%s"
                                 % (timeout, self.report())) from None
        await asyncio.gather(*self._readers)
        return code

    async def stop(self) -> None:
        """Stop the snippet's IOLoop with SIGINT; assert that it ended cleanly."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
        code = await self.finish(STOP_TIMEOUT)
        assert code == 0 and "STOPPED" in self.stdout, self.report()
        assert not any("Traceback" in line for line in self.stderr), self.report()


class Lab:
    """Runs the documentation's snippets for one test."""

    def __init__(self, blocks: Dict[str, CodeBlock], tmp_path: Path) -> None:
        self.blocks = blocks
        self.tmp_path = tmp_path

    def write(self, name: str, filename: Optional[str] = None) -> Path:
        """Save snippet ``name`` under ``filename`` (default: ``<name>.py``)."""
        path = self.tmp_path / (filename or name.replace("-", "_") + ".py")
        path.write_text(self.blocks[name].code, encoding="utf-8")
        return path

    def environment(self, ports: Dict[str, int]) -> Dict[str, str]:
        env = dict(os.environ)
        env.update({key: str(value) for key, value in ports.items()})
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        return env

    async def start(self, name: str, ports: Dict[str, int], cwd: Optional[Path] = None
                    ) -> SnippetProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-u", "-W", "error::DeprecationWarning", str(RUNNER),
            str(self.write(name)), cwd=str(cwd or self.tmp_path),
            env=self.environment(ports),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        return SnippetProcess(self.blocks[name], process)

    @asynccontextmanager
    async def serve(self, name: str, cwd: Optional[Path] = None,
                    **extra_ports: int) -> AsyncIterator["Served"]:
        """Run server snippet ``name`` on a free ``PORT``; stop it on exit."""
        ports = dict(PORT=free_port(), **extra_ports)
        snippet = await self.start(name, ports, cwd)
        client = None
        try:
            for port in ports.values():
                await snippet.wait_for_line("LISTENING %d" % port)
            client = Client(ports["PORT"])
            yield Served(snippet, client)
            client.close()
            client = None
            await snippet.stop()
        finally:
            if client is not None:
                client.close()
            if snippet.process.returncode is None:
                snippet.process.kill()
                await snippet.finish(STOP_TIMEOUT)

    async def run_to_end(self, name: str) -> SnippetProcess:
        """Run a snippet that is not a server; return it once it has exited."""
        snippet = await self.start(name, {})
        await snippet.finish(RUN_TIMEOUT)
        return snippet


class Served:
    """A running server snippet and a wire client for it."""

    def __init__(self, snippet: SnippetProcess, client: Client) -> None:
        self.snippet = snippet
        self.client = client

    @property
    def port(self) -> int:
        return self.client.port

    async def printed(self, line: str) -> None:
        """Wait until the server snippet printed ``line``."""
        await self.snippet.wait_for_line(line, timeout=5.0)
