"""HTTP polling transports: xhr-polling (and the base the other polling kinds share).

This module owns HTTP framing only: how a payload of packets is written into a
response and read out of a POST body. The session decides what to send and
when, including the long poll's timeout; the handler waits for the session to
hand it packets (``send_messages``) or for the client to go away.
"""

import logging
from typing import Any, List, Optional

from tornado.concurrent import Future

from tornadio2.preflight import PreflightHandler, to_utf8
from tornadio2.proto import encode_frames
from tornadio2.session import NOT_HANDSHAKEN, Session

__all__ = ["TornadioPollingHandlerBase", "TornadioXHRPollingHandler"]

logger = logging.getLogger("tornadio2.polling")


class TornadioPollingHandlerBase(PreflightHandler):
    """A long-polling GET that receives packets, a POST that delivers them.

    Subclasses say how a payload is wrapped (:meth:`write_payload`) and how a
    POST body is unwrapped (:meth:`read_payload`).
    """

    name = "polling"
    oneshot = True

    def initialize(self, server: Any) -> None:  # type: ignore[override]
        super().initialize(server)
        self.session: Optional[Session] = None
        self._answered: Optional["Future[None]"] = None

    async def get(self, session_id: str) -> None:
        """Hold the request until the session has packets or gives up the poll."""
        if "disconnect" in self.request.query_arguments:
            self.server.force_disconnect(session_id)
            self.safe_finish()
            return
        session = self.server.session_for(session_id, self.request)
        if session is None:
            self.send_messages([NOT_HANDSHAKEN])
            return
        self.session = session
        self._answered = Future()
        session.attach(self)
        if not self._finished:
            await self._answered

    async def post(self, session_id: str) -> None:
        """Hand the POSTed packets to the session and answer ``1``."""
        limit = self.server.settings["max_message_size"]
        if len(self.request.body) > limit:
            logger.warning("POST body of %d bytes over the %d byte limit", len(self.request.body), limit)
            self.send_error(413, reason="Payload Too Large")
            return
        session = self.server.session_for(session_id, self.request)
        if session is not None:
            payload = self.read_payload()
            if payload is None or not session.receive_frames(payload):
                self.send_error(400, reason="Bad payload")
                return
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.set_cors_headers()
        if self.request.headers.get("Origin"):
            self.set_header("X-XSS-Protection", "0")
        self.safe_finish("1")

    def read_payload(self) -> Optional[str]:
        """The POST body as text, or ``None`` when it cannot be read."""
        try:
            return self.request.body.decode("utf-8")
        except UnicodeDecodeError:
            logger.warning("POST body of %s is not UTF-8", self.request.path)
            return None

    def write_payload(self, payload: str) -> None:
        """Answer the GET with ``payload`` (already framed)."""
        raise NotImplementedError

    # -- Transport -----------------------------------------------------------------

    def send_messages(self, packets: List[str]) -> None:
        """Answer the pending GET with these packets, framed when several."""
        if not self._finished and self.request.connection is not None:
            self.write_payload(encode_frames(packets))
        self._done()

    def session_closed(self) -> None:
        """The session ended with nothing to say: end the GET empty."""
        self.safe_finish()
        self._done()

    def on_connection_close(self) -> None:
        super().on_connection_close()
        if self.session is not None:
            self.session.detach(self)
        self._done()

    def _done(self) -> None:
        if self._answered is not None and not self._answered.done():
            self._answered.set_result(None)


class TornadioXHRPollingHandler(TornadioPollingHandlerBase):
    """xhr-polling: the payload is the response body, as UTF-8 text."""

    name = "xhr-polling"

    def write_payload(self, payload: str) -> None:
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.set_cors_headers()
        self.safe_finish(to_utf8(payload))
