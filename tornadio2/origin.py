"""The origin policy: which ``Origin`` a request may carry, as pure functions.

One policy serves polling requests and websocket upgrades alike. The
``allowed_origins`` setting is ``'*'`` (any origin, as the native server and
TornadIO2 allow by default) or a list of entries, each ``scheme://host[:port]``
or the native server's ``host:port`` with ``*`` wildcards. This module must
not import Tornado or any other part of tornadio2.
"""

from typing import Iterable, Optional, Tuple, Union
from urllib.parse import urlsplit

__all__ = ["origin_allowed", "origin_parts"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def origin_parts(origin: str) -> Optional[Tuple[str, str, int]]:
    """``(scheme, host, port)`` of an origin, lower-cased; ``None`` if it is not one."""
    parts = urlsplit(origin.strip())
    if not parts.scheme or not parts.hostname:
        return None
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 80)
    except ValueError:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


def _entry_matches(entry: str, scheme: str, host: str, port: int) -> bool:
    """One allow-list entry: ``scheme://host[:port]`` or native ``host:port`` with ``*``."""
    entry = entry.strip().lower()
    if "://" in entry:
        return origin_parts(entry) == (scheme, host, port)
    entry_host, _, entry_port = entry.rpartition(":") if ":" in entry else (entry, "", "*")
    return entry_host in ("*", host) and entry_port in ("*", str(port))


def origin_allowed(origin: Optional[str], allowed: Union[str, Iterable[str]],
                   server_origin: Optional[str] = None) -> bool:
    """Whether a request carrying ``Origin: origin`` may use the server.

    Requests without an Origin (non-browser clients, same-origin requests of
    old browsers) and same-origin requests (host and port equal to those of
    ``server_origin``, ``scheme://host[:port]`` of the request) are always
    allowed; ``'*'`` allows every origin.
    """
    if not origin:
        return True
    if allowed == "*" or (not isinstance(allowed, str) and "*" in allowed):
        return True
    parts = origin_parts(origin)
    if parts is None:
        return False
    scheme, host, port = parts
    own = origin_parts(server_origin) if server_origin else None
    if own is not None and own[1:] == (host, port):
        return True
    entries = [allowed] if isinstance(allowed, str) else allowed
    return any(_entry_matches(entry, scheme, host, port) for entry in entries)
