"""``TornadioRouter`` settings as seen through ``router.settings`` and on the wire."""

import logging

import pytest
import tornado.web
from tornado.httpclient import AsyncHTTPClient

from tornadio2 import TornadioRouter
from tornadio2.testing import serve
from tests.integration.conftest import EchoConnection

try:
    from .wire import WireClient, read_response_text
except ImportError:
    from wire import WireClient, read_response_text

DEFAULTS = {
    "enabled_protocols": ["websocket", "flashsocket", "xhr-polling", "jsonp-polling", "htmlfile"],
    "heartbeat_interval": 12,
    "client_timeout": 5,
    "xhr_polling_timeout": 20,
    "session_expiry": 30,
    "session_check_interval": 15,
    "websocket_check": False,
    "global_heartbeats": True,
    "verify_remote_ip": True,
    "allowed_origins": "*",
    "max_message_size": 10 * 1024 * 1024,
    "max_queue_length": 10000,
    "max_queue_bytes": 10 * 1024 * 1024,
    "websocket_write_limit": 10 * 1024 * 1024,
    "max_payload_packets": 10000,
    "payload_slice_packets": 1000,
}


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_setting_defaults_are_visible(router, name):
    value = router.settings[name]
    if isinstance(value, tuple):
        value = list(value)
    assert value == DEFAULTS[name]


@pytest.mark.settings(xhr_polling_timeout=2, heartbeat_interval=3)
def test_user_settings_override_only_given_keys(router):
    assert router.settings["xhr_polling_timeout"] == 2
    assert router.settings["heartbeat_interval"] == 3
    assert router.settings["client_timeout"] == 5
    assert router.settings["session_expiry"] == 30


@pytest.mark.settings(enabled_protocols=["websocket"])
@pytest.mark.gen_test
async def test_disabled_protocols_are_not_announced(wire):
    response = await wire.handshake()
    assert read_response_text(response).split(":")[1:] == ["17", "25", "websocket"]


@pytest.mark.settings(enabled_protocols=["websocket", "htmlfile"])
@pytest.mark.gen_test
async def test_announced_transports_keep_configured_order(wire):
    response = await wire.handshake()
    assert read_response_text(response).split(":")[3] == "websocket,htmlfile"


@pytest.mark.settings(enabled_protocols=["websocket"])
@pytest.mark.parametrize("transport", ["xhr-polling", "jsonp-polling", "htmlfile"])
@pytest.mark.gen_test
async def test_disabled_polling_transports_are_not_routed(wire, transport):
    """Native closes the TCP connection without an HTTP answer (wire-notes#urls);
    we expect the route to be absent: ``404``, for GET and POST alike."""
    sid = await wire.new_sid()
    get = await wire.fetch("1/%s/%s?t=1" % (transport, sid))
    assert get.code == 404
    post = await wire.fetch("1/%s/%s?t=1" % (transport, sid), method="POST", body="3:::x")
    assert post.code == 404


@pytest.mark.namespace("realtime")
@pytest.mark.gen_test
async def test_custom_namespace_moves_every_url(base_url, http_client):
    wire = WireClient(base_url, http_client, namespace="realtime")
    session = await wire.xhr()
    await session.send("3:::here")
    assert await session.get_text() == "3:::here"
    default = WireClient(base_url, http_client)
    assert (await default.handshake()).code == 404


class _Hello(tornado.web.RequestHandler):
    def get(self):
        self.write("hello")


def test_apply_routes_keeps_own_handlers_and_adds_socket_io(router):
    routes = router.apply_routes([(r"/hello", _Hello)])
    patterns = [r[0] if isinstance(r, (tuple, list)) else r.regex.pattern for r in routes]
    assert patterns[0] == "/hello"
    assert len(routes) == len(list(router.urls)) + 1


@pytest.mark.gen_test
async def test_session_cannot_be_used_from_another_address(wire):
    """``verify_remote_ip`` (default on): a poll from another address (127.0.0.2,
    also loopback) is treated as an unknown session and does not disturb the owner."""
    session = await wire.xhr(connect=False)
    other = await wire.fetch("1/xhr-polling/%s?t=1" % session.sid, source_ip="127.0.0.2")
    assert (other.code, read_response_text(other)) == (200, "7:::1+0")
    assert await session.get_text() == "1::"


