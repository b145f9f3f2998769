"""The Flash socket policy server that flashsocket clients ask before connecting.

Flash asks ``<policy-file-request/>\\0`` on port 843 (the 0.9 client then also
tries 10843) and wants an XML policy back. This server answers exactly that
request and closes the connection; anything else, or nothing within the
timeout, is closed without an answer.
"""

import datetime
import errno
import logging
import socket
from typing import Any, List, Optional

from tornado import gen
from tornado.iostream import IOStream, StreamClosedError, UnsatisfiableReadError
from tornado.tcpserver import TCPServer

from tornadio2.accept import AcceptBackoff

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


class FlashPolicyServer(AcceptBackoff, TCPServer):
    """Answers Flash policy requests with ``policy_file``'s contents (or allow-all).

    It listens from its constructor, as TornadIO2's did:
    ``FlashPolicyServer(io_loop, port=843, policy_file=...)`` (``io_loop`` is
    accepted and ignored) or ``FlashPolicyServer(port, policy_file)``. Binding
    errors (port 843 needs root) raise ``OSError`` with no socket left open.
    The policy is read once, at start; Flash wants it NUL-terminated.
    """

    def __init__(self, io_loop: Any = None, port: Any = 843,
                 policy_file: Optional[str] = None, address: str = "",
                 timeout: float = DEFAULT_TIMEOUT, **kwargs: Any) -> None:
        if isinstance(io_loop, int) and not isinstance(io_loop, bool):
            # FlashPolicyServer(port, policy_file): everything is one place to the left.
            if policy_file is None and (port is None or isinstance(port, str)):
                policy_file = port
            port = io_loop
        super().__init__(**kwargs)
        self.policy_file = policy_file
        if policy_file:
            with open(policy_file, "rb") as handle:
                policy = handle.read()
        else:
            policy = DEFAULT_POLICY
        self.policy = policy.rstrip(b"\0") + b"\0"
        self.timeout = timeout
        self.port = port
        self.address = address
        self.add_sockets(_bind_sockets(port, address))
        logger.info("flash policy server on %s:%s", address or "*", port)

    def start_listening(self) -> "FlashPolicyServer":
        """Kept for earlier tornadio2 code: the constructor already listens."""
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


def _bind_sockets(port: int, address: str) -> List[socket.socket]:
    """Listening sockets for ``address:port``; on failure none stays open."""
    sockets: List[socket.socket] = []
    infos = socket.getaddrinfo(address or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM,
                               0, socket.AI_PASSIVE)
    try:
        for family, kind, protocol, _, sockaddr in dict.fromkeys(infos):
            sock = socket.socket(family, kind, protocol)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.setblocking(False)
            try:
                sock.bind(sockaddr)
            except OSError as exc:
                if family != socket.AF_INET6 or exc.errno != errno.EADDRNOTAVAIL:
                    raise
                sockets.pop().close()  # a host with IPv6 switched off
                continue
            sock.listen(128)
        if not sockets:
            raise OSError(errno.EADDRNOTAVAIL, "no address to listen on for %r" % address)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets
