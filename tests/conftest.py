"""Fixtures shared by every test layer."""

import asyncio
import warnings
from typing import Any, Callable, Iterator, Optional, Type

import pytest
import tornado.ioloop

from tests.fakes import FakeScheduler, FakeTransport, RecordingConnection
from tornadio2 import peerlog
from tornadio2.session import ConnectionInfo, Session, SessionConfig
from tornadio2.sessioncontainer import SessionContainer
from tornadio2.stats import StatsCollector


@pytest.fixture
def io_loop() -> Iterator[tornado.ioloop.IOLoop]:
    """pytest-tornado's loop fixture, without leaking an implicit asyncio loop.

    On Python < 3.12, making a Tornado loop current first asks asyncio for the
    current loop, which creates one when none is set, and restores that one
    afterwards: a loop nobody closes, reported unclosed in some later test.
    Clearing asyncio's current loop before and after avoids it.
    """
    asyncio.set_event_loop(None)
    loop = tornado.ioloop.IOLoop()
    try:
        yield loop
    finally:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                loop.clear_current()
        finally:
            loop.close(all_fds=True)
            asyncio.set_event_loop(None)


@pytest.fixture(autouse=True)
def _fresh_peer_logs() -> Iterator[None]:
    """Each test starts with the rate limits of peer-caused warnings cleared."""
    peerlog.reset_all()
    yield


@pytest.fixture
def scheduler() -> FakeScheduler:
    return FakeScheduler()


@pytest.fixture
def transport() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def container() -> SessionContainer:
    return SessionContainer()


@pytest.fixture
def stats() -> StatsCollector:
    return StatsCollector()


@pytest.fixture
def info() -> ConnectionInfo:
    return ConnectionInfo("127.0.0.1", {"token": ["abc"]}, None, {"Host": "localhost"}, "/socket.io/1/")


@pytest.fixture
def make_session(scheduler: FakeScheduler, container: SessionContainer, stats: StatsCollector,
                 info: ConnectionInfo) -> Callable[..., Session]:
    """Build a handshaken session (``on_open`` already run) and add it to the container."""

    def make(conn_class: Type[Any] = RecordingConnection,
             config: Optional[SessionConfig] = None, **config_changes: Any) -> Session:
        base = config or SessionConfig(heartbeat_interval=12, heartbeat_timeout=17,
                                       global_heartbeats=False, session_expiry=30,
                                       poll_timeout=20, max_queue_length=100)
        if config_changes:
            base = SessionConfig(**{**base.__dict__, **config_changes})
        session = Session(container.new_id(), conn_class, info, base, scheduler, stats, container.hooks)
        opened = session.open()
        try:
            opened.send(None)
        except StopIteration as done:
            assert done.value is True
        else:  # pragma: no cover - RecordingConnection.on_open is synchronous
            raise AssertionError("on_open did not finish synchronously")
        container.add(session)
        return session

    return make
