"""The two servers of the browser tests: a tornadio2 app and the page server.

The test page is served by its own small Tornado app (:func:`make_page_application`)
on one port and talks to the tornadio2 app (:func:`make_router`) on another,
so every request the browser makes to tornadio2 is cross-origin, as on a site
that embeds a Socket.IO 0.9 client from another host.

Every connection of the page carries a ``tag`` in its connect URL (the 0.9
client sends that query with the handshake, and endpoints reuse it), so the
facts a :class:`TagRecorder` keeps can be told apart per scenario run.

Run both by hand for debugging::

    python tests/e2e/browser_app.py [SOCKET_PORT [PAGE_PORT]]

then open ``http://127.0.0.1:PAGE_PORT/client.html?server=http://127.0.0.1:SOCKET_PORT
&transport=xhr-polling&scenario=send_echo&tag=x`` (the page can point at the
native server the same way).
"""

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

import tornado.httpserver
import tornado.netutil
import tornado.web

if __name__ == "__main__":  # run as a script: make the checkout's package importable
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from tornadio2 import TornadioRouter, event  # noqa: E402

try:
    from .e2e_app import RoomEvents
except ImportError:  # run as a script, or tests/e2e put on sys.path by pytest
    from e2e_app import RoomEvents  # type: ignore[no-redef]

__all__ = ["GREETING", "SETTINGS", "Fact", "TagRecorder", "make_router",
           "make_application", "make_page_application", "PAGES_DIR", "CLIENT_JS"]

HERE = Path(__file__).resolve().parent
PAGES_DIR = HERE / "pages"
#: The browser build of socket.io-client 0.9.16, straight from npm.
CLIENT_JS = HERE.parent.parent / "node_modules" / "socket.io-client" / "dist" / "socket.io.js"

#: Short timings (the handshake announces 4:4), as in the other e2e apps.
SETTINGS: Dict[str, Any] = {
    "heartbeat_interval": 2,
    "client_timeout": 2,
    "xhr_polling_timeout": 2,
}

#: What the server emits as ``greeting``: Cyrillic, an astral emoji, U+FFFD
#: and a musical symbol, produced on the server rather than echoed.
GREETING = "\u041f\u0440\u0438\u0432\u0435\u0442 \U0001F600 \ufffd \U0001D11E"

#: Seconds ``was_closed`` waits for the tagged connection's ``on_close``.
CLOSE_WAIT = 8.0


class Fact(NamedTuple):
    """Something the server saw on the connection tagged ``tag``."""

    kind: str
    tag: Optional[str]
    endpoint: str
    value: Any


class TagRecorder:
    """Server-side facts in arrival order, looked up by tag; awaitable."""

    def __init__(self, listener: Optional[Callable[[Fact], None]] = None) -> None:
        self.facts: List[Fact] = []
        self._listener = listener
        self._waiters: List[Tuple[Callable[[Fact], bool], "asyncio.Future[Fact]"]] = []

    def add(self, kind: str, tag: Optional[str], endpoint: Optional[str],
            value: Any = None) -> None:
        fact = Fact(kind, tag, endpoint or "", value)
        self.facts.append(fact)
        if self._listener is not None:
            self._listener(fact)
        waiting = []
        for matches, future in self._waiters:
            if future.done():
                continue
            if matches(fact):
                future.set_result(fact)
            else:
                waiting.append((matches, future))
        self._waiters = waiting

    def values(self, kind: str, tag: str, endpoint: str = "") -> List[Any]:
        """Values of the facts of ``kind`` for ``tag`` on ``endpoint``, in order."""
        return [f.value for f in self.facts
                if f.kind == kind and f.tag == tag and f.endpoint == endpoint]

    def of(self, tag: str) -> List[Tuple[str, str, Any]]:
        """Every fact of one tag as ``(kind, endpoint, value)``, for failure messages."""
        return [(f.kind, f.endpoint, f.value) for f in self.facts if f.tag == tag]

    def wait(self, kind: str, tag: str, endpoint: str = "") -> "asyncio.Future[Fact]":
        """A future for the first fact of ``kind`` for ``tag`` on ``endpoint``."""

        def matches(fact: Fact) -> bool:
            return fact.kind == kind and fact.tag == tag and fact.endpoint == endpoint

        future: "asyncio.Future[Fact]" = asyncio.get_running_loop().create_future()
        for fact in self.facts:
            if matches(fact):
                future.set_result(fact)
                return future
        self._waiters.append((matches, future))
        return future


def _tag(info: Any) -> Optional[str]:
    value = info.get_argument("tag")
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    return value or None


