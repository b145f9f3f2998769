"""TornadIO2's names for what a session offers, as a mixin of the session.

TornadIO2 applications reach their session through ``self.session`` and
use a few names tornadio2's own API spells differently: ``session_id``
(``sid``), ``remote_ip`` (``info.ip``), ``handler`` (the attached
transport), ``endpoints``, ``send_message`` (``send_packet``) and
``get_connection``. :class:`SessionNames` gives them, each in terms of the
session's public API, so that the session module holds the state machine
only. ``server`` and ``close(endpoint)`` live in :mod:`tornadio2.session`,
which owns that state.

It must not import Tornado or :mod:`tornadio2.session`.
"""

from types import MappingProxyType
from typing import Any, Mapping, Optional

from tornadio2.endpoints import Endpoints
from tornadio2.sessiontypes import Connection, ConnectionInfo, Transport

__all__ = ["SessionNames"]


class SessionNames:
    """TornadIO2's session attributes, for a class that has a session's state."""

    __slots__ = ()

    # Supplied by the session.
    sid: str
    info: ConnectionInfo
    conn: Connection
    transport: Optional[Transport]
    _endpoints: Endpoints

    def send_packet(self, packet: str) -> None:
        """Send one encoded packet (the session's)."""
        raise NotImplementedError

    @property
    def session_id(self) -> str:
        """The session id (TornadIO2's name for :attr:`sid`)."""
        return self.sid

    @property
    def remote_ip(self) -> str:
        """The IP address the handshake came from (``info.ip``)."""
        return self.info.ip

    @property
    def handler(self) -> Optional[Transport]:
        """The transport handler attached now, or ``None`` between polls.

        A websocket's handler stays attached; a polling GET is attached only
        while it waits for packets, so this is mostly ``None`` for polling
        clients, as TornadIO2's was.
        """
        return self.transport

    @property
    def endpoints(self) -> Mapping[str, Any]:
        """The open endpoints: name -> connection, read only (a live view)."""
        return MappingProxyType(self._endpoints.connections())

    def send_message(self, pack: str) -> None:
        """Send an encoded packet (TornadIO2's name for :meth:`send_packet`)."""
        self.send_packet(pack)

    def get_connection(self, endpoint: Optional[str]) -> Optional[Connection]:
        """The connection of ``endpoint``; the main connection for ``None`` or ``''``."""
        if endpoint:
            return self._endpoints.get(endpoint)
        return self.conn
