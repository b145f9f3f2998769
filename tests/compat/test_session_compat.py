"""``self.session`` as TornadIO2 applications used it."""

import pytest
import tornado.web

from tests.fakes import RecordingConnection
from tornadio2 import SocketConnection, TornadioRouter


class Chat(RecordingConnection):
    pass


class Main(RecordingConnection):
    __endpoints__ = {"/chat": Chat, "/news": Chat}


def test_session_id_and_remote_ip(make_session):
    session = make_session(Main)
    assert session.session_id == session.sid
    assert session.remote_ip == session.info.ip == "127.0.0.1"


def test_close_with_an_endpoint_closes_only_that_endpoint(make_session, transport):
    session = make_session(Main)
    session.attach(transport)
    session.receive_frames("1::/chat")
    session.receive_frames("1::/news")
    chat, news = session.get_endpoint("/chat"), session.get_endpoint("/news")
    session.close("/chat")
    assert transport.packets[-1] == "0::/chat"
    assert chat.calls[-1] == ("close",) and chat.is_closed
    assert not session.is_closed and not news.is_closed
    assert ("close",) not in session.conn.calls
    session.close()
    assert session.is_closed and news.calls[-1] == ("close",)
    assert transport.packets[-1] == "0::"


def test_close_without_an_endpoint_or_with_none_closes_the_session(make_session, transport):
    session = make_session(Main)
    session.attach(transport)
    session.close(None)
    assert session.is_closed and transport.packets[-1] == "0::"


def test_close_keeps_send_disconnect_for_internal_callers(make_session, transport):
    session = make_session(Main)
    session.attach(transport)
    session.close(send_disconnect=False)
    assert session.is_closed and "0::" not in transport.packets


def test_send_message_get_connection_endpoints_and_handler(make_session, transport):
    session = make_session(Main)
    assert session.handler is None
    session.attach(transport)
    assert session.handler is transport
    session.receive_frames("1::/chat")
    chat = session.get_endpoint("/chat")
    assert session.get_connection("/chat") is chat
    assert session.get_connection(None) is session.get_connection("") is session.conn
    assert session.get_connection("/nowhere") is None
    assert dict(session.endpoints) == {"/chat": chat}
    with pytest.raises(TypeError):
        session.endpoints["/x"] = chat  # a read-only view
    session.send_message("3::/chat:raw")
    assert transport.packets[-1] == "3::/chat:raw"
    session.close("/chat")
    assert dict(session.endpoints) == {}


def test_a_session_made_without_a_router_has_no_server(make_session):
    assert make_session(Main).server is None


class StatsReader(SocketConnection):
    seen = []

    def on_open(self, info):
        server = self.session.server
        self.seen.append((server.stats.active_sessions, server.settings["session_expiry"],
                          server.io_loop))


@pytest.fixture
def connection():
    return StatsReader


@pytest.mark.gen_test
async def test_session_server_is_the_router(io_loop, wire, router):
    StatsReader.seen.clear()
    await wire.new_sid()
    assert StatsReader.seen == [(0, 30, io_loop)]
    session = next(iter(router.sessions))
    assert session.server is router
    assert session.server.stats.active_sessions == 1
