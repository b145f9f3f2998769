"""An asyncio Socket.IO protocol 1 client for testing tornadio2 applications.

:class:`SocketIOClient` does what the 0.9 JavaScript client does on the wire,
over websocket or xhr-polling: the handshake, the connect packet, endpoints,
messages, JSON messages, events, ACKs in both directions and heartbeats. What
arrives is kept for the test to await (:meth:`~SocketIOClient.receive`,
:meth:`~SocketIOClient.receive_event`); everything waits with a timeout and
fails with a :class:`~tornadio2.testing.errors.WaitTimeout` naming what was
awaited. Packets are encoded and decoded with :mod:`tornadio2.proto`, the
library's only codec. This module uses no server-side module of tornadio2.
"""

import asyncio
import itertools
import logging
from typing import (Any, Callable, Dict, List, Mapping, Optional, Sequence, Set,
                    Tuple, Union)
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from tornadio2 import proto
from tornadio2.testing.endpoint import Endpoint, Event, Message
from tornadio2.testing.inbound import (
    CLOSED as _CLOSED, CONNECTED as _CONNECTED, CONNECTING as _CONNECTING, EventHandler,
    Received, ServerPackets,
)
from tornadio2.testing.errors import (ClientDisconnected, EndpointRefused, HandshakeError,
                                      WaitTimeout)
from tornadio2.testing.transports import TRANSPORTS, ClientTransport

__all__ = ["SocketIOClient", "DEFAULT_TIMEOUT"]

logger = logging.getLogger("tornadio2.testing")

#: Seconds every wait of the client lasts unless told otherwise.
DEFAULT_TIMEOUT = 5.0

_PENDING = object()


