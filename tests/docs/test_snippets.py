"""Run the documentation's code as its reader would, and check what it does.

Every block marked ``runnable`` (see ``snippets.py``) has a scenario here, named
after its ``:name:``. A server snippet runs in its own process on a free
port of 127.0.0.1 (from the ``PORT`` environment variable, as the pages
show), the scenario talks to it with a raw wire client, then stops its IOLoop
with SIGINT. Blocks marked ``legacy`` must fail with the error the page names.
Every code block of the getting-started and migration pages must be one of
the two.
"""

import asyncio
import json
import os
import re
import shutil
import sys
from typing import Any, Awaitable, Callable, Dict, List

import pytest

from tests.docs.conftest import unavailable
from tests.docs.lab import RUN_TIMEOUT, Lab, free_port
from tests.docs.rawclient import Client
from tests.docs.snippets import (
    DOCS, ROOT, CodeBlock, all_code_blocks, code_blocks, literal_block_markers,
)

Scenario = Callable[[Lab], Awaitable[None]]
SCENARIOS: Dict[str, Scenario] = {}
#: Seconds one whole scenario may take.
SCENARIO_TIMEOUT = 60.0

#: Pages whose code must all be executed.
FULLY_CHECKED_PAGES = ["getting-started.rst", "migration.rst"]
#: Languages of blocks that show something other than code (output, commands).
NOT_CODE = {"text", "console", "json", "nginx"}

#: What each ``legacy`` block must fail with on Tornado 6.
LEGACY_ERRORS = {
    "migration-gen-engine-before":
        "AttributeError: module 'tornado.gen' has no attribute 'engine'",
    "migration-asynchronous-before":
        "AttributeError: module 'tornado.web' has no attribute 'asynchronous'",
}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(func: Scenario) -> Scenario:
        SCENARIOS[name] = func
        return func
    return register


# -- the rules -------------------------------------------------------------------------

@pytest.mark.parametrize("page", FULLY_CHECKED_PAGES)
def test_every_code_block_of_the_page_is_executed(page: str) -> None:
    path = DOCS / page
    blocks = code_blocks(path)
    assert blocks, page
    for block in blocks:
        if block.language in NOT_CODE:
            continue
        assert block.language in ("python", "javascript"), block.where
        assert {"runnable", "legacy"} & set(block.classes), (
            "%s: code on this page must be marked runnable or legacy" % block.where)
    assert literal_block_markers(path) == [], "use code-block directives in %s" % page


def test_every_python_block_of_the_docs_compiles() -> None:
    for block in all_code_blocks():
        if block.language == "python":
            compile(block.code, block.where, "exec")


def test_every_executed_block_has_a_scenario(blocks: Dict[str, CodeBlock]) -> None:
    runnable = {name for name, block in blocks.items() if "runnable" in block.classes}
    legacy = {name for name, block in blocks.items() if "legacy" in block.classes}
    assert runnable == set(SCENARIOS)
    assert legacy == set(LEGACY_ERRORS)


def test_console_commands_on_the_getting_started_page_exist() -> None:
    commands = [line.split()[1]
                for block in code_blocks(DOCS / "getting-started.rst")
                if block.language == "console"
                for line in block.code.splitlines() if line.startswith("$ ")]
    assert commands == ["scripts/chat.sh", "scripts/test.sh"]
    for command in commands:
        assert os.access(ROOT / command, os.X_OK), command


def test_example_directories_named_in_the_docs_exist() -> None:
    for page in DOCS.rglob("*.rst"):
        for name in set(re.findall(r"``(examples/[\w./-]+)``", page.read_text(encoding="utf-8"))):
            assert (ROOT / name).exists(), "%s names %s" % (page.name, name)


# -- helpers ---------------------------------------------------------------------------

async def run_quietly(lab: Lab, name: str) -> None:
    """A snippet that is not a server: it must run to its end without error."""
    snippet = await lab.run_to_end(name)
    assert snippet.process.returncode == 0 and "FINISHED" in snippet.stdout, snippet.report()


