"""Serving the Socket.IO 0.9 browser client, as the native server does.

The native server answers ``/socket.io/socket.io.js`` (and the minified file
and the Flash SWFs of the flashsocket transport) from the client package.
This module finds that package's ``dist`` folder from the ``client_path``
setting and builds the URL specs that serve it.
"""

import os
from typing import Any, List, Optional

from tornado import web

__all__ = ["find_client_path", "client_urls"]

_CLIENT_DIST = os.path.join("node_modules", "socket.io-client", "dist")


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


def client_urls(prefix: str, folder: Optional[str]) -> List[Any]:
    """URL specs serving the client files of ``folder`` under ``prefix`` (none without one)."""
    if folder is None:
        return []
    files = {"path": folder}
    return [
        web.url(prefix + r"/(socket\.io(?:\.min)?\.js)", web.StaticFileHandler, files),
        web.url(prefix + r"/static/flashsocket/(WebSocketMain(?:Insecure)?\.swf)",
                web.StaticFileHandler, files),
    ]
