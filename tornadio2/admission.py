"""Handshake admission: a cap on live sessions and a per-address handshake rate.

Every handshake makes a session that lives until it expires, so one client
that handshakes in a loop could fill the server's memory. :class:`Admission`
decides, before a session is made, whether a handshake may go on: not when
the server already holds ``max_sessions`` sessions, nor when the address has
spent its handshakes (a token bucket of ``burst`` handshakes, refilled at
``rate`` per second). It is free of I/O and of clocks: the caller passes
``now``.
"""

from typing import Dict, List, Optional, Tuple

__all__ = ["Admission", "TokenBuckets", "CAPACITY", "RATE"]

#: The refusal reason when the server holds its maximum of sessions.
CAPACITY = "capacity"
#: The refusal reason when an address handshakes faster than its rate.
RATE = "rate"


class TokenBuckets:
    """One token bucket per address, ``burst`` tokens refilled at ``rate`` per second.

    Only addresses whose bucket is not full are remembered, and at most
    ``max_addresses`` of them: past that, full buckets are forgotten, and
    if that frees too little, every bucket is (a flood from that many
    addresses is beyond what a per-address limit can stop).
    """

    def __init__(self, rate: float, burst: float, max_addresses: int = 100000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        self.rate = float(rate)
        self.burst = float(burst)
        self.max_addresses = max_addresses
        self._buckets: Dict[str, Tuple[float, float]] = {}  # address -> (tokens, when)

    def take(self, address: str, now: float) -> bool:
        """Spend one token of ``address``; ``False`` when it has none left."""
        tokens, when = self._buckets.get(address, (self.burst, now))
        tokens = min(self.burst, tokens + (now - when) * self.rate)
        if tokens < 1:
            self._buckets[address] = (tokens, now)
            return False
        self._buckets[address] = (tokens - 1, now)
        if len(self._buckets) > self.max_addresses:
            self.prune(now)
            if len(self._buckets) > self.max_addresses // 2:
                self._buckets.clear()
        return True

    def prune(self, now: float) -> None:
        """Forget the addresses whose bucket has filled up again."""
        full: List[str] = [address for address, (tokens, when) in self._buckets.items()
                           if tokens + (now - when) * self.rate >= self.burst]
        for address in full:
            del self._buckets[address]

    def __len__(self) -> int:
        return len(self._buckets)


class Admission:
    """Whether a handshake may make a session: capacity first, then the address's rate.

    ``max_sessions`` ``None`` (or 0) means no cap; ``rate`` ``None`` (or 0)
    means no per-address limit.
    """

    def __init__(self, max_sessions: Optional[int] = None, rate: Optional[float] = None,
                 burst: float = 10) -> None:
        self.max_sessions = max_sessions or None
        self.buckets = TokenBuckets(rate, burst) if rate else None

    def refusal(self, address: str, live_sessions: int, now: float) -> Optional[str]:
        """``None`` to admit the handshake, else why not (:data:`CAPACITY` or :data:`RATE`)."""
        if self.max_sessions is not None and live_sessions >= self.max_sessions:
            return CAPACITY
        if self.buckets is not None and not self.buckets.take(address, now):
            return RATE
        return None

    def prune(self, now: float) -> None:
        """Forget addresses that may handshake again freely (from the periodic sweep)."""
        if self.buckets is not None:
            self.buckets.prune(now)
