"""Test tools for tornadio2 applications: a Socket.IO 0.9 client and a test server.

:class:`SocketIOClient` speaks protocol 1 over websocket or xhr-polling as
the stock 0.9 client does, with awaitable messages, events and ACKs;
:func:`serve` runs an application on a free port of 127.0.0.1 in the
running event loop; :func:`connect_clients` opens several clients at once.
The package needs only Tornado (no pytest); see the guide "Testing your
application".
"""

from tornadio2.testing.client import SocketIOClient
from tornadio2.testing.endpoint import Endpoint, Event, Message
from tornadio2.testing.errors import (ClientDisconnected, ClientError, EndpointRefused,
                                      HandshakeError, WaitTimeout)
from tornadio2.testing.server import LiveServer, connect_clients, serve

__all__ = [
    "SocketIOClient", "Endpoint", "Message", "Event",
    "LiveServer", "serve", "connect_clients",
    "ClientError", "HandshakeError", "WaitTimeout", "ClientDisconnected", "EndpointRefused",
]
