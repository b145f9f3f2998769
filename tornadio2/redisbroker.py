"""The Redis broker: room sends shared between processes over Redis pub/sub.

Needs the optional ``redis`` extra (``pip install 'tornadio2[redis]'``); it
is the only module that imports ``redis``. Every process subscribes to one
channel; a send is published once, as a small JSON message
(:mod:`tornadio2.broker`), and every other process applies it to its own
rooms. Publishing never blocks the caller: messages wait in a backlog that a
writer task drains in pipelined batches.

When Redis goes away, local delivery goes on. The listener reconnects with
a capped, jittered backoff that starts again from the bottom after each
success. Publishes wait in the backlog; once the listener is subscribed
again, and the other processes are too (as many subscribers as were counted
before the outage, or :data:`SETTLE_MAX` seconds), the ones younger than the
outage window are sent and the older ones are dropped, counted in
``stats.broker_dropped`` with one log line per outage. A batch whose
pipeline failed is sent again whole; each publish carries a sequence number,
so that the other processes apply the part that had gone through only once.
"""

import asyncio
import collections
import logging
import random
import time
from typing import Any, Callable, Deque, List, Optional, Tuple
from urllib.parse import SplitResult, unquote, urlsplit

from tornadio2.broker import (DEFAULT_CHANNEL, Message, SeenSequences, decode, encode,
                              new_host_id)
from tornadio2.exceptions import BrokerUnavailable

try:
    import redis
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry as AsyncRetry
    from redis.backoff import NoBackoff
    from redis.retry import Retry
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("the Redis broker needs the 'redis' package: "
                      "pip install 'tornadio2[redis]'") from exc

__all__ = ["RedisBroker", "redis_client", "async_redis_client", "close_client", "close_async_client",
           "redact"]

logger = logging.getLogger("tornadio2.redisbroker")

#: Seconds before the first reconnection attempt; doubles up to :data:`RETRY_MAX`.
RETRY_FIRST = 0.05
#: The most seconds between two reconnection attempts.
RETRY_MAX = 1.0
#: Seconds to connect (at start, and each attempt after).
CONNECT_TIMEOUT = 3.0
#: Seconds to wait, after an outage, for the other processes to subscribe again.
SETTLE_MAX = 2 * RETRY_MAX + 1.0
#: Seconds between two counts of the processes subscribed (what an outage waits for).
PEER_REFRESH = 1.0
#: Messages published in one pipeline.
BATCH = 500
#: Messages kept during an outage at most; beyond, the oldest are dropped.
MAX_BACKLOG = 100_000
#: Errors that mean "Redis is not there" rather than a bug.
REDIS_DOWN = (redis.RedisError, OSError, asyncio.TimeoutError)


def redact(url: str) -> str:
    """``url`` without its password, for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return SplitResult(parts.scheme, netloc, parts.path, parts.query, parts.fragment).geturl()


def _sentinel_parts(url: str) -> Tuple[List[Tuple[str, int]], str, dict]:
    """``redis+sentinel://[:password@]host:port[,host:port]/service[/db]`` split up."""
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    sentinels = []
    for item in hosts.split(","):
        host, _, port = item.rpartition(":")
        sentinels.append((host or item, int(port) if host else 26379))
    path = [unquote(p) for p in parts.path.split("/") if p]
    if not path:
        raise ValueError("a sentinel URL names its service: redis+sentinel://host:port/service")
    kwargs: dict = {"db": int(path[1]) if len(path) > 1 else 0}
    if parts.password is not None:
        kwargs["password"] = unquote(parts.password)
    if parts.username:
        kwargs["username"] = unquote(parts.username)
    if parts.scheme.startswith("rediss"):
        kwargs["ssl"] = True
    return sentinels, path[0], kwargs


def async_redis_client(url: str, **options: Any) -> "aioredis.Redis":
    """A ``redis.asyncio`` client for ``url`` (sentinel URLs included), without retries."""
    options.setdefault("retry", AsyncRetry(NoBackoff(), 0))
    options.setdefault("socket_connect_timeout", CONNECT_TIMEOUT)
    if urlsplit(url).scheme.endswith("+sentinel"):
        from redis.asyncio.sentinel import Sentinel
        sentinels, service, kwargs = _sentinel_parts(url)
        options.update(kwargs)
        return Sentinel(sentinels, socket_connect_timeout=CONNECT_TIMEOUT).master_for(
            service, **options)
    return aioredis.from_url(url, **options)


def redis_client(url: str, **options: Any) -> "redis.Redis":
    """A blocking ``redis`` client for ``url`` (sentinel URLs included), without retries."""
    options.setdefault("retry", Retry(NoBackoff(), 0))
    options.setdefault("socket_connect_timeout", CONNECT_TIMEOUT)
    if urlsplit(url).scheme.endswith("+sentinel"):
        from redis.sentinel import Sentinel
        sentinels, service, kwargs = _sentinel_parts(url)
        options.update(kwargs)
        return Sentinel(sentinels, socket_connect_timeout=CONNECT_TIMEOUT).master_for(
            service, **options)
    return redis.Redis.from_url(url, **options)


