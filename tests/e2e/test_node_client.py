"""The real socket.io-client 0.9.16 in Node against tornadio2, on websocket and xhr-polling.

Each test runs one scenario of ``clients/scenarios.js`` (which asserts what
the client received and reports a wire trace when it fails) against the
e2e app served in-process, then checks what the server side saw. The same
scenarios also run against the native socket.io 0.9.19 server
(``test_scenario_passes_on_native_server``): if one fails there, the scenario
is wrong, not tornadio2.
"""

import asyncio
import logging
from typing import TYPE_CHECKING, Any, List

import pytest

if TYPE_CHECKING:  # the native-server tests must not need tornadio2 importable
    from e2e_app import Recorder

pytestmark = pytest.mark.e2e

TRANSPORTS = ["websocket", "xhr-polling"]
SCENARIOS = [
    "connect", "send_echo", "json_send", "ping_pong", "client_ack", "server_ack",
    "multiplex", "burst", "unicode", "big_message", "server_close", "client_disconnect",
    # beyond the basics: edge cases where a reimplementation easily drifts
    "ping_object", "empty_message", "send_ack", "server_send_ack", "endpoint_disconnect",
    "idle",  # about 4.5 s: longer than the announced heartbeat and close timeouts
    # rooms: three sockets with mixed transports (the parameter is A's and C's,
    # B uses the other); volatile: an xhr poller and a helper on the parameter
    "rooms", "volatile",
]
#: Seconds to wait for a server-side fact after the client finished.
SERVER_WAIT = 5.0

# The same literals as PAYLOADS in scenarios.js.
UNICODE_PAYLOADS = [
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440",  # Cyrillic
    "\U0001F600",                                                  # astral emoji
    "\ufffd",                                                      # the frame separator
    "\ufffd3\ufffdabc",                                            # looks like framing
    "\u0451\U0001F600\ufffd\U0001D11E end",
]


