"""Errors raised by the test client of :mod:`tornadio2.testing`.

Every error derives from :class:`tornadio2.exceptions.TornadioError`, so a
test can catch them all at once; :class:`WaitTimeout` is also an
:class:`asyncio.TimeoutError`. This module imports nothing but the package's
exception base.
"""

import asyncio

from tornadio2.exceptions import TornadioError

__all__ = ["ClientError", "HandshakeError", "WaitTimeout", "ClientDisconnected", "EndpointRefused"]


class ClientError(TornadioError):
    """Base class of the errors the test client raises."""


class HandshakeError(ClientError):
    """The server refused the handshake or answered something that is not one.

    ``status`` is the HTTP status (0 when no HTTP answer came) and ``body``
    the text the server answered, e.g. ``403`` and ``'handshake unauthorized'``.
    """

    def __init__(self, message: str, status: int = 0, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class WaitTimeout(ClientError, asyncio.TimeoutError):
    """Something the test awaited did not happen in time; the message names it."""


class ClientDisconnected(ClientError):
    """The awaited thing can no longer happen: the connection is closed.

    ``reason`` says how it ended (see :attr:`SocketIOClient.disconnect_reason
    <tornadio2.testing.client.SocketIOClient.disconnect_reason>`).
    """

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class EndpointRefused(ClientError):
    """The server refused to connect an endpoint (it answered ``7::/endpoint:2``).

    ``endpoint`` is the refused endpoint and ``reason`` the reason index the
    error packet carried (``'2'``, unauthorized, for an ``on_open`` refusal).
    """

    def __init__(self, endpoint: str, reason: str) -> None:
        super().__init__("endpoint %s refused (reason %r)" % (endpoint, reason))
        self.endpoint = endpoint
        self.reason = reason
