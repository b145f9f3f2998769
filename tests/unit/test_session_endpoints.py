"""Endpoint multiplexing over one session."""

import asyncio

from tests.fakes import RecordingConnection
from tornadio2 import SocketConnection


class Chat(RecordingConnection):
    def on_open(self, info):
        super().on_open(info)
        self.send("welcome " + (info.get_argument("token") or "-"))


class Refused(RecordingConnection):
    refuse = True


class Main(RecordingConnection):
    __endpoints__ = {"/chat": Chat, "/news": Chat, "/private": Refused}


def test_endpoint_connect_is_echoed_before_what_on_open_sends(make_session, transport):
    session = make_session(Main)
    session.attach(transport)
    session.receive_frames("1::/chat")
    assert transport.packets[1:] == ["1::/chat", "3::/chat:welcome abc"]


def test_text_sent_on_an_endpoint_names_it(make_session, transport):
    session = make_session(Main)
    session.attach(transport)
    session.receive_frames("1::/chat")
    sends = [("/chat", "hi"), ("/chat", ""), ("", "")]  # an empty text has no data part
    for endpoint, text in sends:
        (session.get_endpoint(endpoint) if endpoint else session.conn).send(text)
    assert transport.packets[-3:] == ["3::/chat:hi", "3::/chat", "3::"]


def test_endpoints_see_the_handshake_query(make_session, transport):
    session = make_session(Main)
    session.attach(transport)
    session.receive_frames("1::/chat")
    assert session.get_endpoint("/chat").calls[0][1].get_argument("token") == "abc"


def test_connect_query_adds_arguments(make_session, transport):
    session = make_session(Main)
    session.attach(transport)
    session.receive_frames("1::/chat:?room=42")
    info = session.get_endpoint("/chat").calls[0][1]
    assert info.get_argument("room") == "42"
    assert info.get_argument("token") == "abc"


def test_messages_are_routed_by_endpoint(make_session, transport):
    session = make_session(Main)
    session.attach(transport)
    session.receive_frames("\ufffd8\ufffd1::/chat\ufffd8\ufffd1::/news")
    session.receive_frames("3::/news:hi")
    session.receive_frames("3:::main")
    assert session.get_endpoint("/news").calls[-1] == ("message", "hi")
    assert ("message", "hi") not in session.get_endpoint("/chat").calls
    assert transport.packets[-2:] == ["3::/news:got hi", "3:::got main"]


def test_endpoint_disconnect_leaves_the_rest_open(make_session, transport):
    session = make_session(Main)
    session.attach(transport)
    session.receive_frames("\ufffd8\ufffd1::/chat\ufffd8\ufffd1::/news")
    chat = session.get_endpoint("/chat")
    session.receive_frames("0::/chat")
    assert chat.calls[-1] == ("close",)
    assert chat.is_closed
    assert session.get_endpoint("/chat") is None
    session.receive_frames("3::/news:still")
    assert transport.packets[-1] == "3::/news:got still"
    assert not session.is_closed


def test_server_closing_endpoint_sends_its_disconnect(make_session, transport):
    session = make_session(Main)
    session.attach(transport)
    session.receive_frames("1::/chat")
    session.get_endpoint("/chat").close()
    assert transport.packets[-1] == "0::/chat"
    assert not session.is_closed


def test_refused_endpoint_gets_unauthorized_error(make_session, transport):
    session = make_session(Main)
    session.attach(transport)
    session.receive_frames("1::/private")
    assert transport.packets[-1] == "7::/private:2"
    assert session.get_endpoint("/private") is None


def test_unknown_endpoint_is_ignored(make_session, transport, caplog):
    session = make_session(Main)
    session.attach(transport)
    session.receive_frames("1::/nowhere")
    session.receive_frames("3::/nowhere:x")
    assert transport.packets == ["1::"]
    assert "/nowhere" in caplog.text
    assert not session.is_closed


def test_session_close_closes_every_endpoint_once(make_session, transport):
    session = make_session(Main)
    session.attach(transport)
    session.receive_frames("\ufffd8\ufffd1::/chat\ufffd8\ufffd1::/news")
    endpoints = [session.get_endpoint("/chat"), session.get_endpoint("/news")]
    session.receive_frames("0::")
    for conn in endpoints:
        assert conn.calls.count(("close",)) == 1
    assert session.conn.calls.count(("close",)) == 1


def _feed_while_endpoint_opens(frames, sends_when_open=()):
    """Feed ``frames`` while ``/slow``'s async ``on_open`` waits, then let it finish.

    Returns the session, the packets sent before ``on_open`` finished, and all.
    """
    from tests.fakes import FakeScheduler, FakeTransport
    from tornadio2.session import ConnectionInfo, Session, SessionConfig

    async def scenario():
        gate = asyncio.get_running_loop().create_future()

        class SlowChat(RecordingConnection):
            async def on_open(self, info):
                await gate
                for text in sends_when_open:
                    self.send(text)

        class Root(SocketConnection):
            __endpoints__ = {"/slow": SlowChat}

        session = Session("s", Root, ConnectionInfo("1.2.3.4", {}, None), SessionConfig(),
                          FakeScheduler())
        await session.open()
        transport = FakeTransport()
        session.attach(transport)
        for frame in frames:
            session.receive_frames(frame)
        before = list(transport.packets)
        gate.set_result(None)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return session, before, transport.packets

    return asyncio.run(scenario())


