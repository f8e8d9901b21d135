"""When were CloudWatch alarms in ALARM, in simulated time.

The rollout reads alarm state from moto's CloudWatch backend: an alarm goes into ALARM
because its metric data crossed the threshold (``alarm_evaluation``), or through
``SetAlarmState``. moto keeps a ``StateUpdate`` history; every timestamp in it is simulated
(the evaluator writes simulated times, and ``alarm_evaluation.restamp`` converts what moto
stamps with the wall clock), so it tells exactly when an alarm was in ALARM, however rarely
anyone polled.
"""

from __future__ import annotations

import math
from typing import Any

from localcloud.clock import from_datetime


def alarm_intervals(alarm: Any) -> list[tuple[float, float]]:
    """The simulated ``[start, end)`` intervals during which ``alarm`` was in ALARM."""
    states: list[tuple[str, float]] = []
    for entry in getattr(alarm, "history", []):
        if isinstance(entry, tuple) and len(entry) >= 5 and entry[0] == "StateUpdate":
            states.append((str(entry[3]), from_datetime(entry[4])))
    states.append((str(alarm.state_value), from_datetime(alarm.state_updated_timestamp)))
    intervals: list[tuple[float, float]] = []
    for index, (state, since) in enumerate(states):
        if state != "ALARM":
            continue
        until = states[index + 1][1] if index + 1 < len(states) else math.inf
        intervals.append((since, until))
    return intervals


def first_alarm(
    cloudwatch: Any, names: list[str], windows: list[tuple[float, float]]
) -> tuple[float, str] | None:
    """The earliest simulated time inside ``windows`` at which one of ``names`` was in ALARM."""
    best: tuple[float, str] | None = None
    for name in names:
        alarm = cloudwatch.alarms.get(name)
        if alarm is None:
            continue
        for since, until in alarm_intervals(alarm):
            for start, end in windows:
                hit = max(since, start)
                if hit < min(until, end) and (best is None or hit < best[0]):
                    best = (hit, name)
    return best
