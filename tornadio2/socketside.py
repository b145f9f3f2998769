"""The session side that both websocket engines share.

:class:`SessionSocket` is a mixin of a socket transport (Tornado's handler
in :mod:`tornadio2.persistent`, the lean loop in :mod:`tornadio2.leanws`):
it attaches the socket to its session, and hands each text frame to the
session, finishing a ``websocket_check`` probe with the first one. It moves
no bytes and parses no packets.
"""

import logging
from typing import Any, Optional

from tornadio2.exceptions import SessionClosedError
from tornadio2.session import Session
from tornadio2.stats import Traffic, utf8_length

__all__ = ["SessionSocket"]

logger = logging.getLogger("tornadio2.socketside")


class SessionSocket:
    """Attach to a session and feed it text frames; the class using it moves the bytes.

    It needs ``session``, ``_probing`` (a probe waits for the client's first
    frame), ``_bytes`` (the transport's byte counters, or ``None``) and
    :meth:`_not_handshaken` (answer "not handshaken" and close).
    """

    __slots__ = ()

    session: Optional[Session]
    _probing: bool
    _bytes: Optional[Traffic]

    def _not_handshaken(self) -> None:
        raise NotImplementedError

    def _attach(self, session: Session) -> None:
        try:
            session.attach(self)  # type: ignore[arg-type]  # the class using it is a Transport
        except SessionClosedError:
            self.session = None
            self._not_handshaken()

    def _hand_over(self, message: Any) -> Optional[Session]:
        """Give a text frame to the session: the session if it still handles a large payload.

        Then the socket should read no further until that session is done
        (:meth:`Session.when_read <tornadio2.session.Session.when_read>`).
        """
        session = self.session
        if session is None:
            return None
        if message.__class__ is not str:
            logger.debug("ignoring a binary frame on session %s", session.sid)
            return None
        if self._probing:
            self._probing = False
            self._attach(session)
            if self.session is None:
                return None
        if self._bytes is not None:
            self._bytes.bytes_in += len(message) if message.isascii() else utf8_length(message)
        return session if session.receive_frame(message) else None
