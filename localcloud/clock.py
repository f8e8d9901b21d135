"""A simulated clock: real time, compressed by a constant factor.

Simulated time starts at the real wall-clock time the clock is created and runs
``speed`` times faster: ``now() = start + (real elapsed) × speed``. Every state
transition of the local cloud is decided from simulated timestamps (never from how
many polls happened), so compressing the clock changes how long a rollout takes in
real time, not how it ends.
"""

from __future__ import annotations

import datetime as dt
import time


class SimClock:
    """``speed`` simulated seconds pass per real second (``speed=600``: 1 sim minute per 0.1 s)."""

    def __init__(self, speed: float = 600.0) -> None:
        if not speed > 0:
            raise ValueError(f"SimClock speed must be > 0, got {speed!r}")
        self.speed = float(speed)
        self._real_start = time.time()
        self._sim_start = self._real_start

    def now(self) -> float:
        """Simulated epoch seconds (wall-clock based, like moto's own timestamps)."""
        return self.sim_at(time.time())

    def now_datetime(self) -> dt.datetime:
        return to_datetime(self.now())

    def sim_at(self, real_epoch: float) -> float:
        """The simulated time at a real wall-clock epoch (e.g. a moto timestamp)."""
        return self._sim_start + (real_epoch - self._real_start) * self.speed

    def real_seconds(self, sim_seconds: float) -> float:
        """How long ``sim_seconds`` of simulated time last in real seconds."""
        return max(0.0, sim_seconds) / self.speed

    def sleep(self, sim_seconds: float) -> None:
        """Sleep ``sim_seconds`` of simulated time (``sim_seconds / speed`` real seconds)."""
        time.sleep(self.real_seconds(sim_seconds))

    def sleep_until(self, sim_epoch: float) -> None:
        self.sleep(sim_epoch - self.now())


def to_datetime(epoch: float) -> dt.datetime:
    """Naive UTC datetime, the form moto stores timestamps in."""
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).replace(tzinfo=None)


def from_datetime(value: dt.datetime) -> float:
    """Epoch seconds of a moto timestamp (naive means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()
