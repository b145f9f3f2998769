"""Serving the Socket.IO 0.9 browser client, as the native server does.

The native server answers ``/socket.io/socket.io.js`` (and the minified file
and the Flash SWFs of the flashsocket transport) from the client package.
This module finds that package's ``dist`` folder from the ``client_path``
setting and builds the URL specs that serve it, or, when there is no client
to serve, that answer its URLs with a ``404`` saying why.
"""

import os
from typing import Any, List, Optional

from tornado import web

from tornadio2.preflight import limit_request_body

__all__ = ["find_client_path", "client_urls", "ClientFileHandler", "MissingClientHandler",
           "CLIENT_NOT_FOUND", "CLIENT_NOT_SERVED"]

_CLIENT_DIST = os.path.join("node_modules", "socket.io-client", "dist")

#: What the log and the ``404`` say when ``client_path='auto'`` finds no client.
CLIENT_NOT_FOUND = (
    "Socket.IO browser client not found: no node_modules/socket.io-client/dist in the "
    "working directory or its parents; install it there with "
    "`npm install --ignore-scripts socket.io-client@0.9.16`, or set the router's "
    "client_path setting to the folder that holds socket.io.js")
#: What the ``404`` says when ``client_path`` is ``None``.
CLIENT_NOT_SERVED = "This server serves no Socket.IO browser client (client_path is None)."


def find_client_path(setting: Optional[str], start: Optional[str] = None) -> Optional[str]:
    """The folder of the browser client to serve, from the ``client_path`` setting.

    ``'auto'`` looks for ``node_modules/socket.io-client/dist`` in ``start``
    (the working directory by default) and its parents; ``None`` serves none;
    anything else is the folder itself.
    """
    if setting != "auto":
        return setting
    folder = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(folder, _CLIENT_DIST)
        if os.path.isfile(os.path.join(candidate, "socket.io.js")):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def client_urls(prefix: str, folder: Optional[str], missing: str = CLIENT_NOT_SERVED) -> List[Any]:
    """URL specs serving the client files of ``folder`` under ``prefix``.

    Without a folder, ``socket.io.js`` and ``socket.io.min.js`` answer ``404``
    with the text ``missing``, rather than falling through to the
    ``Welcome to socket.io.`` of the namespace.
    """
    if folder is None:
        return [web.url(prefix + r"/socket\.io(?:\.min)?\.js", MissingClientHandler,
                        {"message": missing})]
    files = {"path": folder}
    return [
        web.url(prefix + r"/(socket\.io(?:\.min)?\.js)", ClientFileHandler, files),
        web.url(prefix + r"/static/flashsocket/(WebSocketMain(?:Insecure)?\.swf)",
                ClientFileHandler, files),
    ]


@web.stream_request_body
class ClientFileHandler(web.StaticFileHandler):
    """Serves a client file; a request with a body is refused (``413``) before it is read."""

    def prepare(self) -> None:
        limit_request_body(self, 0)

    def data_received(self, chunk: bytes) -> None:
        """A request for a file has no use for a body."""


@web.stream_request_body
class MissingClientHandler(web.RequestHandler):
    """Answers the client's URLs with ``404`` and a line saying how to get the client."""

    def prepare(self) -> None:
        limit_request_body(self, 0)

    def data_received(self, chunk: bytes) -> None:
        """A request for a file has no use for a body."""

    def initialize(self, message: str) -> None:  # type: ignore[override]
        self.message = message

    def get(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(self.message + "\n")

    head = get
