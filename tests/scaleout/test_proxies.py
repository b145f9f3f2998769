"""Real nginx and HAProxy, configured from the scaling guide, in front of two processes.

The configuration is taken from ``docs/guide/scaling.rst`` (the blocks named
``scaling-nginx`` and ``scaling-haproxy``); the test only swaps in its
ports. Through the proxy, stock 0.9 clients on xhr-polling and websocket and
a jsonp-polling client (the script transport of browsers, spoken over HTTP
as wire-notes#jsonp-polling describes) complete a session, land on both
processes, and a room emit reaches the clients behind both.
"""

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator, List, Tuple
from urllib.parse import quote

import pytest
from tornado.httpclient import AsyncHTTPClient

try:
    from .conftest import (PROJECT_ROOT, RedisServer, TornadioProcess, free_port, start_processes,
                           stop_pid, tool, wait_port)
except ImportError:  # tests/scaleout is not a package: pytest put it on sys.path
    from conftest import (PROJECT_ROOT, RedisServer, TornadioProcess,  # type: ignore
                          free_port, start_processes, stop_pid, tool, wait_port)

pytestmark = pytest.mark.e2e

GUIDE = PROJECT_ROOT / "docs" / "guide" / "scaling.rst"
JSONP_CALL = re.compile(r'\Aio\.j\[(\d+)\]\((".*")\);\Z', re.S)


def doc_block(name: str) -> str:
    """The code block ``:name: name`` of the scaling guide, unindented."""
    text = GUIDE.read_text(encoding="utf-8")
    match = re.search(r"\.\. code-block:: \w+\n   :name: %s\n\n((?:   .*\n|\n)+)" % name, text)
    assert match, name
    return "\n".join(line[3:] for line in match.group(1).splitlines()) + "\n"


def with_ports(config: str, listen: str, port: int, a: TornadioProcess,
               b: TornadioProcess) -> str:
    """The guide's ``config`` on the test's ports (``listen`` is its listening line)."""
    for old, new in ((listen, listen.replace(":8000", " 8000").replace(
                          " 8000", " 127.0.0.1:%d" % port)),
                     ("127.0.0.1:8001", "127.0.0.1:%d" % a.port),
                     ("127.0.0.1:8002", "127.0.0.1:%d" % b.port)):
        assert old in config, old
        config = config.replace(old, new)
    return config


