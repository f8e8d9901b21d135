"""Time as the pipeline sees it: every wait is in (simulated) seconds on an injectable clock.

Against real AWS the clock is the wall clock. Against the local cloud (a loopback
``AWS_ENDPOINT_URL``) it asks ``<endpoint>/_localcloud/clock`` for the compression
factor, so a 600 s canary bake sleeps 1 s of real time at speed 600 - and the
outcome of a rollout never depends on the speed (FAULTS 22).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Protocol

from pipelines.aws import is_loopback


class Clock(Protocol):
    def now(self) -> float:
        """Seconds (simulated when compressed); only differences are meaningful."""
        ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass
class ScaledClock:
    """Simulated seconds run ``speed`` times faster than real ones, from ``origin``."""

    speed: float
    origin: float = 0.0
    _real_start: float = field(default_factory=time.monotonic)

    def now(self) -> float:
        return self.origin + (time.monotonic() - self._real_start) * self.speed

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)


@dataclass
class FakeClock:
    """For tests: time moves only when someone sleeps."""

    t: float = 0.0
    slept: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.t += max(seconds, 0.0)


def local_cloud_clock(
    endpoint: str, timeout_seconds: float = 5.0, samples: int = 3
) -> ScaledClock | None:
    """The local cloud's clock (speed and simulated now), or None if it has none.

    The server's ``now`` is taken to be the midpoint of the request that returned it, and
    the sample with the shortest round trip wins: at speed 100 a 50 ms stall would
    otherwise put our clock 5 simulated seconds behind the cloud's.
    """
    url = endpoint.rstrip("/") + "/_localcloud/clock"
    best: tuple[float, float, float] | None = None  # (round trip, server now, real midpoint)
    speed = 0.0
    for _ in range(max(samples, 1)):
        before = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=timeout_seconds) as response:
                body = json.loads(response.read().decode())
            speed = float(body["speed"])
            now = float(body.get("now", time.time()))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        after = time.monotonic()
        if best is None or after - before < best[0]:
            best = (after - before, now, (before + after) / 2)
    if best is None or speed <= 0:
        return None
    _, now, midpoint = best
    return ScaledClock(speed=speed, origin=now, _real_start=midpoint)


def clock_for(endpoint: str | None) -> Clock:
    """The clock matching where the calls go: scaled for a loopback local cloud, else real."""
    if endpoint and is_loopback(endpoint):
        scaled = local_cloud_clock(endpoint)
        if scaled is not None:
            return scaled
    return RealClock()
