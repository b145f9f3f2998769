"""Server counters: sessions, connections, packets, and their recent rates.

This module owns the numbers; it must not import Tornado at import time and
it counts nothing by itself. Sessions report through the session layer
(``session_opened`` and ``session_closed``; packets by adding to the
:class:`Traffic` of their transport, which is cheaper than a call on the
per-packet path), connections through the transport handlers' open and close
hooks, and once a second :meth:`StatsCollector.tick` turns the counts into
per-second rates. The counters are plain integers: whoever exports them
(:mod:`tornadio2.metrics` for Prometheus) reads them when asked.

TornadIO2's names are all here too: ``active_sessions``, ``max_sessions``,
``active_connections``, ``max_connections``, the ``connections_ps``,
``packets_sent_ps`` and ``packets_recv_ps`` moving averages (read
``.last_average``), ``on_packet_sent(n)``, ``on_packet_recv(n)`` and
``start()``; ``dump()`` carries both sets of keys.
"""

import collections
import datetime
from typing import Any, Deque, Dict, Optional

__all__ = ["MovingAverage", "StatsCollector", "Traffic", "utf8_length", "TRANSPORTS",
           "NO_TRANSPORT", "OTHER_REQUESTS", "DISCONNECT_REASONS", "REFUSAL_REASONS"]

#: Seconds between two samples of the per-second rates.
TICK_SECONDS = 1

#: The transports whose traffic is counted apart (every one tornadio2 serves).
TRANSPORTS = ("websocket", "flashsocket", "xhr-polling", "jsonp-polling", "htmlfile")
#: Where a session counts before any transport has attached to it.
NO_TRANSPORT = "none"
#: Where HTTP requests that are not a transport count (handshakes, ``?disconnect``).
OTHER_REQUESTS = "other"
#: Why sessions end: the client left or asked to, the application (or a
#: shutdown) closed it, the client stopped answering heartbeats, a detached
#: session outlived ``session_expiry``, the application refused the
#: handshake, application code raised, too many packets (or bytes) waited for
#: the client, the client sent more than its budget (a payload of too many
#: packets, too many packets for an endpoint still opening).
DISCONNECT_REASONS = ("client", "server", "heartbeat_timeout", "expiry", "refused", "error",
                      "queue_overflow", "flood")
#: Why handshakes are refused: by the application's ``on_open`` (``False``,
#: ``ConnectionRejected``, ``HTTPError``), by the origin policy, by an
#: exception in ``on_open`` (answered ``500``), by the ``max_sessions`` cap,
#: by the per-address ``handshake_rate``.
REFUSAL_REASONS = ("unauthorized", "origin", "error", "capacity", "rate")


