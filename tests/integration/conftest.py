"""Fixtures for the integration tests: a real tornadio2 app on 127.0.0.1.

The app serves ``EchoConnection`` (echo messages; ``add``, ``slow_add``,
``ping`` and ``ask`` events; a ``/chat`` endpoint that echoes and a
``/private`` endpoint that refuses) through ``TornadioRouter``. Per-test router
settings and namespace come from markers::

    @pytest.mark.settings(xhr_polling_timeout=1)
    @pytest.mark.namespace("realtime")

Every route's handler is wrapped in a subclass that records GETs, so a test can
wait until a long poll is really held by the server (``Recorder.wait_get``).

A ``Recorder`` collects what the server-side connections saw (open, close,
GET requests reaching a handler) so a test can await those events instead of
sleeping.
"""

import asyncio
import logging
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest
import tornado.web

from tornadio2 import SocketConnection, TornadioRouter, event

try:
    from .wire import WireClient
except ImportError:  # tests/integration is no package: pytest put it on sys.path
    from wire import WireClient

WAIT_TIMEOUT = 5.0


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "settings(**kwargs): user_settings for this test's TornadioRouter"
    )
    config.addinivalue_line(
        "markers", "namespace(name): resource prefix of this test's TornadioRouter"
    )


class Recorder:
    """Events seen on the server side, with awaitable conditions."""

    def __init__(self) -> None:
        self.events: List[Tuple[Any, ...]] = []
        self._waiters: List[Tuple[Callable[[], bool], "asyncio.Future[None]"]] = []

    def record(self, *item: Any) -> None:
        self.events.append(item)
        for predicate, future in list(self._waiters):
            if not future.done() and predicate():
                future.set_result(None)

    async def wait(self, predicate: Callable[[], bool], timeout: float = WAIT_TIMEOUT) -> None:
        """Return once ``predicate()`` holds; fail the test after ``timeout`` seconds."""
        if predicate():
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        try:
            await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise AssertionError(
                "server-side condition not met in %ss; events: %r" % (timeout, self.events)
            ) from None

    def count(self, *item: Any) -> int:
        return self.events.count(item)

    async def wait_closed(self, tag: str, timeout: float = WAIT_TIMEOUT) -> None:
        """Wait until the connection opened with ``?tag=<tag>`` got ``on_close``."""
        await self.wait(lambda: ("close", tag) in self.events, timeout)

    async def wait_get(self, path_part: str, number: int = 1, timeout: float = WAIT_TIMEOUT) -> None:
        """Wait until ``number`` GETs whose path contains ``path_part`` reached their handler.

        The instrumented handler records the GET just before running the real
        ``get``; by the time this waiter resumes, the real ``get`` has run up to
        its first suspension (a long poll is then attached to its session).
        """

        def seen() -> bool:
            hits = [e for e in self.events if e[0] == "GET" and path_part in e[1]]
            return len(hits) >= number

        await self.wait(seen, timeout)
        for _ in range(3):  # slack for a get() that awaits a little before attaching
            await asyncio.sleep(0)


RECORDER = Recorder()


def _arg(info: Any, name: str) -> Optional[str]:
    values = info.arguments.get(name)
    if not values:
        return None
    value = values[0] if isinstance(values, (list, tuple)) else values
    return value.decode("utf-8") if isinstance(value, bytes) else value


class ChatConnection(SocketConnection):
    """The ``/chat`` endpoint: echoes messages on its own endpoint."""

    def on_open(self, info: Any) -> None:
        RECORDER.record("open", "/chat")

    def on_message(self, message: Any) -> None:
        self.send(message)

    def on_close(self) -> None:
        RECORDER.record("close", "/chat")


class PrivateConnection(SocketConnection):
    """The ``/private`` endpoint: always refuses (the client gets ``7::/private:2``)."""

    def on_open(self, info: Any) -> bool:
        RECORDER.record("open", "/private")
        return False


