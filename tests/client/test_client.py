"""The test client against tornadio2 and the native socket.io 0.9.19 server.

Every test runs four times: on both servers (``target``) and over both
transports (``transport``); see ``conftest.py``. What the client received is
asserted literally; the client's packet trace (``client.packets``) shows the
wire form where it matters.
"""

import pytest
from tornado.httpclient import AsyncHTTPClient

from tornadio2.testing import (ClientDisconnected, EndpointRefused, SocketIOClient,
                               WaitTimeout)

#: Seconds a test waits for anything that is expected to arrive.
TIMEOUT = 5.0


def client_for(url: str, transport: str, **kwargs: object) -> SocketIOClient:
    return SocketIOClient(url, transport=transport, timeout=TIMEOUT, **kwargs)  # type: ignore[arg-type]


@pytest.mark.gen_test(timeout=15)
async def test_connect_reads_the_handshake_and_the_connect_packet(target, transport):
    async with target.running() as url:
        async with client_for(url, transport) as client:
            assert client.connected
            assert client.sid
            assert client.transports == ["websocket", "xhr-polling"]
            assert client.heartbeat_timeout == pytest.approx(1.0)
            assert client.packets[0] == "1::"


@pytest.mark.gen_test(timeout=15)
async def test_text_and_json_messages_are_echoed(target, transport):
    async with target.running() as url:
        async with client_for(url, transport) as client:
            await client.send("hello é😀")
            assert await client.receive() == "hello é😀"
            await client.json({"a": [1, "😀"]})
            message = await client.receive_message()
            assert message.is_json and message.data == {"a": [1, "😀"]}


@pytest.mark.gen_test(timeout=15)
async def test_message_with_ack_is_acknowledged_by_the_server(target, transport):
    async with target.running() as url:
        async with client_for(url, transport) as client:
            await client.send("count me", ack=True)
            assert "6:::1" in client.packets
            assert await client.receive() == "count me"


@pytest.mark.gen_test(timeout=15)
async def test_emit_with_ack_returns_the_handlers_answer(target, transport):
    async with target.running() as url:
        async with client_for(url, transport) as client:
            assert await client.emit("add", 2, 3, ack=True) == [5]
            assert "6:::1+[5]" in client.packets


@pytest.mark.gen_test(timeout=15)
async def test_server_events_are_received_by_name(target, transport):
    async with target.running() as url:
        async with client_for(url, transport) as client:
            await client.emit("ping", 1, "two", {"three": 3})
            pong = await client.receive_event("pong")
            assert (pong.name, pong.args, pong.wants_ack) == ("pong", [1, "two", {"three": 3}], False)


@pytest.mark.gen_test(timeout=15)
async def test_handler_return_value_answers_the_servers_ack_request(target, transport):
    async with target.running() as url:
        async with client_for(url, transport) as client:
            client.on("question", lambda question: "yes to " + question)
            await client.emit("ask", "sure?")
            answered = await client.receive_event("answered")
            assert answered.args == [["yes to sure?"]]
            assert '5:1+::{"name":"question","args":["sure?"]}' in client.packets


@pytest.mark.gen_test(timeout=15)
async def test_async_handler_can_answer_with_several_values(target, transport):
    async def answer(question):
        return ("no", 42)

    async with target.running() as url:
        async with client_for(url, transport) as client:
            client.on("question", answer)
            await client.emit("ask", "sure?")
            assert (await client.receive_event("answered")).args == [["no", 42]]


@pytest.mark.gen_test(timeout=15)
async def test_unhandled_ack_request_is_queued_and_answered_by_the_test(target, transport):
    async with target.running() as url:
        async with client_for(url, transport) as client:
            await client.emit("ask", "well?")
            question = await client.receive_event("question")
            assert question.wants_ack and question.args == ["well?"]
            await client.ack(question, "maybe")
            assert (await client.receive_event("answered")).args == [["maybe"]]


@pytest.mark.gen_test(timeout=15)
async def test_message_with_plain_id_is_acknowledged_automatically(target, transport):
    async with target.running() as url:
        async with client_for(url, transport) as client:
            await client.emit("send_me")
            message = await client.receive_message()
            assert (message.data, message.id) == ("ack me", "1")
            assert "3:1::ack me" in client.packets
            await client.receive_event("sent_acked")


