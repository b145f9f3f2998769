"""Exception types raised by tornadio2.

This module owns the error hierarchy and imports nothing else from the package
(and nothing from Tornado), so every layer can use it.
"""

__all__ = [
    "TornadioError",
    "ProtocolError",
    "ConnectionRejected",
    "SessionClosedError",
    "BrokerUnavailable",
]


class TornadioError(Exception):
    """Base class of every error tornadio2 raises on purpose."""


class ProtocolError(TornadioError):
    """The peer sent something that is not valid Socket.IO 0.9 wire data.

    Raised by the codec; the session decides, in one place, what to do about it.
    """


class ConnectionRejected(TornadioError):
    """Raise it from ``on_open`` to refuse a connection, as returning ``False`` does.

    The handshake then answers ``403 handshake unauthorized``; an endpoint
    answers ``7::/endpoint:2`` so that the client fires ``connect_failed``.
    """


class SessionClosedError(TornadioError):
    """An operation needed an open session, but the session is closed.

    tornadio2 itself does not raise it (sending on a closed connection is a
    logged no-op, as in TornadIO2); it is there for applications that want to
    signal the condition in their own code.
    """


class BrokerUnavailable(TornadioError):
    """The broker (``broker_url``) could not be reached when the router started.

    The message names the URL (without its password). Set
    ``broker_start_degraded`` to start anyway and connect in the background.
    """
