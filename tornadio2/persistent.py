"""Socket transports: websocket, and flashsocket over the same RFC 6455 code.

This module moves text between a websocket and the session: each text frame
goes to ``session.receive_frames``, each outgoing packet is one text frame.
It parses no packets and owns no timers; heartbeats are the session's.
"""

import logging
from typing import Any, List, Optional

from tornado import websocket

from tornadio2.preflight import to_utf8
from tornadio2.session import NOT_HANDSHAKEN, Session

__all__ = ["TornadioWebSocketHandler", "TornadioFlashSocketHandler"]

logger = logging.getLogger("tornadio2.persistent")


class TornadioWebSocketHandler(websocket.WebSocketHandler):
    """The ``websocket`` transport on Tornado's RFC 6455 implementation."""

    name = "websocket"
    oneshot = False

    def initialize(self, server: Any) -> None:  # type: ignore[override]
        self.server = server
        self.session: Optional[Session] = None
        self._counted = False

    @property
    def max_message_size(self) -> int:  # type: ignore[override]
        return int(self.server.settings["max_message_size"])

    def check_origin(self, origin: str) -> bool:
        """Apply the router's origin policy to the upgrade (0.9 pages are often cross-site)."""
        allowed = self.server.origin_allowed(origin, self.request.host)
        if not allowed:
            logger.warning("refused websocket origin %r", origin)
        return bool(allowed)

    def open(self, session_id: str) -> None:  # type: ignore[override]
        self.server.stats.connection_opened()
        self._counted = True
        self.set_nodelay(True)
        session = self.server.session_for(session_id, self.request)
        if session is None:
            self.send_messages([NOT_HANDSHAKEN])
            self.close()
            return
        self.session = session
        session.attach(self)

    def on_message(self, message: Any) -> None:
        if self.session is None:
            return
        if isinstance(message, bytes):
            logger.debug("ignoring a binary frame on session %s", self.session.sid)
            return
        self.session.receive_frames(message)

    def on_close(self) -> None:
        if self._counted:
            self._counted = False
            self.server.stats.connection_closed()
        session, self.session = self.session, None
        if session is not None:
            session.detach(self)
            session.close(send_disconnect=False)

    # -- Transport -----------------------------------------------------------------

    def send_messages(self, packets: List[str]) -> None:
        """Write each packet as one text frame."""
        try:
            for packet in packets:
                self.write_message(to_utf8(packet))
        except websocket.WebSocketClosedError:
            logger.debug("websocket closed while sending")

    def session_closed(self) -> None:
        """The session ended: close the socket."""
        self.session = None
        self.close()


class TornadioFlashSocketHandler(TornadioWebSocketHandler):
    """``flashsocket`` clients that speak RFC 6455 (the same code, another name)."""

    name = "flashsocket"
