"""The tornadio2 application the real 0.9 client talks to in the e2e tests.

It is written only against tornadio2's public API and behaves like
``clients/native_app.js`` (the same app on the native socket.io server), so
``clients/scenarios.js`` can run unchanged against both. Every server-side
fact (opens, messages, ACKs, closes) goes into a :class:`Recorder` that the
tests await.

Run it by hand for debugging with ``python tests/e2e/e2e_app.py [PORT]``:
it listens on 127.0.0.1 and prints JSON lines like native_app.js does.
"""

import asyncio
import json
import os
import sys
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

import tornado.httpserver
import tornado.netutil
import tornado.web

if __name__ == "__main__":  # run as a script: make the checkout's package importable
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from tornadio2 import SocketConnection, TornadioRouter, event  # noqa: E402

__all__ = ["Fact", "Recorder", "RoomEvents", "SETTINGS", "make_router", "make_application"]

#: Short timings, mirroring native_app.js: the handshake announces 4:4.
SETTINGS: Dict[str, Any] = {
    "heartbeat_interval": 2,
    "client_timeout": 2,
    "xhr_polling_timeout": 2,
}

#: How long ``was_closed`` waits for a tagged connection's ``on_close``.
CLOSE_WAIT = 5.0


class Fact(NamedTuple):
    """One thing the server saw: kind, endpoint ('' for the main one), value."""

    kind: str
    endpoint: str
    value: Any


class Recorder:
    """Server-side facts in arrival order, with awaitable look-ups."""

    def __init__(self, listener: Optional[Callable[[Fact], None]] = None) -> None:
        self.facts: List[Fact] = []
        self._listener = listener
        self._waiters: List[Tuple[Callable[[Fact], bool], "asyncio.Future[Fact]"]] = []

    def add(self, kind: str, endpoint: Optional[str], value: Any = None) -> None:
        fact = Fact(kind, endpoint or "", value)
        self.facts.append(fact)
        if self._listener is not None:
            self._listener(fact)
        pending = []
        for matches, future in self._waiters:
            if future.done():
                continue
            if matches(fact):
                future.set_result(fact)
            else:
                pending.append((matches, future))
        self._waiters = pending

    def values(self, kind: str, endpoint: str = "") -> List[Any]:
        """Values of all facts of ``kind`` on ``endpoint`` so far."""
        return [f.value for f in self.facts if f.kind == kind and f.endpoint == endpoint]

    def wait(self, kind: str, endpoint: str = "", value: Any = None) -> "asyncio.Future[Fact]":
        """A future for the first fact of ``kind`` (and ``value``, if given)."""

        def matches(fact: Fact) -> bool:
            return (fact.kind == kind and fact.endpoint == endpoint
                    and (value is None or fact.value == value))

        future: "asyncio.Future[Fact]" = asyncio.get_running_loop().create_future()
        for fact in self.facts:
            if matches(fact):
                future.set_result(fact)
                return future
        self._waiters.append((matches, future))
        return future


def _tag(info: Any) -> Optional[str]:
    """The ``tag`` query argument of the handshake, if the client sent one."""
    value = info.get_argument("tag")
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    return value or None


class RoomEvents(SocketConnection):
    """The room events of the e2e apps, the same on every endpoint and in native_app.js.

    Every send to a room is followed by a ``sentinel`` to the whole endpoint,
    so a client that is not in the room proves it got nothing: its sentinel
    arrives with nothing before it.
    """

    #: The router these connections belong to (set by the app that uses the class).
    router: Optional[TornadioRouter] = None

    @event("join")
    def join_event(self, room: str) -> bool:
        self.join(room)
        return True

    @event("leave")
    def leave_event(self, room: str) -> bool:
        self.leave(room)
        return True

    @event
    def shout(self, room: str, payload: Any) -> None:
        """Native ``io.of(endpoint).in(room).emit``, the sender included."""
        self.to(room).emit("room", room, payload)
        self.to_all().emit("sentinel", payload)

    @event
    def tell_others(self, room: Optional[str], payload: Any) -> None:
        """Native ``socket.broadcast.emit`` (or ``broadcast.to(room)``): not the sender."""
        self.to_others(room).emit("others", payload)
        self.to_all().emit("sentinel", payload)

    @event
    def volatile_to(self, sid: str) -> None:
        """Three sends to one client by id, the middle one volatile.

        Called for a polling client: ``first`` answers its waiting GET (or is
        queued), so no GET waits when ``vol`` comes and it is dropped;
        ``later`` is queued for the next GET.
        """
        assert self.router is not None
        self.router.to(sid).send("first")
        self.router.to(sid).volatile.send("vol")
        self.router.to(sid).send("later")


