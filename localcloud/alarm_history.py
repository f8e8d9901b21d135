"""CloudWatch DescribeAlarmHistory (moto has none), from the state history moto keeps.

moto's alarm history holds each *previous* state (reason, reason data, value, since when);
with the current state it gives every transition: ``StateUpdate`` items with CloudWatch's
``HistorySummary`` ("Alarm updated from OK to ALARM") and ``HistoryData`` (old and new
state with reasons). Added to moto's CloudWatch response class, so it answers in whatever
protocol the client spoke (CBOR for current botocore).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

from localcloud.clock import from_datetime


def transitions(alarm: Any) -> list[dict[str, Any]]:
    """Every state change of ``alarm``, oldest first, as AlarmHistoryItems."""
    states = [
        (entry[3], entry[1], entry[2], entry[4])
        for entry in alarm.history
        if isinstance(entry, tuple) and len(entry) >= 5 and entry[0] == "StateUpdate"
    ]
    states.append(
        (
            alarm.state_value,
            alarm.state_reason,
            alarm.state_reason_data,
            alarm.state_updated_timestamp,
        )
    )
    items = []
    for (old, old_reason, _, _), (new, reason, data, since) in itertools.pairwise(states):
        history: dict[str, Any] = {
            "version": "1.0",
            "oldState": {"stateValue": old, "stateReason": old_reason},
            "newState": {"stateValue": new, "stateReason": reason},
        }
        if data and data != "{}":
            history["newState"]["stateReasonData"] = json.loads(data)
        items.append(
            {
                "AlarmName": alarm.name,
                "AlarmType": "CompositeAlarm" if alarm.rule else "MetricAlarm",
                "Timestamp": since,
                "HistoryItemType": "StateUpdate",
                "HistorySummary": f"Alarm updated from {old} to {new}",
                "HistoryData": json.dumps(history),
            }
        )
    return items


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return from_datetime(value)
    if isinstance(value, int | float):
        return float(value)
    return from_datetime(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def describe_alarm_history(self: Any) -> Any:
    """The moto response method (``self`` is moto's CloudWatchResponse)."""
    from moto.core.responses import ActionResult

    name = self._get_param("AlarmName")
    kind = self._get_param("HistoryItemType")
    start, end = _epoch(self._get_param("StartDate")), _epoch(self._get_param("EndDate"))
    newest_first = self._get_param("ScanBy", "TimestampDescending") == "TimestampDescending"
    limit = int(self._get_param("MaxRecords") or 100)
    items: list[dict[str, Any]] = []
    for alarm in self.cloudwatch_backend.alarms.values():
        if name and alarm.name != name:
            continue
        items += transitions(alarm)
    if kind and kind != "StateUpdate":
        items = []
    items = [
        i
        for i in items
        if (start is None or from_datetime(i["Timestamp"]) >= start)
        and (end is None or from_datetime(i["Timestamp"]) <= end)
    ]
    items.sort(key=lambda i: i["Timestamp"], reverse=newest_first)
    return ActionResult({"AlarmHistoryItems": items[:limit]})


def install() -> None:
    """Teach moto's CloudWatch responses DescribeAlarmHistory (idempotent)."""
    from moto.cloudwatch.responses import CloudWatchResponse

    CloudWatchResponse.describe_alarm_history = describe_alarm_history  # type: ignore[attr-defined]