@pytest.mark.gen_test(timeout=15)
async def test_endpoint_connects_echoes_and_disconnects(target, transport):
    async with target.running() as url:
        async with client_for(url, transport) as client:
            chat = await client.connect_endpoint("/chat")
            assert chat.connected and "1::/chat" in client.packets
            await chat.send("hi")
            assert await chat.receive() == "chat:hi"
            await chat.disconnect()
            assert not chat.connected
            assert await client.emit("closed_endpoints", ack=True) == [["/chat"]]
            await client.send("still here")
            assert await client.receive() == "still here"


@pytest.mark.gen_test(timeout=15)
async def test_refused_endpoint_raises_endpoint_refused(target, transport):
    async with target.running() as url:
        async with client_for(url, transport) as client:
            with pytest.raises(EndpointRefused) as refused:
                await client.connect_endpoint("/private")
            assert (refused.value.endpoint, refused.value.reason) == ("/private", "2")
            assert "7::/private:2" in client.packets
            assert client.connected


@pytest.mark.gen_test(timeout=15)
async def test_server_can_disconnect_an_endpoint(target, transport):
    async with target.running() as url:
        async with client_for(url, transport) as client:
            chat = await client.connect_endpoint("/chat")
            await chat.emit("leave")
            await chat.wait_closed()
            assert "0::/chat" in client.packets and not chat.connected
            with pytest.raises(ClientDisconnected):
                await chat.receive(timeout=1)
            await client.send("main goes on")
            assert await client.receive() == "main goes on"


@pytest.mark.gen_test(timeout=15)
async def test_answered_heartbeats_keep_the_session_alive(target, transport):
    if transport == "xhr-polling" and not target.heartbeats_on_polling:
        pytest.skip("socket.io 0.9 sends heartbeats on sockets only")
    async with target.running() as url:
        async with client_for(url, transport) as client:
            # Eight intervals of 0.2 s, each answered well within the 1 s allowed.
            assert await client.wait_heartbeats(8) >= 8
            assert client.connected
            assert await client.emit("add", 1, 1, ack=True) == [2]


@pytest.mark.gen_test(timeout=15)
async def test_withheld_heartbeats_make_the_server_end_the_session(target, transport):
    if transport == "xhr-polling" and not target.heartbeats_on_polling:
        pytest.skip("socket.io 0.9 sends heartbeats on sockets only")
    async with target.running() as url:
        async with client_for(url, transport, answer_heartbeats=False) as client:
            await client.wait_heartbeats(1)
            reason = await client.wait_disconnected()
            assert not client.connected
            assert reason != "client disconnected", reason
            await target.facts.wait_closed(client.sid)
            with pytest.raises(ClientDisconnected):
                await client.receive(timeout=1)


@pytest.mark.gen_test(timeout=15)
async def test_server_initiated_disconnect_is_seen(target, transport):
    async with target.running() as url:
        async with client_for(url, transport) as client:
            await client.emit("kick")
            reason = await client.wait_disconnected()
            assert not client.connected
            assert reason in ("server disconnected", "error packet 1+0"), reason
            await target.facts.wait_closed(client.sid)


@pytest.mark.gen_test(timeout=15)
async def test_client_disconnect_ends_the_session_on_the_server(target, transport):
    async with target.running() as url:
        client = client_for(url, transport)
        await client.connect()
        await client.disconnect()
        assert client.disconnect_reason == "client disconnected"
        await target.facts.wait_closed(client.sid)
        http = AsyncHTTPClient(force_instance=True)
        try:
            response = await http.fetch("%s/socket.io/1/xhr-polling/%s" % (url, client.sid))
        finally:
            http.close()
        assert response.body == b"7:::1+0"


@pytest.mark.gen_test(timeout=15)
async def test_waiting_for_nothing_raises_a_timeout_naming_what_was_awaited(target, transport):
    async with target.running() as url:
        async with client_for(url, transport) as client:
            with pytest.raises(WaitTimeout, match="event 'never' on endpoint ''"):
                await client.receive_event("never", timeout=0.3)
            assert client.connected
