"""The Flash socket policy server that flashsocket clients ask before connecting.

Flash asks ``<policy-file-request/>\\0`` on port 843 (the 0.9 client then also
tries 10843) and wants an XML policy back. This server answers exactly that
request and closes the connection; anything else, or nothing within the
timeout, is closed without an answer.
"""

import datetime
import logging
from typing import Any, Optional

from tornado import gen
from tornado.iostream import IOStream, StreamClosedError, UnsatisfiableReadError
from tornado.tcpserver import TCPServer

__all__ = ["FlashPolicyServer", "POLICY_REQUEST", "DEFAULT_POLICY"]

logger = logging.getLogger("tornadio2.flashserver")

#: The request Flash sends before it opens a socket, NUL included.
POLICY_REQUEST = b"<policy-file-request/>\0"
#: The policy served without a policy file: any domain may connect to any port.
DEFAULT_POLICY = (
    b'<?xml version="1.0"?><!DOCTYPE cross-domain-policy SYSTEM '
    b'"http://www.macromedia.com/xml/dtds/cross-domain-policy.dtd">'
    b'<cross-domain-policy><allow-access-from domain="*" to-ports="*"/>'
    b"</cross-domain-policy>"
)
#: Seconds a client has to send its request.
DEFAULT_TIMEOUT = 5.0


class FlashPolicyServer(TCPServer):
    """Answers Flash policy requests with ``policy_file``'s contents (or allow-all).

    The policy is read once, at start; Flash wants it NUL-terminated.
    """

    def __init__(self, port: int = 843, policy_file: Optional[str] = None,
                 address: str = "", timeout: float = DEFAULT_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if policy_file:
            with open(policy_file, "rb") as handle:
                policy = handle.read()
        else:
            policy = DEFAULT_POLICY
        self.policy = policy.rstrip(b"\0") + b"\0"
        self.timeout = timeout
        self.port = port
        self.address = address

    def start_listening(self) -> "FlashPolicyServer":
        """Listen on the configured port and address."""
        self.listen(self.port, self.address)
        logger.info("flash policy server on %s:%s", self.address or "*", self.port)
        return self

    async def handle_stream(self, stream: IOStream, address: Any) -> None:
        try:
            request = await gen.with_timeout(
                datetime.timedelta(seconds=self.timeout),
                stream.read_until(b"\0", max_bytes=len(POLICY_REQUEST)),
                quiet_exceptions=(StreamClosedError,))
            if request == POLICY_REQUEST:
                await stream.write(self.policy)
            else:
                logger.warning("unexpected flash policy request from %s", address[0])
        except UnsatisfiableReadError:
            logger.warning("unexpected flash policy request from %s", address[0])
        except gen.TimeoutError:
            logger.info("flash policy client %s sent nothing in time", address[0])
        except StreamClosedError:
            logger.debug("flash policy client %s left", address[0])
        finally:
            stream.close()
