"""Exception types raised by tornadio2.

This module owns the error hierarchy and imports nothing else from the package
(and nothing from Tornado), so every layer can use it.
"""

__all__ = [
    "TornadioError",
    "ProtocolError",
    "ConnectionRejected",
    "SessionClosedError",
]


class TornadioError(Exception):
    """Base class of every error tornadio2 raises on purpose."""


class ProtocolError(TornadioError):
    """The peer sent something that is not valid Socket.IO 0.9 wire data.

    Raised by the codec; the session decides, in one place, what to do about it.
    """


class ConnectionRejected(TornadioError):
    """``on_open`` refused the connection (returned ``False``)."""


class SessionClosedError(TornadioError):
    """An operation needed an open session, but the session is closed."""
