"""Prometheus metrics of a router, read from its counters when scraped.

This module owns the Prometheus exposition: :class:`TornadioCollector`, a
``prometheus_client`` collector that turns a router's
:class:`~tornadio2.stats.StatsCollector` into metric families at scrape
time, :func:`register`, which also turns on the counting of payload bytes,
and :class:`MetricsHandler`, which serves a registry to Prometheus. The
library counts in plain integers whether or not this module is used, so the
per-message path pays nothing for the exposition; only the byte counts are
new work, and only once :func:`register` asks for them.

Servers of several processes either give each process a metrics port of
its own, or use ``prometheus_client``'s multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``), where :func:`mirror` copies the counters
into ``prometheus_client``'s own counters and gauges once a second and
:class:`MetricsHandler` serves the sum over the processes.

It needs the ``prometheus`` extra (``pip install tornadio2[prometheus]``)
and imports only :mod:`tornadio2.stats` and :mod:`tornadio2.periodic` from
the package; nothing in the package imports it.
"""

import os
from typing import Dict, Iterable, Iterator, List, Optional, Protocol, Tuple, Union

from tornado import web

try:
    from prometheus_client import Counter, Gauge
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
    from prometheus_client.exposition import choose_encoder
    from prometheus_client.multiprocess import MultiProcessCollector
    from prometheus_client.registry import REGISTRY, Collector, CollectorRegistry
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError("tornadio2.metrics needs prometheus_client: "
                      "pip install tornadio2[prometheus]") from exc

from tornadio2.periodic import Callback
from tornadio2.stats import (
    NO_TRANSPORT, OTHER_REQUESTS, TRANSPORTS, StatsCollector, Traffic,
)

__all__ = ["TornadioCollector", "MetricsHandler", "ProcessMirror", "register", "mirror",
           "PREFIX", "MULTIPROC_DIR_VARIABLE"]

#: The prefix of every metric name.
PREFIX = "tornadio2_"
#: The environment variable that turns on ``prometheus_client``'s multiprocess mode.
MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


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
                # Only handlers count bytes: a session without a transport has none.
                if traffic.transport != NO_TRANSPORT or name.startswith("packets"):
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
        yield CounterMetricFamily(PREFIX + "volatile_drops", "Volatile packets dropped because "
                                  "their client could not take them then.",
                                  value=stats.volatile_dropped)
        yield GaugeMetricFamily(PREFIX + "broker_connected", "1 while the broker that carries "
                                "room sends between processes is connected.",
                                value=int(stats.broker_connected))
        yield CounterMetricFamily(PREFIX + "broker_dropped", "Publishes dropped because the "
                                  "broker was away longer than the outage window.",
                                  value=stats.broker_dropped)
        yield from _limit_counters(stats)


def _limit_counters(stats: StatsCollector) -> Iterator[CounterMetricFamily]:
    """What the inbound and outbound limits dropped or closed (see the security guide)."""
    for name, value, text in (
            ("packets_dropped", stats.packets_dropped,
             "Client packets dropped: unreadable, or for an endpoint that does not exist."),
            ("payloads_refused", stats.payloads_refused,
             "Sessions closed for a payload over the packet budget."),
            ("opening_overflows", stats.opening_overflows,
             "Sessions closed for too many packets waiting for an endpoint still opening."),
            ("write_overflows", stats.write_overflows,
             "Sessions closed because their socket's unwritten bytes passed the limit.")):
        yield CounterMetricFamily(PREFIX + name, text, value=value)


def _buckets(stats: StatsCollector, extra: str) -> Iterator[Traffic]:
    """The counters of every transport (a handler's own name too), then those of ``extra``."""
    others = sorted(set(stats.traffic) - set(TRANSPORTS) - {NO_TRANSPORT, OTHER_REQUESTS})
    for name in TRANSPORTS + tuple(others) + (extra,):
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


class ProcessMirror:
    """Copies a router's metrics into ``prometheus_client`` counters and gauges.

    For the multiprocess mode: those objects write to the files of
    ``PROMETHEUS_MULTIPROC_DIR``, which :class:`MetricsHandler` adds up over
    every process. Counters grow by what this process counted since the
    last :meth:`sync`; gauges are summed over live processes (``livesum``).
    """

    def __init__(self, router: _Router) -> None:
        self.collector = TornadioCollector(router)
        self._metrics: Dict[str, Union[Counter, Gauge]] = {}
        self._last: Dict[Tuple[str, Tuple[str, ...]], float] = {}
        self.timer: Optional[Callback] = None

    def sync(self) -> None:
        """Copy every metric's present value."""
        for family in self.collector.collect():
            for sample in family.samples:
                labels = tuple(sample.labels.values())
                metric = self._metric(family, list(sample.labels))
                child = metric.labels(*labels) if labels else metric
                if isinstance(child, Gauge):
                    child.set(sample.value)
                    continue
                key = (family.name, labels)
                delta = sample.value - self._last.get(key, 0)
                self._last[key] = sample.value
                if delta > 0:
                    child.inc(delta)

    def _metric(self, family: Metric, labels: List[str]) -> Union[Counter, Gauge]:
        metric = self._metrics.get(family.name)
        if metric is None:
            # registry=None: the multiprocess collector reads them from their files.
            if family.type == "counter":
                metric = Counter(family.name, family.documentation, labels, registry=None)
            else:
                metric = Gauge(family.name, family.documentation, labels, registry=None,
                               multiprocess_mode="livesum")
            self._metrics[family.name] = metric
        return metric

    def start(self, interval: float = 1.0) -> None:
        """Sync every ``interval`` seconds on the current IOLoop, until :meth:`stop`."""
        if self.timer is None:
            self.timer = Callback(self.sync, interval)
            self.timer.start()

    def stop(self) -> None:
        """Stop the syncs :meth:`start` began, after a last one."""
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
        self.sync()


def mirror(router: _Router, interval: float = 1.0) -> ProcessMirror:
    """In each process of a multiprocess server: copy ``router``'s metrics every ``interval`` s.

    Call it in the process that serves the router (after forking), with
    ``PROMETHEUS_MULTIPROC_DIR`` set before ``prometheus_client`` was first
    imported; it turns on byte counting as :func:`register` does.
    """
    if not os.environ.get(MULTIPROC_DIR_VARIABLE):
        raise RuntimeError("mirror() needs %s (see the monitoring guide)" % MULTIPROC_DIR_VARIABLE)
    process_mirror = ProcessMirror(router)
    router.stats.count_bytes = True
    process_mirror.start(interval)
    return process_mirror


class MetricsHandler(web.RequestHandler):
    """Serves a Prometheus registry (the default one unless told) in the text format.

    Mount it where only your monitoring can reach it::

        (r"/metrics", MetricsHandler)                         # the default registry
        (r"/metrics", MetricsHandler, {"registry": registry})

    A scraper that asks for OpenMetrics (``Accept``) gets it. Without a
    registry and with ``PROMETHEUS_MULTIPROC_DIR`` set, it serves the sum of
    every process's metrics, read from that folder.
    """

    def initialize(  # type: ignore[override]
            self, registry: Optional[CollectorRegistry] = None) -> None:
        if registry is None and os.environ.get(MULTIPROC_DIR_VARIABLE):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        self.registry = registry if registry is not None else REGISTRY

    def get(self) -> None:
        encoder, content_type = choose_encoder(self.request.headers.get("Accept", ""))
        self.set_header("Content-Type", content_type)
        self.set_header("Cache-Control", "no-store")
        self.finish(encoder(self.registry))
