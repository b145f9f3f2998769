"""serve() and connect_clients(), and the client's errors before it connects (tornadio2 only)."""

import socket

import pytest
import tornado.web

from tornadio2 import SocketConnection, TornadioRouter
from tornadio2.testing import HandshakeError, SocketIOClient, connect_clients, serve


class EchoConnection(SocketConnection):
    def on_message(self, message):
        self.send(message)


class RefusingConnection(SocketConnection):
    def on_open(self, info):
        return info.get_argument("token") == "secret"


class HelloHandler(tornado.web.RequestHandler):
    def get(self):
        self.write("hello")


@pytest.mark.gen_test(timeout=15)
async def test_serve_runs_a_router_on_a_free_loopback_port():
    router = TornadioRouter(EchoConnection, {"client_path": None})
    async with serve(router) as server:
        assert server.url == "http://127.0.0.1:%d" % server.port
        assert server.router is router
        async with server.client() as client:
            await client.send("hi")
            assert await client.receive() == "hi"
            assert router.stats.dump()["sessions_active"] == 1
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


@pytest.mark.gen_test(timeout=15)
async def test_serve_runs_an_application_with_the_router_among_its_routes():
    router = TornadioRouter(EchoConnection, {"client_path": None}, namespace="rt")
    app = tornado.web.Application(router.apply_routes([(r"/hello", HelloHandler)]))
    async with serve(app, router=router) as server:
        async with server.client(transport="xhr-polling") as client:
            assert client.namespace == "rt"
            await client.send("over xhr")
            assert await client.receive() == "over xhr"


@pytest.mark.gen_test(timeout=20)
@pytest.mark.parametrize("transport", ["websocket", "xhr-polling"])
async def test_connect_clients_opens_and_closes_several_sessions(transport):
    router = TornadioRouter(EchoConnection, {"client_path": None})
    async with serve(router) as server:
        async with connect_clients(server.url, 5, transport=transport) as clients:
            assert len({client.sid for client in clients}) == 5
            for number, client in enumerate(clients):
                await client.send("client %d" % number)
            for number, client in enumerate(clients):
                assert await client.receive() == "client %d" % number
        assert all(client.disconnect_reason == "client disconnected" for client in clients)


@pytest.mark.gen_test(timeout=15)
async def test_refused_handshake_raises_handshake_error_with_the_answer():
    async with serve(TornadioRouter(RefusingConnection, {"client_path": None})) as server:
        with pytest.raises(HandshakeError) as refused:
            await server.connect(query={"token": "wrong"})
        assert (refused.value.status, refused.value.body) == (403, "handshake unauthorized")
        async with server.client(query="token=secret") as client:
            assert client.connected


@pytest.mark.gen_test(timeout=15)
async def test_transport_the_server_does_not_offer_is_refused():
    router = TornadioRouter(EchoConnection, {"client_path": None,
                                             "enabled_protocols": ["xhr-polling"]})
    async with serve(router) as server:
        with pytest.raises(HandshakeError, match="does not offer websocket"):
            await server.connect(transport="websocket")


def test_unknown_transport_is_a_value_error():
    with pytest.raises(ValueError, match="transport must be one of"):
        SocketIOClient("http://127.0.0.1:1", transport="htmlfile")


def test_an_unknown_session_answer_after_our_own_disconnect_still_reads_as_ours():
    # Over xhr-polling the server ends the session as soon as the 0:: POST is
    # read; a GET already on its way then gets 7:::1+0, possibly before the
    # POST's own answer. That is still the disconnect the client asked for.
    client = SocketIOClient("http://127.0.0.1:1", transport="xhr-polling")
    client._disconnecting = True
    client._on_payload("7:::1+0")
    assert client.disconnect_reason == "client disconnected"
    assert client.errors == [("", "1+0")]


def test_an_unknown_session_answer_out_of_the_blue_is_an_error():
    client = SocketIOClient("http://127.0.0.1:1", transport="xhr-polling")
    client._on_payload("7:::1+0")
    assert client.disconnect_reason == "error packet 1+0"