def big_message() -> str:
    """The 1 MB message of scenarios.js, built the same way (JS lengths)."""
    unit = ("The quick brown fox 0123456789 \u041f\u0440\u0438\u0432\u0435\u0442, "
            "\u043c\u0438\u0440 \U0001F600 \ufffd ")
    unit_js_length = len(unit.encode("utf-16-le")) // 2
    repeats = -(-1000000 // unit_js_length)
    return unit * repeats + "END"


@pytest.fixture(params=TRANSPORTS)
def transport(request: Any) -> str:
    """The transport the client is forced to use."""
    return str(request.param)


async def passing_run(run_client: Any, url: str, transport: str, scenario: str) -> Any:
    """Run a scenario and fail with its report (checks, wire trace) unless it passed."""
    run = await run_client(url, transport, scenario)
    assert run.passed, run.explain()
    return run


def assert_server_quiet(caplog: Any) -> None:
    """No WARNING or worse was logged by the server while a well-behaved client ran."""
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not noisy, "server logged:\n" + "\n".join(
        "%s %s: %s" % (r.levelname, r.name, r.getMessage()) for r in noisy)


async def server_fact(recorder: "Recorder", kind: str, endpoint: str, value: Any,
                      run: Any) -> Any:
    """Await a server-side fact; on timeout report the facts and the client's run."""
    try:
        return await asyncio.wait_for(recorder.wait(kind, endpoint, value), SERVER_WAIT)
    except asyncio.TimeoutError:
        raise AssertionError("server never recorded %s on %r (value %r); facts: %r\n%s" % (
            kind, endpoint, value, summarize(recorder.facts), run.explain())) from None


def summarize(facts: List[Any]) -> List[Any]:
    """Server facts for a failure message, long strings shortened."""
    return [(f.kind, f.endpoint, "<%d chars>" % len(f.value)
             if isinstance(f.value, str) and len(f.value) > 80 else f.value)
            for f in facts]


# -- the scenarios on the reference server ----------------------------------------

@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.gen_test(timeout=30)
async def test_scenario_passes_on_native_server(run_client: Any, native_url: str,
                                                transport: str, scenario: str) -> None:
    if (transport, scenario) == ("xhr-polling", "server_close"):
        # A race in the reference, not in the scenario: native 0.9.19 drops the
        # 0:: when no poll is pending at that instant (wire-notes#xhr-polling), so
        # the client only sometimes hears it. tornadio2 queues it for the next
        # poll, and its own server_close test runs on both transports.
        pytest.skip("native server loses 0:: between polls (wire-notes#xhr-polling)")
    await passing_run(run_client, native_url, transport, scenario)


# -- tornadio2 --------------------------------------------------------------------

@pytest.mark.gen_test(timeout=30)
async def test_client_connects_over_the_forced_transport(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    await passing_run(run_client, server_url, transport, "connect")
    assert recorder.values("open") == [None]
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_sent_message_is_echoed(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    await passing_run(run_client, server_url, transport, "send_echo")
    assert recorder.values("message") == ["hi"]
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_json_message_is_echoed_as_an_equal_object(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    await passing_run(run_client, server_url, transport, "json_send")
    assert recorder.values("message") == [{"a": [1, "x"]}]
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_ping_event_gets_pong_with_the_same_args(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    await passing_run(run_client, server_url, transport, "ping_pong")
    assert recorder.values("ping") == [([1, "two", {"three": [3]}], {})]
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_client_ack_callback_gets_the_handler_return_value(
        run_client: Any, server_url: str, transport: str, caplog: Any) -> None:
    await passing_run(run_client, server_url, transport, "client_ack")
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_emit_ack_callback_gets_the_client_ack_args(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    await passing_run(run_client, server_url, transport, "server_ack")
    assert recorder.values("ack") == [["yes", {"n": 42}]]
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_two_endpoints_share_one_connection(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    await passing_run(run_client, server_url, transport, "multiplex")
    assert recorder.values("message", "/chat") == ["hi"]
    assert recorder.values("message", "/news") == ["hi"]
    assert recorder.values("message") == []
    assert len(recorder.values("open")) == 1, "one session, one main connection"
    assert recorder.values("open", "/chat") == [None]
    assert recorder.values("open", "/news") == [None]
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_hundred_server_emits_arrive_complete_and_in_order(
        run_client: Any, server_url: str, transport: str, caplog: Any) -> None:
    await passing_run(run_client, server_url, transport, "burst")
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_cyrillic_emoji_and_replacement_char_round_trip_exactly(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    await passing_run(run_client, server_url, transport, "unicode")
    assert recorder.values("message") == UNICODE_PAYLOADS
    assert recorder.values("ping") == [([text], {}) for text in UNICODE_PAYLOADS]
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_one_megabyte_message_round_trips_intact(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    await passing_run(run_client, server_url, transport, "big_message")
    received = recorder.values("message")
    assert len(received) == 1
    assert received[0] == big_message(), "server decoded %d chars, expected %d" % (
        len(received[0]), len(big_message()))
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_server_close_reaches_the_client_as_disconnect(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    run = await run_client(server_url, transport, "server_close")
    assert recorder.values("open"), run.explain()
    kicked_tag = recorder.values("open")[0]
    await server_fact(recorder, "close", "", kicked_tag, run)
    assert run.passed, run.explain()
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_client_disconnect_calls_on_close(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    run = await run_client(server_url, transport, "client_disconnect")
    assert recorder.values("open"), run.explain()
    leaving_tag = recorder.values("open")[0]
    assert leaving_tag, "the client connects with ?tag="
    await server_fact(recorder, "close", "", leaving_tag, run)
    assert run.passed, run.explain()
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_single_object_argument_reaches_kwargs_handler_and_returns_as_object(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    await passing_run(run_client, server_url, transport, "ping_object")
    assert recorder.values("ping") == [([], {"a": 1, "b": ["x", None]})], "handler gets kwargs"
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_empty_message_is_echoed(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    await passing_run(run_client, server_url, transport, "empty_message")
    assert recorder.values("message") == ["", "after"]
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_client_send_with_callback_is_acknowledged_automatically(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    await passing_run(run_client, server_url, transport, "send_ack")
    assert recorder.values("message") == ["hi"]
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_server_send_callback_runs_on_the_client_automatic_ack(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    await passing_run(run_client, server_url, transport, "server_send_ack")
    assert recorder.values("send_ack") == [[]]
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_leaving_an_endpoint_closes_only_that_endpoint(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    run = await passing_run(run_client, server_url, transport, "endpoint_disconnect")
    await server_fact(recorder, "close", "/chat", None, run)
    facts = [(f.kind, f.endpoint) for f in recorder.facts]
    ping = facts.index(("ping", ""))
    assert facts.index(("close", "/chat")) < ping, facts
    assert ("close", "") not in facts[:ping], "0::/chat closed the main connection: %r" % facts
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_idle_client_stays_connected_past_the_announced_timeouts(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    await passing_run(run_client, server_url, transport, "idle")
    facts = [(f.kind, f.endpoint) for f in recorder.facts]
    assert ("close", "") not in facts[:facts.index(("ping", ""))], facts
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_room_emits_reach_exactly_their_members_across_mixed_transports(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    # The client checks every delivery, absences included (each send is
    # followed by a sentinel to the endpoint); here: three sockets, one
    # session each, each with a /chat endpoint.
    await passing_run(run_client, server_url, transport, "rooms")
    tags = recorder.values("open")
    assert len(tags) == 3 and len(set(tags)) == 3, tags
    assert sorted(recorder.values("open", "/chat")) == sorted(tags), "one /chat per socket"
    assert_server_quiet(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_volatile_send_to_a_poller_without_a_waiting_get_is_dropped(
        run_client: Any, server_url: str, transport: str, recorder: "Recorder",
        caplog: Any) -> None:
    run = await passing_run(run_client, server_url, transport, "volatile")
    assert len(recorder.values("open")) == 2, run.explain()
    assert_server_quiet(caplog)