def utf8_length(text: str) -> int:
    """The length of ``text`` in UTF-8, without encoding ASCII text."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


class Traffic:
    """The counters of one transport: sessions on it, connections, packets, bytes.

    Sessions add to ``packets_in`` and ``packets_out`` of the transport they
    last attached; handlers add payload bytes (the UTF-8 text of packets and
    their framing, without HTTP, websocket or script wrapping) when the
    collector counts bytes (:attr:`StatsCollector.count_bytes`).
    """

    __slots__ = ("transport", "sessions_active", "connections_active", "connections_total",
                 "packets_in", "packets_out", "bytes_in", "bytes_out")

    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.sessions_active = 0
        self.connections_active = 0
        self.connections_total = 0
        self.packets_in = 0
        self.packets_out = 0
        self.bytes_in = 0
        self.bytes_out = 0


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
    ``packets_recv_total`` add up the :class:`Traffic` of every transport
    (``traffic``, by name); ``disconnects`` and ``handshake_refusals`` count
    by reason (:data:`DISCONNECT_REASONS`, :data:`REFUSAL_REASONS`).
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
        #: Counters by transport, plus :data:`NO_TRANSPORT` and :data:`OTHER_REQUESTS`.
        self.traffic: Dict[str, Traffic] = {
            name: Traffic(name) for name in TRANSPORTS + (NO_TRANSPORT, OTHER_REQUESTS)}
        #: Whether handlers count payload bytes (turned on by :mod:`tornadio2.metrics`).
        self.count_bytes = False
        self.disconnects: Dict[str, int] = dict.fromkeys(DISCONNECT_REASONS, 0)
        self.handshake_refusals: Dict[str, int] = dict.fromkeys(REFUSAL_REASONS, 0)
        #: Sessions closed because too many packets waited for their client.
        self.queue_overflows = 0
        #: Volatile packets dropped because their client could not take them then.
        self.volatile_dropped = 0
        #: Client packets dropped: unreadable, or for an endpoint that does not exist.
        self.packets_dropped = 0
        #: Sessions closed for a payload (or a backlog of payloads) over the packet budget.
        self.payloads_refused = 0
        #: Sessions closed for too many packets waiting for an endpoint still opening.
        self.opening_overflows = 0
        #: Sessions closed because their socket's unwritten bytes passed ``websocket_write_limit``.
        self.write_overflows = 0
        #: Which broker carries room sends between processes ('local': none).
        self.broker = "local"
        #: Health flag: whether the broker is connected (always True for 'local').
        self.broker_connected = True
        #: Publishes dropped because the broker was away longer than the outage window.
        self.broker_dropped = 0
        # Packets counted through on_packet_sent/on_packet_recv, outside any transport.
        self._packets_sent_other = 0
        self._packets_recv_other = 0
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

    @property
    def packets_sent_total(self) -> int:
        """Packets sent to clients, over every transport."""
        return sum(t.packets_out for t in self.traffic.values()) + self._packets_sent_other

    @packets_sent_total.setter
    def packets_sent_total(self, value: int) -> None:
        self._packets_sent_other += value - self.packets_sent_total

    @property
    def packets_recv_total(self) -> int:
        """Packets received from clients, over every transport."""
        return sum(t.packets_in for t in self.traffic.values()) + self._packets_recv_other

    @packets_recv_total.setter
    def packets_recv_total(self, value: int) -> None:
        self._packets_recv_other += value - self.packets_recv_total

    def session_opened(self) -> None:
        """A handshake was accepted (the session has no transport yet)."""
        self.active_sessions += 1
        self.sessions_total += 1
        if self.active_sessions > self.max_sessions:
            self.max_sessions = self.active_sessions
        self.traffic[NO_TRANSPORT].sessions_active += 1

    def session_moved(self, traffic: Traffic, transport: str) -> Traffic:
        """A session counted under ``traffic`` attached ``transport``; its new counters."""
        new = self.traffic_for(transport)
        traffic.sessions_active -= 1
        new.sessions_active += 1
        return new

    def session_closed(self, reason: str = "server", traffic: Optional[Traffic] = None) -> None:
        """A session ended, for ``reason`` (one of :data:`DISCONNECT_REASONS`).

        ``traffic`` is what :meth:`session_moved` last gave the session
        (the counters of sessions without a transport by default).
        """
        self.active_sessions -= 1
        self.disconnects[reason] = self.disconnects.get(reason, 0) + 1
        (traffic or self.traffic[NO_TRANSPORT]).sessions_active -= 1

    def handshake_refused(self, reason: str) -> None:
        """A handshake was refused, for ``reason`` (one of :data:`REFUSAL_REASONS`).

        A refusal by the application also counts as a ``refused`` disconnect.
        """
        self.handshake_refusals[reason] = self.handshake_refusals.get(reason, 0) + 1
        if reason == "unauthorized":
            self.disconnects["refused"] += 1

    def connection_opened(self, transport: str = OTHER_REQUESTS) -> None:
        """A request or socket of ``transport`` started."""
        self.active_connections += 1
        self.connections_total += 1
        if self.active_connections > self.max_connections:
            self.max_connections = self.active_connections
        traffic = self.traffic_for(transport)
        traffic.connections_active += 1
        traffic.connections_total += 1

    def connection_closed(self, transport: str = OTHER_REQUESTS) -> None:
        """A request or socket of ``transport`` ended."""
        self.active_connections -= 1
        self.traffic_for(transport).connections_active -= 1

    def traffic_for(self, transport: str) -> Traffic:
        """The counters of ``transport`` (made on first use for a name not in :data:`TRANSPORTS`)."""
        traffic = self.traffic.get(transport)
        if traffic is None:
            traffic = self.traffic[transport] = Traffic(transport)
        return traffic

    def bytes_for(self, transport: str) -> Optional[Traffic]:
        """Where a handler of ``transport`` adds payload bytes; ``None`` when bytes are not counted."""
        return self.traffic_for(transport) if self.count_bytes else None

    def on_packet_sent(self, num: int) -> None:
        """``num`` packets went out by other means than a session."""
        self._packets_sent_other += num

    def on_packet_recv(self, num: int) -> None:
        """``num`` packets came in by other means than a session."""
        self._packets_recv_other += num

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
            "packets_dropped": self.packets_dropped,
            "payloads_refused": self.payloads_refused,
            "opening_overflows": self.opening_overflows,
            "queue_overflows": self.queue_overflows,
            "write_overflows": self.write_overflows,
            "broker_connected": int(self.broker_connected),
            "broker_dropped": self.broker_dropped,
            "active_sessions": self.active_sessions,
            "max_sessions": self.max_sessions,
            "active_connections": self.active_connections,
            "max_connections": self.max_connections,
        }
