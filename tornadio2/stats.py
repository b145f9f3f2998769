"""Server counters: sessions, connections, packets, and their recent rates.

This module owns the numbers; it must not import Tornado and it counts nothing
by itself. Sessions report through the session layer (``session_opened`` and
``session_closed``; packets by adding to ``packets_sent_total`` and
``packets_recv_total``, which is cheaper than a call on the per-packet path),
connections through the transport handlers' open and close hooks, and the
router calls :meth:`StatsCollector.tick` once a second.
"""

import collections
from typing import Deque, Dict

__all__ = ["MovingAverage", "StatsCollector"]


class MovingAverage:
    """The mean of the last ``period`` samples."""

    __slots__ = ("_samples", "_sum")

    def __init__(self, period: int = 10) -> None:
        self._samples: Deque[float] = collections.deque(maxlen=period)
        self._sum = 0.0

    def add(self, value: float) -> None:
        """Record one sample, dropping the oldest when the window is full."""
        if len(self._samples) == self._samples.maxlen:
            self._sum -= self._samples[0]
        self._samples.append(value)
        self._sum += value

    @property
    def value(self) -> float:
        """The current mean (0 before the first sample)."""
        return self._sum / len(self._samples) if self._samples else 0.0


class StatsCollector:
    """Counters a router keeps, and per-second rates averaged over a window.

    ``dump()`` returns them as a plain dict, ready to be served as JSON.
    ``packets_sent_total`` and ``packets_recv_total`` are plain counters that
    the session adds to as packets go out and come in.
    """

    def __init__(self, period: int = 10) -> None:
        self.sessions_active = 0
        self.sessions_max = 0
        self.sessions_total = 0
        self.connections_active = 0
        self.connections_max = 0
        self.connections_total = 0
        self.packets_sent_total = 0
        self.packets_recv_total = 0
        self._connections_ps = MovingAverage(period)
        self._packets_sent_ps = MovingAverage(period)
        self._packets_recv_ps = MovingAverage(period)
        self._last = (0, 0, 0)

    def session_opened(self) -> None:
        """A handshake was accepted."""
        self.sessions_active += 1
        self.sessions_total += 1
        self.sessions_max = max(self.sessions_max, self.sessions_active)

    def session_closed(self) -> None:
        """A session ended."""
        self.sessions_active -= 1

    def connection_opened(self) -> None:
        """A transport request or socket started."""
        self.connections_active += 1
        self.connections_total += 1
        self.connections_max = max(self.connections_max, self.connections_active)

    def connection_closed(self) -> None:
        """A transport request or socket ended."""
        self.connections_active -= 1

    def tick(self) -> None:
        """Close a one-second interval and feed the moving averages."""
        now = (self.connections_total, self.packets_sent_total, self.packets_recv_total)
        conns, sent, recv = (n - last for n, last in zip(now, self._last))
        self._last = now
        self._connections_ps.add(conns)
        self._packets_sent_ps.add(sent)
        self._packets_recv_ps.add(recv)

    def dump(self) -> Dict[str, float]:
        """Every counter and rate, by name."""
        return {
            "sessions_active": self.sessions_active,
            "sessions_max": self.sessions_max,
            "sessions_total": self.sessions_total,
            "connections_active": self.connections_active,
            "connections_max": self.connections_max,
            "connections_total": self.connections_total,
            "connections_ps": self._connections_ps.value,
            "packets_sent_total": self.packets_sent_total,
            "packets_recv_total": self.packets_recv_total,
            "packets_sent_ps": self._packets_sent_ps.value,
            "packets_recv_ps": self._packets_recv_ps.value,
        }
