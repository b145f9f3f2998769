"""tornadio2: Socket.IO 0.7-0.9 (protocol 1) server for Tornado 6 on Python 3.

A faithful reimplementation of TornadIO2: applications subclass
:class:`SocketConnection`, route it with :class:`TornadioRouter` and serve it
with Tornado (or :class:`SocketServer`).

The names below are loaded on first use, so that the sans-IO modules
(``tornadio2.proto``, ``tornadio2.session`` ...) can be imported without Tornado.
"""

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["SocketConnection", "event", "broadcast", "TornadioRouter", "SocketServer",
           "__version__"]

_EXPORTS = {
    "SocketConnection": "tornadio2.conn",
    "event": "tornadio2.conn",
    "broadcast": "tornadio2.conn",
    "TornadioRouter": "tornadio2.router",
    "SocketServer": "tornadio2.server",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from tornadio2.conn import SocketConnection, broadcast, event
    from tornadio2.router import TornadioRouter
    from tornadio2.server import SocketServer


#: TornadIO2's modules (its ``import tornadio2`` loaded them all), then tornadio2's own.
_SUBMODULES = frozenset((
    "conn", "flashserver", "gen", "periodic", "persistent", "polling", "preflight", "proto",
    "router", "server", "session", "sessioncontainer", "stats",
    "exceptions", "hixie76",
))


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES or (not name.startswith("_") and _is_submodule(name)):
        return importlib.import_module("tornadio2." + name)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError("module 'tornadio2' has no attribute %r" % name)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _is_submodule(name: str) -> bool:
    # A module added later is reachable without editing the list above.
    return importlib.util.find_spec("tornadio2." + name) is not None


def __dir__() -> list:
    return sorted(set(globals()) | set(_EXPORTS) | _SUBMODULES)
