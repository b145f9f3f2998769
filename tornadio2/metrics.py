"""Prometheus metrics of a router, read from its counters when scraped.

This module owns the Prometheus exposition: :class:`TornadioCollector`, a
``prometheus_client`` collector that turns a router's
:class:`~tornadio2.stats.StatsCollector` into metric families at scrape
time, :func:`register`, which also turns on the counting of payload bytes,
and :class:`MetricsHandler`, which serves a registry to Prometheus. The
library counts in plain integers whether or not this module is used, so the
per-message path pays nothing for the exposition; only the byte counts are
new work, and only once :func:`register` asks for them.

It needs the ``prometheus`` extra (``pip install tornadio2[prometheus]``)
and imports only :mod:`tornadio2.stats` from the package; nothing in the
package imports it.
"""

from typing import Iterable, Iterator, Optional, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import REGISTRY, Collector, CollectorRegistry
from tornado import web

from tornadio2.stats import (
    NO_TRANSPORT, OTHER_REQUESTS, TRANSPORTS, StatsCollector, Traffic,
)

__all__ = ["TornadioCollector", "MetricsHandler", "register", "PREFIX"]

#: The prefix of every metric name.
PREFIX = "tornadio2_"


class _Session(Protocol):
    @property
    def pending_acks(self) -> int: ...


class _Router(Protocol):
    """What the collector reads of a router: its counters and its live sessions."""

    stats: StatsCollector

    @property
    def sessions(self) -> Iterable[_Session]:
        """The live sessions."""


class TornadioCollector(Collector):
    """A router's counters as Prometheus metric families, built at each scrape.

    Labels carry only the transport and the reason: never a session id or
    anything a client sent. See the monitoring guide for every metric.
    """

    def __init__(self, router: _Router) -> None:
        self.router = router

    def collect(self) -> Iterator[Metric]:
        """Every metric, with the values of this moment."""
        stats = self.router.stats
        yield from self._sessions(stats)
        yield from self._connections(stats)
        yield from self._traffic(stats)
        yield from self._reasons(stats)
        acks = GaugeMetricFamily(PREFIX + "acks_pending",
                                 "ACKs the application waits for from clients.")
        acks.add_metric([], sum(session.pending_acks for session in self.router.sessions))
        yield acks

    @staticmethod
    def _sessions(stats: StatsCollector) -> Iterator[Metric]:
        active = GaugeMetricFamily(
            PREFIX + "sessions_active", "Sessions alive, by the transport they last used "
            "('none': handshaken, no transport yet).", labels=["transport"])
        for traffic in _buckets(stats, NO_TRANSPORT):
            active.add_metric([traffic.transport], traffic.sessions_active)
        yield active
        yield CounterMetricFamily(PREFIX + "sessions_started",
                                  "Sessions started (handshakes accepted).",
                                  value=stats.sessions_total)

    @staticmethod
    def _connections(stats: StatsCollector) -> Iterator[Metric]:
        active = GaugeMetricFamily(
            PREFIX + "connections_active", "Open sockets and HTTP requests being served, by "
            "transport ('other': handshakes and other requests).", labels=["transport"])
        started = CounterMetricFamily(
            PREFIX + "connections_started", "Sockets opened and HTTP requests received, by "
            "transport ('other': handshakes and other requests).", labels=["transport"])
        for traffic in _buckets(stats, OTHER_REQUESTS):
            active.add_metric([traffic.transport], traffic.connections_active)
            started.add_metric([traffic.transport], traffic.connections_total)
        yield active
        yield started

    @staticmethod
    def _traffic(stats: StatsCollector) -> Iterator[Metric]:
        families = [
            (CounterMetricFamily(PREFIX + "received_packets", "Socket.IO packets received, "
                                 "by transport.", labels=["transport"]), "packets_in"),
            (CounterMetricFamily(PREFIX + "sent_packets", "Socket.IO packets sent, "
                                 "by transport.", labels=["transport"]), "packets_out"),
            (CounterMetricFamily(PREFIX + "received_bytes", "Payload bytes received (UTF-8 "
                                 "packets and their framing), by transport.",
                                 labels=["transport"], unit="bytes"), "bytes_in"),
            (CounterMetricFamily(PREFIX + "sent_bytes", "Payload bytes sent (UTF-8 packets and "
                                 "their framing), by transport.", labels=["transport"],
                                 unit="bytes"), "bytes_out"),
        ]
        for traffic in _buckets(stats, NO_TRANSPORT):
            for family, name in families:
                family.add_metric([traffic.transport], getattr(traffic, name))
        for family, _ in families:
            yield family

    @staticmethod
    def _reasons(stats: StatsCollector) -> Iterator[Metric]:
        disconnects = CounterMetricFamily(PREFIX + "disconnects", "Sessions ended, by reason.",
                                          labels=["reason"])
        for reason, count in stats.disconnects.items():
            disconnects.add_metric([reason], count)
        yield disconnects
        refusals = CounterMetricFamily(PREFIX + "handshake_refusals", "Handshakes refused, "
                                       "by reason.", labels=["reason"])
        for reason, count in stats.handshake_refusals.items():
            refusals.add_metric([reason], count)
        yield refusals
        yield CounterMetricFamily(PREFIX + "queue_overflows", "Sessions closed because too "
                                  "many packets waited for their client.",
                                  value=stats.queue_overflows)
        yield CounterMetricFamily(PREFIX + "volatile_drops", "Volatile packets dropped "
                                  "(always 0: there are no volatile sends yet).",
                                  value=stats.volatile_drops)


def _buckets(stats: StatsCollector, extra: str) -> Iterator[Traffic]:
    """The counters of every transport, then those of ``extra``."""
    for name in TRANSPORTS + (extra,):
        yield stats.traffic_for(name)


def register(router: _Router, registry: CollectorRegistry = REGISTRY) -> TornadioCollector:
    """Expose ``router``'s metrics in ``registry`` and start counting payload bytes.

    Call it once per router, before serving; a registry holds the metrics of
    one router (give each router its own registry and handler otherwise).
    """
    collector = TornadioCollector(router)
    registry.register(collector)
    router.stats.count_bytes = True
    return collector


class MetricsHandler(web.RequestHandler):
    """Serves a Prometheus registry (the default one unless told) in the text format.

    Mount it where only your monitoring can reach it::

        (r"/metrics", MetricsHandler)                         # the default registry
        (r"/metrics", MetricsHandler, {"registry": registry})

    A scraper that asks for OpenMetrics (``Accept``) gets it.
    """

    def initialize(  # type: ignore[override]
            self, registry: Optional[CollectorRegistry] = None) -> None:
        self.registry = registry if registry is not None else REGISTRY

    def get(self) -> None:
        encoder, content_type = choose_encoder(self.request.headers.get("Accept", ""))
        self.set_header("Content-Type", content_type)
        self.set_header("Cache-Control", "no-store")
        self.finish(encoder(self.registry))