def node_or_skip() -> str:
    """The Node.js executable, with the 0.9 client in ``node_modules``."""
    node = shutil.which(os.environ.get("NODE") or "node")
    if node is None:
        unavailable("node is not installed")
    if not (ROOT / "node_modules" / "socket.io-client" / "package.json").is_file():
        unavailable("node_modules/socket.io-client is missing (npm install --ignore-scripts)")
    assert node is not None
    return node


async def read_all(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    await writer.wait_closed()
    return data


# -- getting started -------------------------------------------------------------------

@scenario("first-app")
async def first_app(lab: Lab) -> None:
    async with lab.serve("first-app") as server:
        ws = await server.client.connect("user=bob")
        ws.send("3:::hello")
        await ws.expect("3:::hello")
        ws.send('5:1+::{"name":"add","args":[1,2]}')
        await ws.expect("6:::1+[3]")
        await server.printed("connected: bob from 127.0.0.1")


@scenario("first-app-client")
async def first_app_with_the_node_client(lab: Lab) -> None:
    node = node_or_skip()
    script = lab.tmp_path / "client.js"
    script.write_text(lab.blocks["first-app-client"].code, encoding="utf-8")
    async with lab.serve("first-app") as server:
        env = dict(os.environ, PORT=str(server.port),
                   NODE_PATH=str(ROOT / "node_modules"))
        process = await asyncio.create_subprocess_exec(
            node, str(script), env=env, cwd=str(lab.tmp_path),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(process.communicate(), 20)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 0, err.decode()
        assert out.decode().splitlines() == ["echo: hello", "1 + 2 = 3"], (out, err)
        await server.printed("connected: ann from 127.0.0.1")


# -- guides ----------------------------------------------------------------------------

@scenario("guide-connections-quiz")
async def connections_quiz(lab: Lab) -> None:
    async with lab.serve("guide-connections-quiz") as server:
        ws = await server.client.connect("name=ann")
        await ws.expect('5:1+::{"name":"question","args":["Ready, ann?"]}')
        ws.send('6:::1+["yes"]')
        await server.printed("ann answered yes")
        ws.send("3:::hi")
        await ws.expect("3:2::hi")
        ws.send("6:::2")
        await server.printed("delivered 'hi'")
        for request, answer in [
            ('5:1+::{"name":"add","args":[2,3]}', "6:::1+[5]"),
            ('5:2+::{"name":"greet","args":[{"name":"bob","greeting":"hi"}]}',
             '6:::2+["hi, bob"]'),
            ('5:3+::{"name":"greet","args":["eve"]}', '6:::3+["hello, eve"]'),
            ('5:4+::{"name":"slow_add","args":[20,22]}', "6:::4+[42]"),
        ]:
            ws.send(request)
            await ws.expect(answer)
        ws.send("0::")
        await server.printed("bye, ann")


@scenario("guide-endpoints")
async def endpoints(lab: Lab) -> None:
    async with lab.serve("guide-endpoints") as server:
        ws = await server.client.connect()
        ws.send("1::/chat")
        await ws.expect("1::/chat", "3::/chat:welcome to the chat")
        ws.send("3::/chat:hi")
        await ws.expect("3::/chat:chat: hi")
        ws.send("1::/news")
        await ws.expect("7::/news:2")
        ws.send("0::/chat")
        await server.printed("left the chat")
        ws.send("3:::still here")  # the main connection goes on (and ignores it)

        subscriber = await server.client.connect("subscriber=yes")
        subscriber.send("1::/news")
        await subscriber.expect("1::/news", '5::/news:{"name":"headline","args":["Endpoints work"]}')


@scenario("guide-rooms")
async def rooms(lab: Lab) -> None:
    def said(name: str, *args: Any) -> str:
        return "5:::" + json.dumps({"name": name, "args": list(args)}, separators=(",", ":"))

    async with lab.serve("guide-rooms") as server:
        ann = await server.client.connect("table=1")
        bob = await server.client.connect("table=1")
        cat = await server.client.connect("table=2")
        ann.send(said("say", "hi"))
        await ann.expect(said("said", "hi"))
        await bob.expect(said("said", "hi"))
        cat.send(said("say", "meow"))
        await cat.expect(said("said", "meow"))  # the first thing cat got: not ann's "hi"
        ann.send(said("shout", "all in"))
        await bob.expect(said("shouted", "all in"))
        await cat.expect(said("shouted", "all in"))
        ann.send('5:1+::{"name":"players"}')
        await ann.expect("6:::1+[2]")  # next after "hi": the shout skipped ann
        bob.send(said("move", 3, 4))  # volatile; ann's socket has nothing unwritten
        await ann.expect(said("moved", 3, 4))
        cat.send('5:1+::{"name":"players"}')
        await cat.expect("6:::1+[1]")  # and the move did not reach table 2


@scenario("guide-gen-ordering")
async def gen_ordering(lab: Lab) -> None:
    async with lab.serve("guide-gen-ordering") as server:
        ws = await server.client.connect()
        ws.send('5:::{"name":"record","args":["first",0.2]}')
        ws.send('5:::{"name":"record","args":["second",0]}')
        await ws.expect('5:::{"name":"recorded","args":["first"]}',
                        '5:::{"name":"recorded","args":["second"]}')
        ws.send('5:1+::{"name":"lookup","args":["abcd"]}')
        await ws.expect("6:::1+[4]")


@scenario("guide-gen-on-event")
async def gen_on_event(lab: Lab) -> None:
    async with lab.serve("guide-gen-on-event") as server:
        ws = await server.client.connect()
        ws.send('5:::{"name":"query","args":[1]}')
        ws.send('5:::{"name":"query","args":[2]}')
        await ws.expect('5:::{"name":"response","args":["Handled 1."]}',
                        '5:::{"name":"response","args":["Handled 2."]}')


@scenario("guide-transports-flash")
async def transports_flash(lab: Lab) -> None:
    policy_port = free_port()
    async with lab.serve("guide-transports-flash", cwd=ROOT, POLICY_PORT=policy_port) as server:
        policy = await read_all(policy_port, b"<policy-file-request/>\0")
        assert policy.startswith(b'<?xml version="1.0"?>') and policy.endswith(b"\0"), policy
        assert b'<allow-access-from domain="*" to-ports="*"/>' in policy
        if (ROOT / "node_modules" / "socket.io-client" / "dist" / "WebSocketMain.swf").is_file():
            swf = await server.client.get("/socket.io/static/flashsocket/WebSocketMain.swf")
            assert swf.code == 200 and swf.body[:3] in (b"FWS", b"CWS", b"ZWS"), swf.code
        sid = await server.client.handshake()
        assert sid


@scenario("guide-settings")
async def settings(lab: Lab) -> None:
    await run_quietly(lab, "guide-settings")


@scenario("guide-security")
async def security(lab: Lab) -> None:
    good = {"Origin": "https://app.example.com"}
    evil = {"Origin": "https://evil.example.net"}
    async with lab.serve("guide-security") as server:
        client = server.client
        refused = await client.get("/socket.io/1/?token=s3cret-token", evil)
        assert (refused.code, refused.body) == (403, b"handshake bad origin")
        assert "Access-Control-Allow-Origin" not in refused.headers
        anonymous = await client.get("/socket.io/1/", good)
        assert (anonymous.code, anonymous.body) == (403, b"handshake unauthorized")
        accepted = await client.get("/socket.io/1/?token=s3cret-token", good)
        assert accepted.code == 200, accepted.body
        assert accepted.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        assert accepted.headers["Access-Control-Allow-Credentials"] == "true"
        assert accepted.body.decode().endswith(":17:25:websocket,xhr-polling")
        sid = accepted.body.decode().split(":")[0]
        jsonp = await client.get("/socket.io/1/jsonp-polling/" + sid)
        assert jsonp.code == 404
        with pytest.raises(Exception) as refused_upgrade:
            await client.websocket(sid, evil)
        assert "403" in str(refused_upgrade.value)
        ws = await client.websocket(sid, good)
        await ws.expect("1::")
        ws.send("3:::hi")
        await ws.expect("3:::ann: hi")


@scenario("guide-monitoring")
async def monitoring(lab: Lab) -> None:
    async with lab.serve("guide-monitoring") as server:
        await server.client.handshake()
        response = await server.client.get("/stats")
        assert response.code == 200
        assert response.headers["Content-Type"].startswith("application/json")
        stats = json.loads(response.body)
        assert set(stats) == {
            "sessions_active", "sessions_max", "sessions_total", "connections_active",
            "connections_max", "connections_total", "connections_ps", "packets_sent_total",
            "packets_recv_total", "packets_sent_ps", "packets_recv_ps", "volatile_dropped",
            "packets_dropped", "payloads_refused", "opening_overflows", "queue_overflows",
            "write_overflows", "broker_connected", "broker_dropped",
            "active_sessions", "max_sessions", "active_connections", "max_connections"}
        assert (stats["sessions_active"], stats["sessions_total"]) == (1, 1)


@scenario("guide-monitoring-prometheus")
async def monitoring_prometheus(lab: Lab) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    metrics_port = free_port()
    async with lab.serve("guide-monitoring-prometheus", METRICS_PORT=metrics_port) as server:
        socket = await server.client.connect()
        socket.send("3:::hi")
        await socket.expect("3:::hi")
        metrics = Client(metrics_port)
        try:
            response = await metrics.get("/metrics")
        finally:
            metrics.close()
        assert response.code == 200
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.body.decode())
            for sample in family.samples}
        assert samples[("tornadio2_sessions_started_total", ())] == 1
        assert samples[("tornadio2_sessions_active", (("transport", "websocket"),))] == 1
        assert samples[("tornadio2_received_packets_total", (("transport", "websocket"),))] == 1
        assert samples[("tornadio2_received_bytes_total", (("transport", "websocket"),))] == 6
        assert samples[("tornadio2_sent_packets_total", (("transport", "websocket"),))] == 2