class RedisBroker:
    """Shares room sends with every process subscribed to ``channel`` at ``url``.

    ``outage_window``: seconds a publish may wait for Redis before it is
    dropped. ``start_degraded``: :meth:`start` does not fail when Redis is
    unreachable. ``stats`` (a :class:`~tornadio2.stats.StatsCollector`)
    gets the health flag and the drop counter.
    """

    shared = True

    def __init__(self, url: str, channel: str = DEFAULT_CHANNEL, outage_window: float = 5.0,
                 start_degraded: bool = False, stats: Any = None) -> None:
        self.url = url
        self.channel = channel
        self.outage_window = outage_window
        self.start_degraded = start_degraded
        self.stats = stats
        self.host_id = new_host_id()
        #: Messages of other processes applied, and publishes handed to Redis.
        self.received = 0
        self.published = 0
        #: Publishes dropped (outage longer than the window, or backlog full).
        self.dropped = 0
        #: Messages of other processes that came a second time (a batch sent again), not applied.
        self.duplicates = 0
        self._seq = 0  # of our publishes, so that receivers can refuse a second copy
        self._seen = SeenSequences()
        self._backlog: Deque[Tuple[float, str]] = collections.deque()
        self._apply: Callable[[Message], Any] = lambda message: None
        self._client: Optional[aioredis.Redis] = None
        # Made in start(), on the running loop (a router is often made before it).
        self._wake: Optional[asyncio.Event] = None
        self._ready: Optional[asyncio.Event] = None  # subscribed, and the others had time to
        self._tasks: List["asyncio.Future[None]"] = []
        self._peers = 0  # subscribers the last publish reached
        self._outage_since: Optional[float] = None
        self._outage_dropped = 0
        self._closing: Optional["asyncio.Future[None]"] = None
        self._set_connected(False)

    @property
    def peers(self) -> int:
        """Processes subscribed to the channel (this one included), as last counted."""
        return self._peers

    @property
    def connected(self) -> bool:
        """Whether the listener is subscribed now."""
        return self._ready is not None and self._ready.is_set()

    def _set_connected(self, value: bool) -> None:
        if self.stats is not None:
            self.stats.broker_connected = value

    async def start(self, apply: Callable[[Message], Any], degraded: bool = False) -> None:
        """Subscribe, then call ``apply`` with every message of another process.

        Raises :class:`BrokerUnavailable` if Redis cannot be reached, unless
        ``degraded`` or ``start_degraded``: then it retries in the background.
        """
        self._apply = apply
        self._wake, self._ready = asyncio.Event(), asyncio.Event()
        if self._backlog:
            self._wake.set()  # published before the start
        self._client = async_redis_client(self.url, socket_timeout=CONNECT_TIMEOUT)
        try:
            await asyncio.wait_for(self._client.ping(), CONNECT_TIMEOUT)
        except REDIS_DOWN as exc:
            if not (degraded or self.start_degraded):
                await self._client.aclose()
                raise BrokerUnavailable("cannot reach the broker at %s: %s"
                                        % (redact(self.url), exc)) from exc
            logger.warning("broker %s unreachable (%s); starting degraded, retrying",
                           redact(self.url), exc)
            self._outage_since = time.monotonic()
        self._tasks = [asyncio.ensure_future(self._listen()), asyncio.ensure_future(self._write()),
                       asyncio.ensure_future(self._count_peers())]
        if self._outage_since is None:
            await asyncio.wait_for(self._ready.wait(), CONNECT_TIMEOUT)

    def stop(self) -> None:
        """Stop listening and publishing; what is still in the backlog is dropped.

        The connections close in the background; :meth:`wait_closed` waits for it.
        """
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if self._ready is not None:
            self._ready.clear()
        self._set_connected(False)
        if self._client is not None:
            client, self._client = self._client, None
            self._closing = asyncio.ensure_future(_close_after(tasks, client))

    async def wait_closed(self) -> None:
        """Wait until :meth:`stop` has closed the connections to Redis."""
        if self._closing is not None:
            await self._closing

    # -- publishing -----------------------------------------------------------------

    def publish(self, message: Message) -> None:
        """Queue ``message`` for the other processes (returns at once)."""
        self._seq += 1
        self._backlog.append((time.monotonic(), encode(message, self.host_id, self._seq)))
        if len(self._backlog) > MAX_BACKLOG:
            self._backlog.popleft()
            self._count_dropped(1)
        if self._wake is not None:
            self._wake.set()

    async def _write(self) -> None:
        delay = RETRY_FIRST
        while True:
            if not self._backlog:
                self._wake.clear()
                await self._wake.wait()
                continue
            if not self._ready.is_set():
                await self._ready.wait()
                continue
            try:
                await self._send_batch()
                delay = RETRY_FIRST
            except REDIS_DOWN as exc:
                logger.debug("publish to %s failed: %s", redact(self.url), exc)
                await asyncio.sleep(_jitter(delay))
                delay = min(delay * 2, RETRY_MAX)
                self._drop_older(time.monotonic())

    async def _send_batch(self) -> None:
        assert self._client is not None
        batch = [self._backlog[i][1] for i in range(min(BATCH, len(self._backlog)))]
        async with self._client.pipeline(transaction=False) as pipe:
            for data in batch:
                pipe.publish(self.channel, data)
            receivers = await pipe.execute()
        for _ in batch:
            self._backlog.popleft()
        self.published += len(batch)
        self._peers = max(receivers) if receivers else self._peers

    def _drop_older(self, now: float) -> None:
        """Drop the publishes that waited longer than the outage window by ``now``."""
        dropped = 0
        while self._backlog and now - self._backlog[0][0] > self.outage_window:
            self._backlog.popleft()
            dropped += 1
        if dropped:
            self._count_dropped(dropped)

    def _count_dropped(self, count: int) -> None:
        self.dropped += count
        if self.stats is not None:
            self.stats.broker_dropped += count
        if self._outage_dropped == 0:
            logger.error("broker %s: away longer than %ss; dropping publishes for other "
                         "processes (local delivery goes on)", redact(self.url),
                         self.outage_window)
        self._outage_dropped += count

    # -- listening ------------------------------------------------------------------

    async def _listen(self) -> None:
        delay = RETRY_FIRST
        while True:
            assert self._client is not None
            pubsub = self._client.pubsub()
            try:
                await asyncio.wait_for(pubsub.subscribe(self.channel), CONNECT_TIMEOUT)
                await self._subscribed()
                delay = RETRY_FIRST  # a success: the next outage starts from the bottom
                await self._receive(pubsub)
                self._lost(ConnectionError("the subscription ended"))
            except REDIS_DOWN as exc:
                self._lost(exc)
            finally:
                await _close_quietly(pubsub)
            await asyncio.sleep(_jitter(delay))
            delay = min(delay * 2, RETRY_MAX)

    async def _receive(self, pubsub: Any) -> None:
        async for item in pubsub.listen():
            if item.get("type") != "message":
                continue
            message = decode(item.get("data"))
            if message is None or message.get("host_id") == self.host_id:
                continue  # not a message, or ours (delivered locally already)
            if not self._seen.is_new(message):
                self.duplicates += 1  # part of a batch that was sent again after a failure
                continue
            self.received += 1
            try:
                self._apply(message)
            except Exception:  # an application's close hook, say: keep listening
                logger.exception("applying a broker message failed: %.200r", message)

    async def _subscribed(self) -> None:
        back_at = time.monotonic()
        if self._outage_since is not None:
            await self._settle()
            self._drop_older(back_at)
            logger.warning("broker %s back after %.1fs; %d publishes dropped",
                           redact(self.url), back_at - self._outage_since, self._outage_dropped)
        self._outage_since = None
        self._outage_dropped = 0
        self._ready.set()
        self._set_connected(True)

    async def _settle(self) -> None:
        """Wait until as many processes subscribe as the last publish reached."""
        assert self._client is not None
        deadline = time.monotonic() + SETTLE_MAX
        while time.monotonic() < deadline:
            counts = await self._client.pubsub_numsub(self.channel)
            if counts and counts[0][1] >= self._peers:
                return
            await asyncio.sleep(RETRY_FIRST)

    async def _count_peers(self) -> None:
        """Keep :attr:`_peers` current while connected: after an outage, wait for as many."""
        while True:
            await self._ready.wait()
            try:
                assert self._client is not None
                counts = await self._client.pubsub_numsub(self.channel)
                self._peers = int(counts[0][1]) if counts else self._peers
            except REDIS_DOWN:
                pass  # the listener notices outages
            await asyncio.sleep(PEER_REFRESH)

    def _lost(self, exc: BaseException) -> None:
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            logger.error("broker %s lost (%s); local delivery goes on, reconnecting",
                         redact(self.url), exc)
        self._ready.clear()
        self._set_connected(False)


def _jitter(delay: float) -> float:
    return delay * (0.5 + random.random() / 2)


def close_client(client: Any) -> None:
    """Close a client of :func:`redis_client`, its sentinel connections included."""
    sentinels = getattr(client.connection_pool, "sentinel_manager", None)
    try:
        client.close()
        for sentinel in getattr(sentinels, "sentinels", ()):
            sentinel.close()
    except REDIS_DOWN:
        pass


async def close_async_client(client: Any) -> None:
    """Close a client of :func:`async_redis_client`, its sentinel connections included."""
    sentinels = getattr(client.connection_pool, "sentinel_manager", None)
    try:
        await client.aclose()
        if sentinels is not None and hasattr(sentinels, "aclose"):
            await sentinels.aclose()
    except REDIS_DOWN:
        pass


async def _close_after(tasks: List["asyncio.Future[None]"], client: Any) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)
    await close_async_client(client)


async def _close_quietly(pubsub: Any) -> None:
    try:
        await pubsub.aclose()
    except REDIS_DOWN:
        pass
