"""tornadio2: Socket.IO 0.7-0.9 (protocol 1) server for Tornado 6 on Python 3.

A faithful reimplementation of TornadIO2: applications subclass
:class:`SocketConnection`, route it with :class:`TornadioRouter` and serve it
with Tornado (or :class:`SocketServer`).
"""

from tornadio2.conn import SocketConnection, event
from tornadio2.router import TornadioRouter
from tornadio2.server import SocketServer
from tornadio2 import gen, proto  # noqa: F401  (public submodules)

__version__ = "0.1.0"

__all__ = ["SocketConnection", "event", "TornadioRouter", "SocketServer", "__version__"]
