"""What a test receives from the client, and the client's view of one endpoint.

:class:`Message` and :class:`Event` are the records
:class:`~tornadio2.testing.client.SocketIOClient` queues for the test to
await; :class:`Endpoint` is the client bound to one endpoint (``/chat``),
as :meth:`~tornadio2.testing.client.SocketIOClient.connect_endpoint` returns
it. No I/O and no Tornado here.
"""

from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Protocol

__all__ = ["Message", "Event", "Endpoint", "EndpointClient"]

EventHandler = Callable[..., Any]


@dataclass(frozen=True)
class Message:
    """A message packet received: text (type 3) or decoded JSON (type 4)."""

    endpoint: str
    data: Any
    is_json: bool = False
    id: str = ""


@dataclass(frozen=True)
class Event:
    """An event packet received; ``wants_ack`` when the server asked for ACK data."""

    endpoint: str
    name: str
    args: List[Any] = field(default_factory=list)
    id: str = ""
    wants_ack: bool = False


class EndpointClient(Protocol):
    """What an :class:`Endpoint` asks of its client (a ``SocketIOClient``)."""

    def endpoint_connected(self, endpoint: str) -> bool:
        """Whether ``endpoint`` is connected."""

    async def send(self, message: str, *, endpoint: str = "", ack: bool = False,
                   timeout: Optional[float] = None) -> None:
        """Send a text message."""

    async def json(self, obj: Any, *, endpoint: str = "", ack: bool = False,
                   timeout: Optional[float] = None) -> None:
        """Send a JSON message."""

    async def emit(self, name: str, *args: Any, endpoint: str = "", ack: bool = False,
                   timeout: Optional[float] = None) -> Optional[List[Any]]:
        """Send an event."""

    def on(self, name: str, handler: EventHandler, *, endpoint: str = "") -> None:
        """Answer the server's event ``name`` with ``handler``."""

    async def receive(self, timeout: Optional[float] = None, endpoint: str = "") -> Any:
        """The next message's data or event."""

    async def receive_message(self, timeout: Optional[float] = None,
                              endpoint: str = "") -> Message:
        """The next message."""

    async def receive_event(self, name: Optional[str] = None, timeout: Optional[float] = None,
                            endpoint: str = "") -> Event:
        """The next event (named ``name``)."""

    async def wait_endpoint_closed(self, endpoint: str, timeout: Optional[float] = None) -> None:
        """Wait until the server disconnects ``endpoint``."""

    async def disconnect(self, endpoint: str = "") -> None:
        """Disconnect ``endpoint`` (or the whole connection)."""


class Endpoint:
    """One endpoint of a :class:`~tornadio2.testing.client.SocketIOClient`.

    ``client.endpoint('/chat')`` makes one; its methods are the client's,
    with ``endpoint`` filled in.
    """

    def __init__(self, client: EndpointClient, name: str) -> None:
        self.client = client
        self.name = name

    @property
    def connected(self) -> bool:
        """Whether this endpoint is connected."""
        return self.client.endpoint_connected(self.name)

    async def send(self, message: str, *, ack: bool = False,
                   timeout: Optional[float] = None) -> None:
        """See :meth:`~tornadio2.testing.client.SocketIOClient.send`."""
        await self.client.send(message, endpoint=self.name, ack=ack, timeout=timeout)

    async def json(self, obj: Any, *, ack: bool = False, timeout: Optional[float] = None) -> None:
        """See :meth:`~tornadio2.testing.client.SocketIOClient.json`."""
        await self.client.json(obj, endpoint=self.name, ack=ack, timeout=timeout)

    async def emit(self, name: str, *args: Any, ack: bool = False,
                   timeout: Optional[float] = None) -> Optional[List[Any]]:
        """See :meth:`~tornadio2.testing.client.SocketIOClient.emit`."""
        return await self.client.emit(name, *args, endpoint=self.name, ack=ack, timeout=timeout)

    def on(self, name: str, handler: EventHandler) -> None:
        """See :meth:`~tornadio2.testing.client.SocketIOClient.on`."""
        self.client.on(name, handler, endpoint=self.name)

    async def receive(self, timeout: Optional[float] = None) -> Any:
        """See :meth:`~tornadio2.testing.client.SocketIOClient.receive`."""
        return await self.client.receive(timeout, self.name)

    async def receive_message(self, timeout: Optional[float] = None) -> Message:
        """See :meth:`~tornadio2.testing.client.SocketIOClient.receive_message`."""
        return await self.client.receive_message(timeout, self.name)

    async def receive_event(self, name: Optional[str] = None,
                            timeout: Optional[float] = None) -> Event:
        """See :meth:`~tornadio2.testing.client.SocketIOClient.receive_event`."""
        return await self.client.receive_event(name, timeout, self.name)

    async def wait_closed(self, timeout: Optional[float] = None) -> None:
        """Wait until the server disconnects this endpoint."""
        await self.client.wait_endpoint_closed(self.name, timeout)

    async def disconnect(self) -> None:
        """Send ``0::/endpoint``: leave this endpoint, keep the connection."""
        await self.client.disconnect(self.name)