@pytest.mark.settings(verify_remote_ip=False)
@pytest.mark.gen_test
async def test_session_may_move_address_without_verify_remote_ip(wire):
    session = await wire.xhr(connect=False)
    other = await wire.fetch("1/xhr-polling/%s?t=1" % session.sid, source_ip="127.0.0.2")
    assert (other.code, read_response_text(other)) == (200, "1::")


def test_misspelt_setting_is_reported(caplog):
    TornadioRouter(EchoConnection, {"heartbeat_intervall": 3})
    assert "unknown setting 'heartbeat_intervall'" in caplog.text


def test_router_stop_closes_sessions_and_timers():
    import asyncio

    async def scenario():
        router = TornadioRouter(EchoConnection)
        from tornadio2.session import ConnectionInfo, Session

        session = Session(router.sessions.new_id(), EchoConnection,
                          ConnectionInfo("127.0.0.1", {}, None), router.session_config,
                          router.scheduler, router.stats, router.sessions.hooks)
        await session.open()
        router.sessions.add(session)
        router.stop()
        return router, session

    router, session = asyncio.run(scenario())
    assert session.is_closed
    assert len(router.sessions) == 0


@pytest.mark.gen_test
async def test_browser_client_is_served_where_the_native_server_serves_it(wire):
    from pathlib import Path

    dist = Path(__file__).resolve().parents[2] / "node_modules" / "socket.io-client" / "dist"
    if not (dist / "socket.io.js").is_file():
        pytest.skip("npm packages not installed")
    response = await wire.fetch("socket.io.js")
    assert response.code == 200
    assert response.body == (dist / "socket.io.js").read_bytes()
    swf = await wire.fetch("static/flashsocket/WebSocketMain.swf")
    assert swf.body == (dist / "WebSocketMain.swf").read_bytes()


INSTALL_LINE = "npm install --ignore-scripts socket.io-client@0.9.16"


async def fetch_client_files(router):
    """The answers to socket.io.js and socket.io.min.js of ``router``, served on loopback."""
    async with serve(router) as server:
        client = AsyncHTTPClient()
        return [await client.fetch(server.url + "/socket.io/" + name, raise_error=False)
                for name in ("socket.io.js", "socket.io.min.js")]


@pytest.mark.gen_test
async def test_a_client_that_auto_cannot_find_is_a_warning_and_a_404(tmp_path, monkeypatch,
                                                                     caplog):
    monkeypatch.chdir(tmp_path)  # no node_modules here or in any parent
    caplog.set_level(logging.WARNING, logger="tornadio2.router")
    router = TornadioRouter(EchoConnection, {"client_path": "auto"})
    warnings = [r for r in caplog.records if r.name == "tornadio2.router"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert INSTALL_LINE in warnings[0].getMessage()
    assert "client_path" in warnings[0].getMessage()
    for response in await fetch_client_files(router):
        assert response.code == 404
        assert response.headers["Content-Type"] == "text/plain; charset=UTF-8"
        assert response.body.decode() == warnings[0].getMessage() + "\n"


@pytest.mark.gen_test
async def test_client_path_none_answers_404_without_a_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.DEBUG, logger="tornadio2")
    router = TornadioRouter(EchoConnection, {"client_path": None})
    assert [r for r in caplog.records if r.name.startswith("tornadio2")] == []
    for response in await fetch_client_files(router):
        assert response.code == 404
        assert response.body == (
            b"This server serves no Socket.IO browser client (client_path is None).\n")


@pytest.mark.parametrize("path", ["1//%s/?disconnect=1", "1/xhr-polling/%s?disconnect=1"])
@pytest.mark.gen_test
async def test_disconnect_from_another_address_does_not_end_the_session(wire, path):
    """``?disconnect`` acts on a session, so it is bound to the session's address too."""
    session = await wire.xhr(connect=False)
    await wire.fetch(path % session.sid, source_ip="127.0.0.2")
    assert await session.get_text() == "1::"
    await session.send("3:::still mine")
    assert await session.get_text() == "3:::still mine"