def start_nginx(folder: Path, port: int, a: TornadioProcess, b: TornadioProcess) -> Any:
    binary = tool("nginx")
    site = with_ports(doc_block("scaling-nginx"), "listen 8000;", port, a, b)
    temp = "\n".join("    %s_temp_path %s;" % (kind, folder / kind)
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = folder / "nginx.conf"
    conf.write_text(
        "daemon off;\nmaster_process off;\npid %s;\nerror_log %s warn;\n"
        "events { worker_connections 256; }\nhttp {\n    access_log off;\n%s\n%s}\n"
        % (folder / "nginx.pid", folder / "error.log", temp, site), encoding="utf-8")
    with (folder / "stderr.log").open("wb") as log:
        return subprocess.Popen([binary, "-p", str(folder), "-c", str(conf)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)


def start_haproxy(folder: Path, port: int, a: TornadioProcess, b: TornadioProcess) -> Any:
    binary = tool("haproxy")
    conf = folder / "haproxy.cfg"
    conf.write_text(with_ports(doc_block("scaling-haproxy"), "bind :8000", port, a, b),
                    encoding="utf-8")
    check = subprocess.run([binary, "-c", "-f", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    with (folder / "stderr.log").open("wb") as log:
        return subprocess.Popen([binary, "-db", "-f", str(conf)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=log)


@pytest.fixture(params=["nginx", "haproxy"])
def proxied(request: Any, redis_server: RedisServer,
            tmp_path: Path) -> Iterator[Tuple[str, List[TornadioProcess]]]:
    """``(proxy URL, [a1, b2])``: two processes behind the proxy of the docs."""
    procs = start_processes([{"node": "a1", "broker": redis_server.url},
                             {"node": "b2", "broker": redis_server.url}], tmp_path)
    folder = tmp_path / request.param
    folder.mkdir()
    port = free_port()
    starter = start_nginx if request.param == "nginx" else start_haproxy
    proxy = None
    try:
        proxy = starter(folder, port, *procs)
        try:
            wait_port(port)
        except RuntimeError:
            raise AssertionError((folder / "stderr.log").read_text()) from None
        yield "http://127.0.0.1:%d" % port, procs
    finally:
        if proxy is not None:
            stop_pid(proxy)
        for proc in procs:
            proc.stop()


class JsonpClient:
    """A jsonp-polling session over plain HTTP: ``io.j[N]("...")`` answers, form POSTs."""

    def __init__(self, base: str) -> None:
        self.base = base + "/socket.io/1/"
        self.http = AsyncHTTPClient()
        self.sid = ""
        self.index = 0
        self.packets: List[str] = []

    async def get(self, url: str) -> str:
        response = await self.http.fetch(url, request_timeout=15)
        match = JSONP_CALL.match(response.body.decode("utf-8"))
        assert match, response.body
        return json.loads(match.group(2))

    async def handshake(self, query: str) -> str:
        body = await self.get(self.base + "?t=%d&jsonp=0&%s" % (time.time() * 1000, query))
        self.sid = body.split(":")[0]
        return self.sid

    async def poll(self) -> List[str]:
        self.index += 1
        payload = await self.get(self.base + "jsonp-polling/%s?t=%d&i=%d" % (
            self.sid, time.time() * 1000, self.index))
        packets = unframe(payload)
        self.packets.extend(packets)
        return packets

    async def post(self, packet: str) -> None:
        response = await self.http.fetch(
            self.base + "jsonp-polling/%s?t=%d&i=%d" % (self.sid, time.time() * 1000, self.index),
            method="POST", body="d=" + quote(json.dumps(packet)),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.body == b"1", response.body

    async def poll_until(self, check: Any, polls: int = 10) -> None:
        for _ in range(polls):  # each poll returns when a packet is there (or after 5 s)
            if check():
                return
            await self.poll()
        assert check(), self.packets


def unframe(payload: str) -> List[str]:
    """Packets of a (maybe framed) polling answer."""
    if not payload.startswith("\ufffd"):
        return [payload]
    parts = payload.split("\ufffd")
    return [parts[i] for i in range(2, len(parts), 2)]


@pytest.mark.gen_test(timeout=90)
async def test_clients_behind_the_proxy_complete_sessions_and_get_room_emits(
        proxied: Tuple[str, List[TornadioProcess]], node_clients: Any) -> None:
    url, _ = proxied
    clients = await node_clients()
    jsonp = JsonpClient(url)
    try:
        names = ["ws1", "xhr1", "ws2", "xhr2"]
        for name in names:
            transport = "websocket" if name.startswith("ws") else "xhr-polling"
            await clients.connect(name, url + "/?rooms=lobby", transport)
        sid = await jsonp.handshake("rooms=lobby")
        assert await jsonp.poll() == ["1::"]
        await jsonp.post('5:1+::{"name":"whoami","args":[]}')
        await jsonp.poll_until(lambda: any(p.startswith("6:::1+") for p in jsonp.packets))
        ack = [p for p in jsonp.packets if p.startswith("6:::1+")][0]
        assert json.loads(ack[len("6:::1+"):]) == [[sid, sid.split(".")[0]]]
        node = {name: (await clients.call(name, "whoami"))[1] for name in names}
        assert set(node.values()) | {sid.split(".")[0]} == {"a1", "b2"}  # both processes

        await clients.call("ws1", "room_emit", "lobby", "through the proxy")
        for name in names:
            assert await clients.received(name, "room") == [["through the proxy", node["ws1"]]]
        room_event = '5:::{"name":"room","args":["through the proxy",'
        await jsonp.poll_until(lambda: any(p.startswith(room_event) for p in jsonp.packets))
        assert sum(p.startswith(room_event) for p in jsonp.packets) == 1

        await jsonp.post("0::")  # the client leaves: the session is over
        for name in names:
            clients.command(cmd="disconnect", name=name)
        for name in names:
            await clients.wait_for(lambda n=name: clients.of(n, "disconnect"), name + " to end")
    finally:
        await clients.close()