def make_router(recorder: TagRecorder, **settings: Any) -> TornadioRouter:
    """The browser tests' router; ``settings`` override :data:`SETTINGS`."""

    class Prefixed(RoomEvents):
        """``/chat`` and ``/news``: echo each message prefixed with the endpoint name."""

        tag: Optional[str] = None

        def on_open(self, info: Any) -> None:
            self.tag = _tag(info)
            recorder.add("open", self.tag, self.endpoint)

        def on_message(self, message: Any) -> None:
            recorder.add("message", self.tag, self.endpoint, message)
            self.send("%s:%s" % ((self.endpoint or "").lstrip("/"), message))

        def on_close(self) -> None:
            recorder.add("close", self.tag, self.endpoint)

    class PageConnection(RoomEvents):
        """The main endpoint: echo, events, ACKs both ways, greeting, close on request, rooms."""

        __endpoints__ = {"/chat": Prefixed, "/news": Prefixed}

        tag: Optional[str] = None

        def on_open(self, info: Any) -> None:
            self.tag = _tag(info)
            recorder.add("open", self.tag, self.endpoint)

        def on_message(self, message: Any) -> None:
            recorder.add("message", self.tag, self.endpoint, message)
            self.send(message)

        @event
        def ping(self, *args: Any) -> None:
            recorder.add("ping", self.tag, self.endpoint, list(args))
            self.emit("pong", *args)

        @event
        def add(self, a: Any, b: Any) -> Any:
            recorder.add("add", self.tag, self.endpoint, [a, b])
            return a + b

        @event
        def ask(self, question: Any) -> None:
            self.emit_ack(self._answered, "question", question)

        def _answered(self, message: Any, args: List[Any]) -> None:
            recorder.add("ack", self.tag, self.endpoint, args)
            self.emit("acked", args)

        @event
        def greet(self) -> None:
            self.emit("greeting", GREETING)

        @event
        def kick(self) -> None:
            self.close()

        @event
        async def was_closed(self, tag: str) -> bool:
            try:
                await asyncio.wait_for(recorder.wait("close", tag), CLOSE_WAIT)
            except asyncio.TimeoutError:
                return False
            return True

        def on_close(self) -> None:
            recorder.add("close", self.tag, self.endpoint)

    router = TornadioRouter(PageConnection, user_settings=dict(SETTINGS, **settings))
    PageConnection.router = Prefixed.router = router
    return router


def make_application(recorder: TagRecorder, **settings: Any) -> tornado.web.Application:
    """A Tornado application with only the browser tests' Socket.IO routes.

    Every finished request is recorded as an ``http`` fact ``(method, path,
    status)`` under the ``tag`` of its query (the 0.9 client repeats the
    connect URL's query on every request), so a test sees what the server
    answered even where the browser hides it (a CORS failure has no status).
    """

    def log_request(handler: tornado.web.RequestHandler) -> None:
        tag = handler.request.query_arguments.get("tag", [b""])[0].decode("utf-8", "replace")
        recorder.add("http", tag or None, "", (handler.request.method, handler.request.path,
                                               handler.get_status()))

    return tornado.web.Application(make_router(recorder, **settings).urls,
                                   log_function=log_request)


class _NoCacheStatic(tornado.web.StaticFileHandler):
    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-store")


def make_page_application() -> tornado.web.Application:
    """Serves ``pages/`` and the npm browser client at ``/socket.io.js``."""
    return tornado.web.Application([
        (r"/(socket\.io\.js)", _NoCacheStatic, {"path": str(CLIENT_JS.parent)}),
        (r"/(.*)", _NoCacheStatic, {"path": str(PAGES_DIR)}),
    ])


async def _serve(socket_port: int, page_port: int) -> None:
    def show(fact: Fact) -> None:
        print(json.dumps({"server": fact.kind, "tag": fact.tag, "endpoint": fact.endpoint,
                          "value": fact.value}, ensure_ascii=True), flush=True)

    listening = {}
    for name, port, app in (("socket", socket_port, make_application(TagRecorder(show))),
                            ("page", page_port, make_page_application())):
        sockets = tornado.netutil.bind_sockets(port, address="127.0.0.1")
        tornado.httpserver.HTTPServer(app).add_sockets(sockets)
        listening[name] = sockets[0].getsockname()[1]
    print(json.dumps({"listening": listening}), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    ports = [int(arg) for arg in sys.argv[1:3]] + [0, 0]
    asyncio.run(_serve(ports[0], ports[1]))
