"""The testing client's side of what the server sends: one handler per packet type.

:class:`ServerPackets` is the base of
:class:`~tornadio2.testing.client.SocketIOClient`: it reads a payload the
transport received, answers what the 0.9 client answers by itself (plain
ACK ids, heartbeats) and queues messages and events for the test to await.
The client supplies the state it writes to. No I/O here.
"""

import asyncio
import inspect
import logging
from typing import Any, Callable, Dict, List, Set, Tuple, Union

from tornadio2 import proto
from tornadio2.exceptions import ProtocolError
from tornadio2.testing.endpoint import Event, Message

__all__ = ["ServerPackets", "CONNECTING", "CONNECTED", "CLOSED"]

logger = logging.getLogger("tornadio2.testing")

#: States of an endpoint as the client sees it ('' is the connection itself).
CONNECTING, CONNECTED, CLOSED = "connecting", "connected", "closed"
_CONNECTING, _CONNECTED, _CLOSED = CONNECTING, CONNECTED, CLOSED

#: A test's handler of a server event; its result is the ACK data.
EventHandler = Callable[..., Any]
#: What the client queues for the test.
Received = Union[Message, Event]

#: Packet types whose plain id the client acknowledges by itself.
_AUTO_ACKED = (proto.PacketType.MESSAGE, proto.PacketType.JSON, proto.PacketType.EVENT)


class ServerPackets:
    """Reading the server's packets; the base of the testing client."""

    # Supplied by the client.
    sid: str
    packets: List[str]
    errors: List[Tuple[str, str]]
    heartbeats: int
    answer_heartbeats: bool
    _endpoints: Dict[str, str]
    _inbox: List[Received]
    _handlers: Dict[Tuple[str, str], EventHandler]
    _acks: Dict[Tuple[str, int], "asyncio.Future[List[Any]]"]
    _tasks: Set["asyncio.Future[Any]"]
    _disconnecting: bool

    def _write_soon(self, packets: List[str]) -> None:
        raise NotImplementedError

    def _notify(self) -> None:
        raise NotImplementedError

    def _ended(self, reason: str) -> None:
        raise NotImplementedError

    def _on_payload(self, payload: str) -> None:
        try:
            texts = proto.decode_frames(payload)
        except ProtocolError as exc:
            logger.warning("client %s: bad payload from the server: %s", self.sid, exc)
            return
        for text in texts:
            self.packets.append(text)
            try:
                packet = proto.decode_packet(text)
            except ProtocolError as exc:
                logger.warning("client %s: bad packet from the server: %s", self.sid, exc)
                continue
            logger.debug("client %s received %r", self.sid, text)
            if packet.id and not packet.ack_data and packet.type in _AUTO_ACKED:
                # A plain id asks for an acknowledgement at once, as the 0.9 client gives.
                self._write_soon([proto.ack(packet.endpoint, packet.id)])
            try:
                getattr(self, _HANDLER_NAMES[packet.type])(packet)
            except ProtocolError as exc:
                logger.warning("client %s: bad packet %r: %s", self.sid, text[:80], exc)
        self._notify()

    def _on_disconnect(self, packet: proto.Packet) -> None:
        if packet.endpoint:
            self._endpoints[packet.endpoint] = _CLOSED
        else:
            self._ended("client disconnected" if self._disconnecting else "server disconnected")

    def _on_connect(self, packet: proto.Packet) -> None:
        self._endpoints[packet.endpoint] = _CONNECTED

    def _on_heartbeat(self, packet: proto.Packet) -> None:
        self.heartbeats += 1
        if self.answer_heartbeats:
            self._write_soon([proto.heartbeat()])

    def _on_message(self, packet: proto.Packet) -> None:
        self._inbox.append(Message(packet.endpoint, packet.data, False, packet.id))

    def _on_json(self, packet: proto.Packet) -> None:
        self._inbox.append(Message(packet.endpoint, proto.decode_json(packet.data), True,
                                   packet.id))

    def _on_event(self, packet: proto.Packet) -> None:
        name, args = proto.decode_event(packet.data)
        event = Event(packet.endpoint, name, args, packet.id, packet.ack_data)
        handler = self._handlers.get((packet.endpoint, name))
        if handler is None:
            self._inbox.append(event)
            return
        task = asyncio.ensure_future(self._run_handler(handler, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_handler(self, handler: EventHandler, event: Event) -> None:
        try:
            result = handler(*event.args)
            if inspect.isawaitable(result):
                result = await result
        except Exception:  # a test's handler: report it and go on, as the server does
            logger.error("client %s: handler of event %r raised", self.sid, event.name,
                         exc_info=True)
            return
        if event.wants_ack:
            args = () if result is None else result if isinstance(result, tuple) else (result,)
            self._write_soon([proto.ack(event.endpoint, event.id, args)])

    def _on_ack(self, packet: proto.Packet) -> None:
        ack_id, args = proto.decode_ack(packet.data)
        waiter = self._acks.get((packet.endpoint, ack_id))
        if waiter is None:
            logger.warning("client %s: ACK %d on endpoint %r matches nothing sent",
                           self.sid, ack_id, packet.endpoint)
        elif not waiter.done():
            waiter.set_result(args)

    def _on_error(self, packet: proto.Packet) -> None:
        self.errors.append((packet.endpoint, packet.data))
        if not packet.endpoint:
            # After our own 0:: the server may forget the session before a poll
            # already on its way arrives; that poll's "unknown session" answer
            # still means the disconnect we asked for.
            self._ended("client disconnected" if self._disconnecting
                        else "error packet %s" % (packet.data or "(empty)"))
        elif self._endpoints.get(packet.endpoint) == _CONNECTING:
            self._endpoints[packet.endpoint] = "refused:" + packet.data.split("+")[0]

    def _on_noop(self, packet: proto.Packet) -> None:
        pass


#: The handler method of each packet type, by type number.
_HANDLER_NAMES = (
    "_on_disconnect", "_on_connect", "_on_heartbeat", "_on_message", "_on_json",
    "_on_event", "_on_ack", "_on_error", "_on_noop",
)
