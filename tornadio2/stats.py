"""Server counters: sessions, connections, packets, and their recent rates.

This module owns the numbers; it must not import Tornado at import time and
it counts nothing by itself. Sessions report through the session layer
(``session_opened`` and ``session_closed``; packets by adding to
``packets_sent_total`` and ``packets_recv_total``, which is cheaper than a
call on the per-packet path), connections through the transport handlers'
open and close hooks, and once a second :meth:`StatsCollector.tick` turns the
counts into per-second rates.

TornadIO2's names are all here too: ``active_sessions``, ``max_sessions``,
``active_connections``, ``max_connections``, the ``connections_ps``,
``packets_sent_ps`` and ``packets_recv_ps`` moving averages (read
``.last_average``), ``on_packet_sent(n)``, ``on_packet_recv(n)`` and
``start()``; ``dump()`` carries both sets of keys.
"""

import collections
import datetime
from typing import Any, Deque, Dict, Optional

__all__ = ["MovingAverage", "StatsCollector"]

#: Seconds between two samples of the per-second rates.
TICK_SECONDS = 1


class MovingAverage:
    """The mean of the last ``period`` samples, TornadIO2 style.

    :meth:`add` accumulates into the current sample and :meth:`flush` closes
    it (a collector flushes once a second, so the average is per second).
    ``last_average`` (also ``value``) is the mean as of the last flush.
    """

    __slots__ = ("period", "stream", "sum", "accumulator", "last_average")

    def __init__(self, period: int = 10) -> None:
        self.period = period
        self.stream: Deque[float] = collections.deque()
        self.sum: float = 0
        self.accumulator: float = 0
        self.last_average: float = 0

    def add(self, n: float) -> None:
        """Add ``n`` to the sample being collected."""
        self.accumulator += n

    def flush(self) -> None:
        """Close the current sample and recompute the average over the window."""
        sample, self.accumulator = self.accumulator, 0
        self.stream.append(sample)
        self.sum += sample
        if len(self.stream) > self.period:
            self.sum -= self.stream.popleft()
        self.last_average = self.sum / len(self.stream)

    @property
    def value(self) -> float:
        """The average as of the last :meth:`flush` (0 before the first)."""
        return self.last_average


class StatsCollector:
    """Counters a router keeps, and per-second rates averaged over a window.

    ``dump()`` returns them as a plain dict, ready to be served as JSON, under
    tornadio2's names (``sessions_active`` ...) and TornadIO2's
    (``active_sessions`` ...). ``packets_sent_total`` and
    ``packets_recv_total`` are plain counters that the session adds to as
    packets go out and come in.
    """

    def __init__(self, period: int = 10) -> None:
        self.start_time = datetime.datetime.now()
        self.periodic_callback: Optional[Any] = None
        self.active_sessions = 0
        self.max_sessions = 0
        self.sessions_total = 0
        self.active_connections = 0
        self.max_connections = 0
        self.connections_total = 0
        self.packets_sent_total = 0
        self.packets_recv_total = 0
        #: Volatile packets dropped because their client could not take them then.
        self.volatile_dropped = 0
        self.connections_ps = MovingAverage(period)
        self.packets_sent_ps = MovingAverage(period)
        self.packets_recv_ps = MovingAverage(period)
        self._last = (0, 0, 0)

    # tornadio2's names for TornadIO2's counters.
    @property
    def sessions_active(self) -> int:
        """Sessions alive now (TornadIO2: ``active_sessions``)."""
        return self.active_sessions

    @property
    def sessions_max(self) -> int:
        """The most sessions alive at once (TornadIO2: ``max_sessions``)."""
        return self.max_sessions

    @property
    def connections_active(self) -> int:
        """Transport connections open now (TornadIO2: ``active_connections``)."""
        return self.active_connections

    @property
    def connections_max(self) -> int:
        """The most transport connections open at once (TornadIO2: ``max_connections``)."""
        return self.max_connections

    def session_opened(self) -> None:
        """A handshake was accepted."""
        self.active_sessions += 1
        self.sessions_total += 1
        if self.active_sessions > self.max_sessions:
            self.max_sessions = self.active_sessions

    def session_closed(self) -> None:
        """A session ended."""
        self.active_sessions -= 1

    def connection_opened(self) -> None:
        """A transport request or socket started."""
        self.active_connections += 1
        self.connections_total += 1
        if self.active_connections > self.max_connections:
            self.max_connections = self.active_connections

    def connection_closed(self) -> None:
        """A transport request or socket ended."""
        self.active_connections -= 1

    def on_packet_sent(self, num: int) -> None:
        """``num`` packets went out (the session adds to ``packets_sent_total`` itself)."""
        self.packets_sent_total += num

    def on_packet_recv(self, num: int) -> None:
        """``num`` packets came in (the session adds to ``packets_recv_total`` itself)."""
        self.packets_recv_total += num

    def tick(self) -> None:
        """Close a one-second interval and feed the moving averages."""
        now = (self.connections_total, self.packets_sent_total, self.packets_recv_total)
        averages = (self.connections_ps, self.packets_sent_ps, self.packets_recv_ps)
        for average, count, last in zip(averages, now, self._last):
            average.add(count - last)
            average.flush()
        self._last = now

    _update_averages = tick  # TornadIO2's name for it

    def start(self, io_loop: Any = None) -> None:
        """Tick once a second on the current IOLoop until :meth:`stop`.

        A router starts its collector with its first session, so calling it
        on ``router.stats`` changes nothing. ``io_loop`` is accepted for
        TornadIO2 compatibility and ignored. Starting a started collector
        does nothing.
        """
        if self.periodic_callback is not None:
            return
        from tornadio2.periodic import Callback  # the IOLoop only when asked for
        self.periodic_callback = Callback(self.tick, TICK_SECONDS * 1000)  # milliseconds
        self.periodic_callback.start()

    def stop(self) -> None:
        """Stop the ticks :meth:`start` began."""
        if self.periodic_callback is not None:
            self.periodic_callback.stop()
            self.periodic_callback = None

    def dump(self) -> Dict[str, float]:
        """Every counter and rate, by name (tornadio2's names and TornadIO2's)."""
        return {
            "sessions_active": self.active_sessions,
            "sessions_max": self.max_sessions,
            "sessions_total": self.sessions_total,
            "connections_active": self.active_connections,
            "connections_max": self.max_connections,
            "connections_total": self.connections_total,
            "connections_ps": self.connections_ps.last_average,
            "packets_sent_total": self.packets_sent_total,
            "packets_recv_total": self.packets_recv_total,
            "packets_sent_ps": self.packets_sent_ps.last_average,
            "packets_recv_ps": self.packets_recv_ps.last_average,
            "volatile_dropped": self.volatile_dropped,
            "active_sessions": self.active_sessions,
            "max_sessions": self.max_sessions,
            "active_connections": self.active_connections,
            "max_connections": self.max_connections,
        }