def test_packets_wait_while_async_endpoint_open_runs():
    _, before, packets = _feed_while_endpoint_opens(
        ["\ufffd8\ufffd1::/slow\ufffd14\ufffd3::/slow:early"], sends_when_open=["ready"])
    assert before == ["1::"]
    assert packets == ["1::", "1::/slow", "3::/slow:ready", "3::/slow:got early"]


def test_bad_packet_for_an_opening_endpoint_is_dropped_without_holding_up_the_rest(caplog):
    session, before, packets = _feed_while_endpoint_opens(
        ["1::/slow", "5::/slow:{not json", "3::/slow:after"])
    assert before == ["1::"]
    assert packets == ["1::", "1::/slow", "3::/slow:got after"]
    assert not session.is_closed
    assert "ignoring bad packet" in caplog.text


def test_endpoint_on_open_raising_connection_rejected_is_refused(make_session, transport):
    from tornadio2.exceptions import ConnectionRejected

    class Raising(RecordingConnection):
        def on_open(self, info):
            raise ConnectionRejected()

    class Root(RecordingConnection):
        __endpoints__ = {"/vip": Raising}

    session = make_session(Root)
    session.attach(transport)
    session.receive_frames("1::/vip")
    assert transport.packets[-1] == "7::/vip:2"
    assert not session.is_closed


def test_main_on_open_raising_connection_rejected_refuses_handshake(scheduler, container, info):
    from tornadio2.exceptions import ConnectionRejected
    from tornadio2.session import Session, SessionConfig

    class Raising(RecordingConnection):
        def on_open(self, info):
            raise ConnectionRejected()

    session = Session("sid", Raising, info, SessionConfig(), scheduler, None, container.hooks)
    assert asyncio.run(session.open()) is False


class ClosesInOpen(RecordingConnection):
    def on_open(self, info):
        super().on_open(info)
        self.send("never seen")
        self.close()


def test_close_inside_endpoint_on_open_refuses_the_endpoint(make_session, transport):
    class Root(RecordingConnection):
        __endpoints__ = {"/x": ClosesInOpen}

    session = make_session(Root)
    session.attach(transport)
    session.receive_frames("1::/x")
    assert transport.packets == ["1::", "7::/x:2"]
    assert session.get_endpoint("/x") is None
    assert not session.is_closed
    session.receive_frames("3::/x:late")  # the endpoint is gone: nothing answers
    assert transport.packets == ["1::", "7::/x:2"]


def test_close_inside_endpoint_on_open_still_calls_on_close_once(make_session, transport):
    made = []

    class Closer(ClosesInOpen):
        def on_open(self, info):
            made.append(self)
            return super().on_open(info)

    class Root(RecordingConnection):
        __endpoints__ = {"/x": Closer}

    session = make_session(Root)
    session.attach(transport)
    session.receive_frames("1::/x")
    session.close()
    assert made[0].calls.count(("close",)) == 1
    assert made[0].is_closed


def test_close_inside_async_endpoint_on_open_refuses_the_endpoint():
    async def scenario():
        class AsyncCloser(RecordingConnection):
            async def on_open(self, info):
                await asyncio.sleep(0)
                self.close()

        class Root(SocketConnection):
            __endpoints__ = {"/x": AsyncCloser}

        session, transport = await _attached_session(Root)
        session.receive_frames("1::/x")
        for _ in range(3):
            await asyncio.sleep(0)
        return transport.packets

    assert asyncio.run(scenario()) == ["1::", "7::/x:2"]


async def _attached_session(conn_class):
    from tests.fakes import FakeScheduler, FakeTransport
    from tornadio2.session import ConnectionInfo, Session, SessionConfig

    session = Session("s", conn_class, ConnectionInfo("1.2.3.4", {}, None), SessionConfig(),
                      FakeScheduler())
    await session.open()
    transport = FakeTransport()
    session.attach(transport)
    return session, transport


def test_endpoint_whose_async_on_open_is_pending_at_close_gets_on_close_once():
    async def scenario():
        gate = asyncio.get_running_loop().create_future()
        opened = []

        class Pending(RecordingConnection):
            async def on_open(self, info):
                opened.append(self)
                await gate

        class Root(SocketConnection):
            __endpoints__ = {"/slow": Pending}

        session, transport = await _attached_session(Root)
        session.receive_frames("1::/slow")
        session.close()
        gate.set_result(None)  # on_open finishes after the session ended
        for _ in range(3):
            await asyncio.sleep(0)
        return opened[0], transport

    conn, transport = asyncio.run(scenario())
    assert conn.calls.count(("close",)) == 1
    assert conn.is_closed
    assert "1::/slow" not in transport.packets
