"""The ceiling: plain Tornado handlers speaking just enough Socket.IO 0.9 for the benchmarks.

No library: a handshake handler, a ``WebSocketHandler`` and an xhr-polling
``RequestHandler`` with a per-session queue. It understands ``3:::x`` (echoed
as is), the ``ping`` event (answered with ``pong``), the ``broadcast`` event
(``bcast`` to every session, encoded once), the room events (``join``,
answered ``joined``; ``room_emit`` and ``every_room``: ``rmsg`` to a room, a
plain loop over a dict of sets, encoded once per room) and heartbeat answers; it sends
``1::`` on connect and ``2::`` every ``--heartbeat`` seconds on websockets.
Nothing else of the protocol (no endpoints, ACKs, expiry, origin checks):
whatever a library costs on top of Tornado shows as the gap to this server.

    python bench/servers/raw_tornado.py [--port 0] [--heartbeat 60]
"""

import asyncio
import itertools
import json
from typing import Any, Dict, List, Optional, Set

import tornado.web
import tornado.websocket

from _serve import parse_args, serve

#: Seconds an idle long-poll GET is held before it is answered ``8::``.
POLL_TIMEOUT = 20
#: Seconds announced for heartbeat and close timeouts.
ANNOUNCED_TIMEOUT = 60


class Session:
    """Outbound side of one client: a websocket, or a queue for polling GETs."""

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self.queue: List[str] = ["1::"]
        self.waiter: Optional["asyncio.Future[None]"] = None
        self.socket: Optional[tornado.websocket.WebSocketHandler] = None
        self.rooms: Set[str] = set()

    def send(self, packet: str) -> None:
        if self.socket is not None:
            try:
                self.socket.write_message(packet)
            except tornado.websocket.WebSocketClosedError:
                pass
            return
        self.queue.append(packet)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class Hub:
    """Every session by id, and the packet handling both transports share."""

    def __init__(self, heartbeat: float) -> None:
        self.heartbeat = heartbeat
        self.sessions: Dict[str, Session] = {}
        self.rooms: Dict[str, Set[Session]] = {}
        self._ids = itertools.count(1)

    def new_session(self) -> Session:
        session = Session("s%d" % next(self._ids))
        self.sessions[session.sid] = session
        return session

    def handle(self, session: Session, packet: str) -> None:
        if packet.startswith("3:::"):
            session.send(packet)
        elif packet.startswith("5:::"):
            self._event(session, json.loads(packet[4:]))
        elif packet.startswith("0::"):
            self.end(session)

    def end(self, session: Session) -> None:
        """The session is gone: forget it and take it out of its rooms."""
        self.sessions.pop(session.sid, None)
        for room in session.rooms:
            members = self.rooms.get(room)
            if members is not None:
                members.discard(session)
                if not members:
                    del self.rooms[room]
        session.rooms.clear()

    def to_room(self, room: str, name: str, args: List[Any]) -> None:
        packet = "5:::" + json.dumps({"name": name, "args": args}, separators=(",", ":"))
        for member in self.rooms.get(room, ()):
            member.send(packet)

    def _event(self, session: Session, event: Dict[str, Any]) -> None:
        args = event.get("args", [])
        if event.get("name") == "ping":
            session.send("5:::" + json.dumps({"name": "pong", "args": args}, separators=(",", ":")))
        elif event.get("name") == "broadcast":
            packet = "5:::" + json.dumps({"name": "bcast", "args": args}, separators=(",", ":"))
            for other in list(self.sessions.values()):
                other.send(packet)
        elif event.get("name") == "join":
            room = args[0]
            self.rooms.setdefault(room, set()).add(session)
            session.rooms.add(room)
            session.send("5:::" + json.dumps({"name": "joined", "args": [room]},
                                             separators=(",", ":")))
        elif event.get("name") == "room_emit":
            self.to_room(args[0], "rmsg", args[1:])
        elif event.get("name") == "every_room":
            for i in range(args[1]):
                self.to_room("r%d" % i, "rmsg", args[:1])