class SocketIOClient(ServerPackets):
    """A Socket.IO 0.9 client session, for tests.

    :param url: the server's root, e.g. ``http://127.0.0.1:8001``.
    :param transport: ``'websocket'`` or ``'xhr-polling'``.
    :param namespace: the resource prefix (the router's ``namespace``).
    :param query: query string (or mapping) sent with every request, as the
        0.9 client sends ``io.connect(url + '?token=x')``'s query.
    :param answer_heartbeats: answer ``2::`` with ``2::``; set the attribute
        to ``False`` at any time to let the server's heartbeat timeout expire.
    :param timeout: default seconds for every wait.

    Use it as ``async with SocketIOClient(url) as client:`` (connects, and
    disconnects at the end) or call :meth:`connect` and :meth:`close`.
    """

    def __init__(self, url: str, *, transport: str = "websocket",
                 namespace: str = "socket.io",
                 query: Union[str, Mapping[str, str], None] = None,
                 answer_heartbeats: bool = True, timeout: float = DEFAULT_TIMEOUT) -> None:
        if transport not in TRANSPORTS:
            raise ValueError("transport must be one of %s" % sorted(TRANSPORTS))
        self.url = url.rstrip("/")
        self.transport_name = transport
        self.namespace = namespace.strip("/")
        self.query = urlencode(query) if isinstance(query, Mapping) else (query or "")
        self.answer_heartbeats = answer_heartbeats
        self.timeout = timeout
        #: From the handshake: session id, the two timeouts (seconds), the transports.
        self.sid = ""
        self.heartbeat_timeout: Optional[float] = None
        self.close_timeout: Optional[float] = None
        self.transports: List[str] = []
        #: How the connection ended (``None`` while it lasts; see :meth:`wait_disconnected`).
        self.disconnect_reason: Optional[str] = None
        #: Heartbeats received so far.
        self.heartbeats = 0
        #: Every packet received, in order, as wire text (a trace for assertions).
        self.packets: List[str] = []
        #: Error packets received, as ``(endpoint, data)``.
        self.errors: List[Tuple[str, str]] = []
        self._endpoints: Dict[str, str] = {}
        self._inbox: List[Received] = []
        self._handlers: Dict[Tuple[str, str], EventHandler] = {}
        self._acks: Dict[Tuple[str, int], "asyncio.Future[List[Any]]"] = {}
        self._ids = itertools.count(1)
        self._waiters: List["asyncio.Future[None]"] = []
        self._tasks: Set["asyncio.Future[Any]"] = set()
        self._http: Optional[AsyncHTTPClient] = None
        self._transport: Optional[ClientTransport] = None
        self._disconnecting = False

    # -- state --------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True once the server's ``1::`` arrived and until the connection ends."""
        return self._endpoints.get("") == _CONNECTED and self.disconnect_reason is None

    def endpoint(self, name: str) -> "Endpoint":
        """A view of this client bound to endpoint ``name`` (no packet is sent)."""
        return Endpoint(self, name)

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _until(self, check: Callable[[], Any], what: str,
                     timeout: Optional[float]) -> Any:
        """Wait until ``check()`` returns something other than ``_PENDING``."""
        timeout = self.timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result is not _PENDING:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise WaitTimeout("%s: not within %.3g s (sid %s, %d packets received)"
                                  % (what, timeout, self.sid or "-", len(self.packets)))
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except asyncio.TimeoutError:
                pass

    def _gone(self, what: str) -> ClientDisconnected:
        return ClientDisconnected("%s: the connection ended (%s)" % (what, self.disconnect_reason),
                                  self.disconnect_reason or "")

    # -- connecting ---------------------------------------------------------------

    def _resource_url(self, path: str) -> str:
        url = "%s/%s/1/%s" % (self.url, self.namespace, path) if self.namespace \
            else "%s/1/%s" % (self.url, path)
        return url + ("?" + self.query if self.query else "")

    async def handshake(self, timeout: Optional[float] = None) -> str:
        """Only the handshake: fills :attr:`sid` and the announced settings."""
        timeout = self.timeout if timeout is None else timeout
        if self._http is None:
            self._http = AsyncHTTPClient(force_instance=True)
        try:
            response = await self._http.fetch(self._resource_url(""), raise_error=False,
                                              connect_timeout=timeout, request_timeout=timeout)
        except (OSError, HTTPClientError) as exc:
            raise HandshakeError("handshake with %s failed: %s" % (self.url, exc)) from exc
        body = (response.body or b"").decode("utf-8", "replace")
        fields = body.split(":")
        if response.code != 200 or len(fields) != 4 or not fields[0]:
            raise HandshakeError("handshake refused: HTTP %d %r" % (response.code, body[:200]),
                                 response.code, body)
        self.sid = fields[0]
        self.heartbeat_timeout = float(fields[1]) if fields[1] else None
        self.close_timeout = float(fields[2]) if fields[2] else None
        self.transports = fields[3].split(",")
        logger.debug("handshake %s: %s", self.url, body)
        return self.sid

    async def connect(self, timeout: Optional[float] = None) -> "SocketIOClient":
        """Handshake, open the transport and wait for the server's ``1::``.

        On failure the client is closed and the error raised.
        """
        try:
            return await self._connect(timeout)
        except BaseException:
            await self.close()
            raise

    async def _connect(self, timeout: Optional[float]) -> "SocketIOClient":
        if not self.sid:
            await self.handshake(timeout)
        if self.transport_name not in self.transports:
            raise HandshakeError("the server does not offer %s (it offers %s)"
                                 % (self.transport_name, ",".join(self.transports)))
        assert self._http is not None
        self._endpoints[""] = _CONNECTING
        transport = TRANSPORTS[self.transport_name](self._http, self._on_payload,
                                                   self._transport_closed)
        self._transport = transport
        await transport.open(self._resource_url("%s/%s" % (self.transport_name, self.sid)),
                             self.timeout if timeout is None else timeout,
                             self.close_timeout or self.timeout)
        await self._until(self._connect_state(""), "connect packet 1::", timeout)
        return self

    def _connect_state(self, endpoint: str) -> Callable[[], Any]:
        def check() -> Any:
            state = self._endpoints.get(endpoint)
            if state == _CONNECTED:
                return None
            if self.disconnect_reason is not None:
                raise self._gone("connect %r" % endpoint)
            if state is not None and state.startswith("refused:"):
                raise EndpointRefused(endpoint, state[len("refused:"):])
            return _PENDING
        return check

    async def connect_endpoint(self, endpoint: str,
                               timeout: Optional[float] = None) -> "Endpoint":
        """Send ``1::/endpoint`` and wait for the server to echo it.

        Raises :class:`~tornadio2.testing.errors.EndpointRefused` when the
        server answers with an error packet for that endpoint.
        """
        if not endpoint.startswith("/"):
            raise ValueError("an endpoint starts with '/': %r" % endpoint)
        self._endpoints[endpoint] = _CONNECTING
        await self._write([proto.connect(endpoint)])
        await self._until(self._connect_state(endpoint), "connect packet 1::%s" % endpoint,
                          timeout)
        return Endpoint(self, endpoint)

    # -- sending ------------------------------------------------------------------

    async def _write(self, packets: Sequence[str]) -> None:
        if self._transport is None or self.disconnect_reason is not None:
            raise self._gone("send %r" % (packets[0][:40],))
        logger.debug("client %s sends %r", self.sid, packets)
        await self._transport.send(packets)

    def _write_soon(self, packets: Sequence[str]) -> None:
        """Send without waiting (answers to heartbeats and ACK requests)."""
        if self._transport is None or self.disconnect_reason is not None:
            return
        future = self._transport.send(packets)
        self._tasks.add(future)
        future.add_done_callback(self._background_done)

    def _background_done(self, future: "asyncio.Future[Any]") -> None:
        self._tasks.discard(future)
        if not future.cancelled() and future.exception() is not None:
            logger.debug("background send failed: %s", future.exception())

    async def _send_packet(self, ptype: int, endpoint: str, data: str, ack: bool,
                           ack_data: bool, what: str, timeout: Optional[float]) -> Any:
        if not ack:
            await self._write([proto.encode_packet(proto.Packet(ptype, endpoint, data))])
            return None
        ack_id = next(self._ids)
        waiter: "asyncio.Future[List[Any]]" = asyncio.get_running_loop().create_future()
        self._acks[(endpoint, ack_id)] = waiter
        packet = proto.Packet(ptype, endpoint, data, str(ack_id), ack_data)
        try:
            await self._write([proto.encode_packet(packet)])
            what = "ACK %d of %s on endpoint %r" % (ack_id, what, endpoint)
            return await self._until(lambda: waiter.result() if waiter.done() else (
                _PENDING if self.disconnect_reason is None else _raise(self._gone(what))),
                what, timeout)
        finally:
            self._acks.pop((endpoint, ack_id), None)

    async def send(self, message: str, *, endpoint: str = "", ack: bool = False,
                   timeout: Optional[float] = None) -> None:
        """Send a text message; with ``ack`` wait for the server's ``6:::ID``."""
        await self._send_packet(proto.PacketType.MESSAGE, endpoint, message, ack, False,
                                "message", timeout)

    async def json(self, obj: Any, *, endpoint: str = "", ack: bool = False,
                   timeout: Optional[float] = None) -> None:
        """Send a JSON message; with ``ack`` wait for the server's ``6:::ID``."""
        await self._send_packet(proto.PacketType.JSON, endpoint, proto.json_dumps(obj), ack, False,
                                "json message", timeout)

    async def emit(self, name: str, *args: Any, endpoint: str = "", ack: bool = False,
                   timeout: Optional[float] = None) -> Optional[List[Any]]:
        """Send event ``name``; with ``ack`` return the ACK's arguments (a list)."""
        payload: Dict[str, Any] = {"name": name}
        if args:
            payload["args"] = list(args)
        return await self._send_packet(proto.PacketType.EVENT, endpoint,
                                       proto.json_dumps(payload), ack, True, "event %r" % name,
                                       timeout)

    async def ack(self, event: Event, *args: Any) -> None:
        """Answer an event that asked for ACK data (``5:ID+::...``) with ``args``."""
        if not event.wants_ack:
            raise ValueError("event %r did not ask for an ACK" % event.name)
        await self._write([proto.ack(event.endpoint, event.id, args)])

    def on(self, name: str, handler: EventHandler, *, endpoint: str = "") -> None:
        """Handle event ``name`` with ``handler(*args)`` instead of queueing it.

        When the server asks for an ACK, the handler's return value (awaited
        if it is awaitable) is the ACK's data: a tuple gives several
        arguments, ``None`` none, anything else one.
        """
        self._handlers[(endpoint, name)] = handler

    # -- receiving ----------------------------------------------------------------

    def _take(self, match: Callable[[Received], bool], endpoint: str,
              what: str) -> Callable[[], Any]:
        def check() -> Any:
            for index, item in enumerate(self._inbox):
                if match(item):
                    return self._inbox.pop(index)
            if self.disconnect_reason is not None:
                raise self._gone(what)
            if endpoint and self._endpoints.get(endpoint) == _CLOSED:
                raise ClientDisconnected("%s: endpoint %s was disconnected" % (what, endpoint),
                                         "endpoint closed")
            return _PENDING
        return check

    async def receive_message(self, timeout: Optional[float] = None,
                              endpoint: str = "") -> Message:
        """The next message (text or JSON) on ``endpoint``, as a :class:`Message`."""
        what = "message on endpoint %r" % endpoint
        return await self._until(self._take(
            lambda item: isinstance(item, Message) and item.endpoint == endpoint,
            endpoint, what), what, timeout)

    async def receive(self, timeout: Optional[float] = None, endpoint: str = "") -> Any:
        """The data of the next message on ``endpoint``: text, or decoded JSON."""
        return (await self.receive_message(timeout, endpoint)).data

    async def receive_event(self, name: Optional[str] = None, timeout: Optional[float] = None,
                            endpoint: str = "") -> Event:
        """The next event called ``name`` (any name if ``None``) on ``endpoint``."""
        what = "event %s on endpoint %r" % ("any" if name is None else repr(name), endpoint)
        return await self._until(self._take(
            lambda item: (isinstance(item, Event) and item.endpoint == endpoint
                          and (name is None or item.name == name)),
            endpoint, what), what, timeout)

    async def wait_heartbeats(self, count: int, timeout: Optional[float] = None) -> int:
        """Wait until ``count`` heartbeats arrived in all; returns the number seen."""
        return await self._until(
            lambda: self.heartbeats if self.heartbeats >= count else (
                _PENDING if self.disconnect_reason is None
                else _raise(self._gone("heartbeat %d" % count))),
            "heartbeat %d" % count, timeout)

    # -- ending -------------------------------------------------------------------

    async def wait_disconnected(self, timeout: Optional[float] = None) -> str:
        """Wait until the connection ends; returns :attr:`disconnect_reason`."""
        return await self._until(
            lambda: _PENDING if self.disconnect_reason is None else self.disconnect_reason,
            "disconnect", timeout)

    async def wait_endpoint_closed(self, endpoint: str, timeout: Optional[float] = None) -> None:
        """Wait until the server disconnects ``endpoint`` (``0::/endpoint``)."""
        await self._until(
            lambda: None if self._endpoints.get(endpoint) == _CLOSED else (
                _PENDING if self.disconnect_reason is None
                else _raise(self._gone("disconnect of %s" % endpoint))),
            "disconnect packet 0::%s" % endpoint, timeout)

    def endpoint_connected(self, endpoint: str) -> bool:
        """Whether ``endpoint`` is connected (the server echoed its ``1::``)."""
        return self._endpoints.get(endpoint) == _CONNECTED and self.connected

    async def disconnect(self, endpoint: str = "") -> None:
        """Send ``0::`` (or ``0::/endpoint``); for the whole socket also close it."""
        if endpoint:
            self._endpoints[endpoint] = _CLOSED
            await self._write([proto.disconnect(endpoint)])
            self._notify()
            return
        if self.disconnect_reason is None and self._transport is not None:
            self._disconnecting = True  # the server's 0:: answer may come first
            try:
                await self._write([proto.disconnect()])
            except ClientDisconnected:
                pass
            self._ended("client disconnected")
        await self.close()

    async def close(self) -> None:
        """Close the transport without a disconnect packet; free everything."""
        self._ended("client closed")
        if self._transport is not None:
            await self._transport.close()
        for task in list(self._tasks):
            task.cancel()
        if self._http is not None:
            self._http.close()
            self._http = None

    def _ended(self, reason: str) -> None:
        if self.disconnect_reason is not None:
            return
        self.disconnect_reason = reason
        logger.debug("client %s: %s", self.sid, reason)
        if self._transport is not None:
            # No more polls once the session is over: the server would only
            # answer each one at once with an error packet.
            self._transport.closing = True
        self._notify()

    def _transport_closed(self, reason: str) -> None:
        self._ended("transport closed: %s" % reason if reason else "transport closed")

    async def __aenter__(self) -> "SocketIOClient":
        if self.disconnect_reason is None and not self.connected:
            await self.connect()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.disconnect()


def _raise(error: Exception) -> Any:
    raise error
