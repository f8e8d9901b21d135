"""When were CloudWatch alarms in ALARM, in simulated time.

The rollout reads alarm state from moto's CloudWatch backend, so ``SetAlarmState``
(or ``PutMetricAlarm``) through any client is what trips a rollback. moto keeps a
``StateUpdate`` history with real timestamps; converted to simulated time it tells
exactly when an alarm was in ALARM, however rarely anyone polled.
"""

from __future__ import annotations

import math
from typing import Any

from localcloud.clock import SimClock, from_datetime


def alarm_intervals(alarm: Any, clock: SimClock) -> list[tuple[float, float]]:
    """The simulated ``[start, end)`` intervals during which ``alarm`` was in ALARM."""
    states: list[tuple[str, float]] = []
    for entry in getattr(alarm, "history", []):
        if isinstance(entry, tuple) and len(entry) >= 5 and entry[0] == "StateUpdate":
            states.append((str(entry[3]), clock.sim_at(from_datetime(entry[4]))))
    states.append(
        (str(alarm.state_value), clock.sim_at(from_datetime(alarm.state_updated_timestamp)))
    )
    intervals: list[tuple[float, float]] = []
    for index, (state, since) in enumerate(states):
        if state != "ALARM":
            continue
        until = states[index + 1][1] if index + 1 < len(states) else math.inf
        intervals.append((since, until))
    return intervals


def first_alarm(
    cloudwatch: Any, names: list[str], windows: list[tuple[float, float]], clock: SimClock
) -> tuple[float, str] | None:
    """The earliest simulated time inside ``windows`` at which one of ``names`` was in ALARM."""
    best: tuple[float, str] | None = None
    for name in names:
        alarm = cloudwatch.alarms.get(name)
        if alarm is None:
            continue
        for since, until in alarm_intervals(alarm, clock):
            for start, end in windows:
                hit = max(since, start)
                if hit < min(until, end) and (best is None or hit < best[0]):
                    best = (hit, name)
    return best