class HandshakeHandler(tornado.web.RequestHandler):
    def initialize(self, hub: Hub) -> None:  # type: ignore[override]
        self.hub = hub

    def get(self) -> None:
        session = self.hub.new_session()
        self.set_header("Content-Type", "text/plain")
        self.finish("%s:%d:%d:websocket,xhr-polling" % (session.sid, ANNOUNCED_TIMEOUT,
                                                        ANNOUNCED_TIMEOUT))


class SocketHandler(tornado.websocket.WebSocketHandler):
    def initialize(self, hub: Hub) -> None:  # type: ignore[override]
        self.hub = hub
        self.session: Optional[Session] = None
        self._beat: Optional[asyncio.TimerHandle] = None

    def open(self, sid: str) -> None:  # type: ignore[override]
        self.set_nodelay(True)
        session = self.hub.sessions.get(sid)
        if session is None:
            self.write_message("7:::1+0")
            self.close()
            return
        self.session = session
        session.queue.clear()
        session.socket = self
        self.write_message("1::")
        self._schedule_beat()

    def _schedule_beat(self) -> None:
        if self.hub.heartbeat > 0:
            self._beat = asyncio.get_running_loop().call_later(self.hub.heartbeat, self._send_beat)

    def _send_beat(self) -> None:
        if self.session is not None:
            self.session.send("2::")
            self._schedule_beat()

    def on_message(self, message: Any) -> None:
        if self.session is not None and isinstance(message, str):
            self.hub.handle(self.session, message)

    def on_close(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
        if self.session is not None:
            self.hub.end(self.session)
            self.session = None


class PollingHandler(tornado.web.RequestHandler):
    def initialize(self, hub: Hub) -> None:  # type: ignore[override]
        self.hub = hub
        self._waiter: Optional["asyncio.Future[None]"] = None
        self._gone = False

    async def get(self, sid: str) -> None:
        session = self.hub.sessions.get(sid)
        if session is None:
            self.finish("7:::1+0")
            return
        if not session.queue:
            self._waiter = session.waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(asyncio.shield(self._waiter), POLL_TIMEOUT)
            except asyncio.TimeoutError:
                session.queue.append("8::")
            session.waiter = None
            if self._gone:
                return
        packets, session.queue = session.queue, []
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(encode_payload(packets))

    def on_connection_close(self) -> None:
        self._gone = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def post(self, sid: str) -> None:
        session = self.hub.sessions.get(sid)
        if session is not None:
            for packet in decode_payload(self.request.body.decode("utf-8")):
                self.hub.handle(session, packet)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish("1")


def encode_payload(packets: List[str]) -> str:
    """One packet bare, several framed (the benchmark sends ASCII, so lengths are code points)."""
    if len(packets) == 1:
        return packets[0]
    return "".join("\ufffd%d\ufffd%s" % (len(packet), packet) for packet in packets)


def decode_payload(body: str) -> List[str]:
    """The packets of a POST body, framed or bare."""
    if not body.startswith("\ufffd"):
        return [body]
    packets = []
    i = 0
    while i < len(body):
        end = body.index("\ufffd", i + 1)
        length = int(body[i + 1:end])
        packets.append(body[end + 1:end + 1 + length])
        i = end + 1 + length
    return packets


def make_app(heartbeat: float) -> tornado.web.Application:
    """The routes under ``/socket.io/1/``."""
    hub = {"hub": Hub(heartbeat)}
    return tornado.web.Application([
        (r"/socket.io/1/?", HandshakeHandler, hub),
        (r"/socket.io/1/websocket/([^/]+)/?", SocketHandler, hub),
        (r"/socket.io/1/xhr-polling/([^/]+)/?", PollingHandler, hub),
    ])


if __name__ == "__main__":
    arguments = parse_args(__doc__)
    serve(lambda: make_app(arguments.heartbeat), arguments)
