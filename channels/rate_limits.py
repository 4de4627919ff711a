"""Token buckets, one per key (a socket, an address): `rate` tokens a second, at most `burst`."""

from __future__ import annotations

import time
from typing import Dict, Tuple

MAX_KEYS = 100_000  # beyond this, full (idle) buckets are forgotten


class TokenBuckets:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.state: Dict[str, Tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str) -> bool:
        """One token for `key`, if it has one."""
        now = time.monotonic()
        tokens, when = self.state.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - when) * self.rate)
        allowed = tokens >= 1
        self.state[key] = (tokens - 1 if allowed else tokens, now)
        if len(self.state) > MAX_KEYS:
            self._forget_idle(now)
        return allowed

    def forget(self, key: str) -> None:
        self.state.pop(key, None)

    def _forget_idle(self, now: float) -> None:
        full = [k for k, (t, w) in self.state.items() if t + (now - w) * self.rate >= self.burst]
        for key in full:
            del self.state[key]