def make_router(recorder: Recorder, **settings: Any) -> TornadioRouter:
    """A router for the e2e app; ``settings`` override :data:`SETTINGS`."""

    class PrefixEcho(RoomEvents):
        """An endpoint that echoes messages with its own name as prefix."""

        def on_open(self, info: Any) -> None:
            recorder.add("open", self.endpoint, _tag(info))

        def on_message(self, message: Any) -> None:
            recorder.add("message", self.endpoint, message)
            self.send("%s:%s" % ((self.endpoint or "").lstrip("/"), message))

        def on_close(self) -> None:
            recorder.add("close", self.endpoint)

    class E2EConnection(RoomEvents):
        """The main connection: echo, events, ACKs both ways, close on request."""

        __endpoints__ = {"/chat": PrefixEcho, "/news": PrefixEcho}

        tag: Optional[str] = None

        def on_open(self, info: Any) -> None:
            self.tag = _tag(info)
            recorder.add("open", self.endpoint, self.tag)

        def on_message(self, message: Any) -> None:
            recorder.add("message", self.endpoint, message)
            self.send(message)

        @event
        def ping(self, *args: Any, **kwargs: Any) -> None:
            recorder.add("ping", self.endpoint, (list(args), kwargs))
            self.emit("pong", *args, **kwargs)

        @event
        def add(self, a: Any, b: Any) -> Any:
            return a + b

        @event
        def ask(self, question: Any) -> None:
            self.emit_ack(self._answered, "question", question)

        def _answered(self, message: Any, args: List[Any]) -> None:
            recorder.add("ack", self.endpoint, args)
            self.emit("acked", args)

        @event
        def send_me(self) -> None:
            self.send("ack me", callback=self._sent)

        def _sent(self, message: Any, args: List[Any]) -> None:
            recorder.add("send_ack", self.endpoint, args)
            self.emit("sent_acked", args)

        @event
        def burst(self, count: int) -> None:
            for i in range(count):
                self.emit("item", i)

        @event
        def kick(self) -> None:
            self.close()

        @event
        async def was_closed(self, tag: str) -> bool:
            try:
                await asyncio.wait_for(recorder.wait("close", "", tag), CLOSE_WAIT)
            except asyncio.TimeoutError:
                return False
            return True

        def on_close(self) -> None:
            recorder.add("close", self.endpoint, self.tag)

    router = TornadioRouter(E2EConnection, user_settings=dict(SETTINGS, **settings))
    E2EConnection.router = PrefixEcho.router = router
    return router


def make_application(recorder: Recorder, **settings: Any) -> tornado.web.Application:
    """A Tornado application serving only the e2e app's Socket.IO routes."""
    return tornado.web.Application(make_router(recorder, **settings).urls)


async def _serve(port: int) -> None:
    def show(fact: Fact) -> None:
        value = fact.value
        if isinstance(value, str) and len(value) > 80:
            value = "<%d chars>" % len(value)
        print(json.dumps({"server": fact.kind, "endpoint": fact.endpoint, "value": value}),
              flush=True)

    sockets = tornado.netutil.bind_sockets(port, address="127.0.0.1")
    tornado.httpserver.HTTPServer(make_application(Recorder(show))).add_sockets(sockets)
    print(json.dumps({"listening": sockets[0].getsockname()[1]}), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