@scenario("guide-deployment-xheaders")
async def deployment_xheaders(lab: Lab) -> None:
    async with lab.serve("guide-deployment-xheaders") as server:
        await server.client.handshake(headers={"X-Real-IP": "203.0.113.7"})
        await server.printed("client address: 203.0.113.7")


@scenario("guide-testing")
async def guide_testing(lab: Lab) -> None:
    report = await run_test_file(lab, "guide-testing",
                                 [sys.executable, "-W", "error", "-m", "unittest", "-v"])
    assert "Ran 5 tests" in report and report.rstrip().endswith("OK"), report


@scenario("guide-testing-pytest")
async def guide_testing_pytest(lab: Lab) -> None:
    report = await run_test_file(lab, "guide-testing-pytest",
                                 [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"], suffix=".py")
    assert re.search(r"\b3 passed\b", report) and "failed" not in report, report


async def run_test_file(lab: Lab, name: str, command: List[str], suffix: str = "") -> str:
    """Save the test file of snippet ``name`` under its caption and run ``command`` on it.

    ``unittest`` is given the module name, pytest (``suffix='.py'``) the file.
    """
    block = lab.blocks[name]
    lab.write(name, block.caption)
    process = await asyncio.create_subprocess_exec(
        *command, block.caption.replace(".py", "") + suffix,
        cwd=str(lab.tmp_path), env=lab.environment({}),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    report = out.decode()
    assert process.returncode == 0, report
    return report


# -- migration -------------------------------------------------------------------------

@scenario("migration-unchanged")
async def migration_unchanged(lab: Lab) -> None:
    async with lab.serve("migration-unchanged") as server:
        client = server.client
        sid = await client.handshake("user=ann")
        assert await client.poll(sid) == "1::"
        await client.post(sid, '5:1+::{"name":"ping","args":[123]}')
        assert await client.poll(sid) == "6:::1+[123]"
        await client.post(sid, "3:::hi")
        assert await client.poll(sid) == "3:::ann said: hi"
        await client.post(sid, "0::")


async def ping_over_websocket(lab: Lab, name: str) -> None:
    async with lab.serve(name) as server:
        ws = await server.client.connect()
        ws.send('5:1+::{"name":"ping","args":[7]}')
        await ws.expect("6:::1+[7]")


@scenario("migration-io-loop-before")
async def migration_io_loop_before(lab: Lab) -> None:
    await ping_over_websocket(lab, "migration-io-loop-before")


@scenario("migration-io-loop-after")
async def migration_io_loop_after(lab: Lab) -> None:
    await ping_over_websocket(lab, "migration-io-loop-after")


@scenario("migration-gen-engine-after")
async def migration_gen_engine_after(lab: Lab) -> None:
    async with lab.serve("migration-gen-engine-after") as server:
        ws = await server.client.connect()
        ws.send('5:::{"name":"query","args":["select 1"]}')
        await ws.expect('5:::{"name":"rows","args":[[["SELECT 1"]]]}')
        ws.send('5:1+::{"name":"count","args":["select 1"]}')
        await ws.expect("6:::1+[1]")


@scenario("migration-asynchronous-after")
async def migration_asynchronous_after(lab: Lab) -> None:
    async with lab.serve("migration-asynchronous-after") as server:
        response = await server.client.get("/rows")
        assert response.code == 200
        assert json.loads(response.body) == {"rows": [[1]]}


@scenario("migration-error-packets")
async def migration_error_packets(lab: Lab) -> None:
    await run_quietly(lab, "migration-error-packets")
    async with lab.serve("migration-unchanged") as server:
        assert await server.client.poll("EXPIRED-SID") == "7:::1+0"


@scenario("migration-refusals")
async def migration_refusals(lab: Lab) -> None:
    async with lab.serve("migration-refusals") as server:
        client = server.client
        refused = await client.get("/socket.io/1/")
        assert (refused.code, refused.body) == (403, b"handshake unauthorized")
        ws = await client.connect("token=s3cret")
        ws.send("1::/chat")
        await ws.expect("7::/chat:2")
        member = await client.connect("token=s3cret&member=yes")
        member.send("1::/chat")
        await member.expect("1::/chat")


@scenario("migration-emit-ack")
async def migration_emit_ack(lab: Lab) -> None:
    async with lab.serve("migration-emit-ack") as server:
        ws = await server.client.connect()
        await ws.expect('5:1+::{"name":"question","args":["Ready?"]}')
        ws.send('6:::1+["yes"]')
        await server.printed("answer: yes")


@scenario("migration-frames")
async def migration_frames(lab: Lab) -> None:
    await run_quietly(lab, "migration-frames")


# -- running them (after the scenarios, which fill SCENARIOS) --------------------------

@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_snippet_does_what_the_page_says(name: str, lab: Lab) -> None:
    asyncio.run(asyncio.wait_for(SCENARIOS[name](lab), SCENARIO_TIMEOUT))


@pytest.mark.parametrize("name", sorted(LEGACY_ERRORS))
def test_tornadio2_era_snippet_fails_on_tornado_6(name: str, lab: Lab) -> None:
    async def run() -> None:
        snippet = await lab.start(name, {})
        code = await snippet.finish(RUN_TIMEOUT)
        assert code == 1, snippet.report()
        assert LEGACY_ERRORS[name] in snippet.stderr, snippet.report()

    asyncio.run(run())