class EchoConnection(SocketConnection):
    """Main test connection.

    ``?tag=X`` names it in the recorder, ``?reject=1`` makes ``on_open`` refuse.
    Message ``bye`` makes the server close the connection; others are echoed.
    Event ``ask`` makes the server emit ``question`` asking for an ACK, whose
    data lands in the recorder as ``("ack", data)``.
    """

    __endpoints__ = {"/chat": ChatConnection, "/private": PrivateConnection}

    def on_open(self, info: Any) -> Optional[bool]:
        self.tag = _arg(info, "tag")
        RECORDER.record("open", self.tag)
        if _arg(info, "reject"):
            return False
        return None

    def on_message(self, message: Any) -> None:
        if message == "bye":
            self.close()
            return
        self.send(message)

    @event
    def add(self, a: int, b: int) -> int:
        return a + b

    @event
    def ping(self, *args: Any) -> None:
        self.emit("pong", *args)

    @event
    async def slow_add(self, a: int, b: int) -> int:
        await asyncio.sleep(0)
        return a + b

    @event
    def ask(self, *args: Any) -> None:
        self.emit_ack(self._answered, "question", "sure?")

    def _answered(self, message: Any, data: Any) -> None:
        RECORDER.record("ack", data)

    def on_close(self) -> None:
        RECORDER.record("close", getattr(self, "tag", None))


def _instrumented(handler_class: Any) -> Any:
    """Subclass a route's handler so GETs are recorded before they run."""

    class Instrumented(handler_class):  # type: ignore[misc, valid-type]
        async def get(self, *args: Any, **kwargs: Any) -> None:
            RECORDER.record("GET", self.request.path)
            result = super().get(*args, **kwargs)
            if result is not None:
                await result

    Instrumented.__name__ = Instrumented.__qualname__ = handler_class.__name__
    return Instrumented


def _instrument(urls: List[Any]) -> List[Any]:
    rules = []
    for spec in urls:
        if isinstance(spec, (tuple, list)):
            pattern, handler, *rest = spec
            kwargs = rest[0] if rest else None
            name = rest[1] if len(rest) > 1 else None
        elif isinstance(spec, tornado.web.URLSpec):
            pattern, handler = spec.regex.pattern, spec.handler_class
            kwargs, name = spec.kwargs, spec.name
        else:
            rules.append(spec)
            continue
        if isinstance(handler, type) and issubclass(handler, tornado.web.RequestHandler):
            handler = _instrumented(handler)
        rules.append(tornado.web.url(pattern, handler, kwargs, name))
    return rules


@pytest.fixture
def recorder() -> Recorder:
    RECORDER.events.clear()
    RECORDER._waiters.clear()
    return RECORDER


@pytest.fixture
def router_settings(request: Any) -> Dict[str, Any]:
    marker = request.node.get_closest_marker("settings")
    return dict(marker.kwargs) if marker else {}


@pytest.fixture
def router(
    request: Any, io_loop: Any, router_settings: Dict[str, Any], recorder: Recorder
) -> TornadioRouter:
    marker = request.node.get_closest_marker("namespace")
    namespace = marker.args[0] if marker else "socket.io"
    return TornadioRouter(EchoConnection, user_settings=router_settings, namespace=namespace)


@pytest.fixture
def app(router: TornadioRouter) -> tornado.web.Application:
    return tornado.web.Application(_instrument(list(router.urls)))


@pytest.fixture
def base_url(http_port: int) -> str:
    return "http://127.0.0.1:%d" % http_port


@pytest.fixture
def wire(base_url: str, http_client: Any) -> Any:
    client = WireClient(base_url, http_client)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def no_unhandled_server_errors(caplog: Any) -> Any:
    """Fail a test when Tornado logged an unhandled exception (a 500 or a crashed callback)."""
    caplog.set_level(logging.WARNING)
    yield
    crashes = [
        r for r in caplog.get_records("call")
        if r.name == "tornado.application" and r.levelno >= logging.ERROR
    ]
    assert not crashes, "unhandled exceptions on the server: %s" % [
        r.getMessage() for r in crashes
    ]
