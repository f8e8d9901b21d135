"""``Monitoring`` under Pulumi mocks: exact resources, names and inputs; the dashboard body."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from pulumi.output import Unknown

from components.config import EndpointConfig, MonitoringConfig
from components.monitoring import (
    Monitoring,
    MonitoringArgs,
    alerts_topic_policy,
    dashboard_body,
)
from tests.unit.mocking import ACCOUNT, REGION, Recorder, resolve

KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-0000-1111-2222-333344445555"
PREFIX = "mlops-stack-prod"
TAGS = {"environment": "prod", "owner": "ml-platform", "cost-centre": "cc-42"}


def _mocks(preview: bool = False) -> Recorder:
    mocks = Recorder()
    pulumi.runtime.set_mocks(mocks, project="mlops-stack", stack="prod", preview=preview)
    return mocks


@pytest.fixture
def mocks() -> Recorder:
    return _mocks()


GPU = EndpointConfig.model_validate(
    {
        "name": "churn",
        "instance_type": "ml.g5.12xlarge",
        "initial_instance_count": 2,
        "deployment": {
            "strategy": "CANARY",
            "canary": {"size": {"type": "INSTANCE_COUNT", "value": 1}, "bake_seconds": 600},
            "rollback_alarms": ["5xx", "latency", "gpu_memory"],
            "extra_rollback_alarm_names": ["team-kpi"],
        },
    }
)
CPU = EndpointConfig.model_validate(
    {"name": "ranker", "instance_type": "ml.c5.xlarge", "allow_cpu": True, "variant_name": "Blue"}
)
MONITORING = MonitoringConfig(
    log_retention_days=731, alarm_emails=["oncall@example.com", "ml.team@example.org"]
)


def _args(**overrides: Any) -> MonitoringArgs:
    values: dict[str, Any] = {
        "project": "mlops-stack",
        "environment": "prod",
        "endpoints": [GPU, CPU],
        "monitoring": MONITORING,
        "kms_key_arn": KEY,
        "tags": TAGS,
        "region": REGION,
    }
    return MonitoringArgs(**{**values, **overrides})


def test_alarms_exact(mocks: Recorder) -> None:
    resolve(lambda: Monitoring("mon", _args()).alarm_arns)
    alarms = {r.name: r.inputs for r in mocks.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert sorted(alarms) == sorted(
        [f"mon-churn-{k}" for k in ("5xx", "latency", "errors", "gpu_utilization", "gpu_memory")]
        + [f"mon-ranker-{k}" for k in ("5xx", "latency", "errors")]
    )
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:{PREFIX}-alerts"
    churn_dims = {"EndpointName": f"{PREFIX}-churn", "VariantName": "AllTraffic"}
    for name, inputs in alarms.items():
        assert inputs["actionsEnabled"] is True, name
        assert inputs["alarmActions"] == [topic] and inputs["okActions"] == [topic], name
        assert inputs["treatMissingData"] == "notBreaching", name
        assert inputs["period"] == 60 and inputs["evaluationPeriods"] == 3, name
    latency = alarms["mon-churn-latency"]
    assert latency["name"] == f"{PREFIX}-churn-latency"
    assert latency["namespace"] == "AWS/SageMaker"
    assert latency["metricName"] == "ModelLatency"
    assert latency["extendedStatistic"] == "p99" and "statistic" not in latency
    assert latency["threshold"] == 1_000_000  # 1000 ms in µs
    assert latency["comparisonOperator"] == "GreaterThanThreshold"
    assert latency["dimensions"] == churn_dims
    five = alarms["mon-churn-5xx"]
    assert (five["metricName"], five["statistic"], five["threshold"]) == (
        "Invocation5XXErrors",
        "Sum",
        1,
    )
    assert five["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarms["mon-churn-errors"]["metricName"] == "Invocation4XXErrors"
    assert alarms["mon-churn-errors"]["threshold"] == 20
    gpu = alarms["mon-churn-gpu_utilization"]
    assert gpu["namespace"] == "/aws/sagemaker/Endpoints"
    assert gpu["metricName"] == "GPUUtilization" and gpu["dimensions"] == churn_dims
    assert gpu["statistic"] == "Average"
    assert gpu["threshold"] == 360  # 90% × 4 GPUs on ml.g5.12xlarge
    assert alarms["mon-churn-gpu_memory"]["metricName"] == "GPUMemoryUtilization"
    assert alarms["mon-ranker-5xx"]["dimensions"] == {
        "EndpointName": f"{PREFIX}-ranker",
        "VariantName": "Blue",
    }
    assert alarms["mon-churn-5xx"]["tags"] == {**TAGS, "mlops:endpoint": "churn"}


def test_alarm_names_and_arns(mocks: Recorder) -> None:
    holder: list[Monitoring] = []

    def build() -> pulumi.Output[list[Any]]:
        holder.append(Monitoring("mon", _args()))
        return pulumi.Output.all(holder[0].alarm_arns, holder[0].rollback_alarm_arns)

    arns, rollback = resolve(build)
    mon = holder[0]
    churn = [
        f"{PREFIX}-churn-{k}" for k in ("5xx", "latency", "errors", "gpu_utilization", "gpu_memory")
    ]
    assert mon.alarm_names == {
        "churn": churn,
        "ranker": [f"{PREFIX}-ranker-{k}" for k in ("5xx", "latency", "errors")],
    }
    assert mon.rollback_alarm_names == {
        "churn": [
            f"{PREFIX}-churn-5xx",
            f"{PREFIX}-churn-latency",
            f"{PREFIX}-churn-gpu_memory",
            "team-kpi",
        ],
        "ranker": [f"{PREFIX}-ranker-5xx", f"{PREFIX}-ranker-latency"],
    }
    assert mon.log_group_names == {
        "churn": f"/aws/sagemaker/Endpoints/{PREFIX}-churn",
        "ranker": f"/aws/sagemaker/Endpoints/{PREFIX}-ranker",
    }
    prefix = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
    assert arns["churn"] == [prefix + n for n in churn]
    assert arns["ranker"] == [prefix + n for n in mon.alarm_names["ranker"]]
    assert rollback["churn"] == [prefix + n for n in mon.rollback_alarm_names["churn"]]
    assert rollback["ranker"] == [prefix + n for n in mon.rollback_alarm_names["ranker"]]


def test_topic_subscriptions_policy(mocks: Recorder) -> None:
    arn = resolve(lambda: Monitoring("mon", _args()).alerts_topic_arn)
    assert arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:{PREFIX}-alerts"
    (topic,) = mocks.of_type("aws:sns/topic:Topic")
    assert topic.name == "mon-alerts"
    assert topic.inputs == {"name": f"{PREFIX}-alerts", "kmsMasterKeyId": KEY, "tags": TAGS}
    subs = {r.name: r.inputs for r in mocks.of_type("aws:sns/topicSubscription:TopicSubscription")}
    assert subs == {
        "mon-alerts-oncall-example-com": {
            "topic": arn,
            "protocol": "email",
            "endpoint": "oncall@example.com",
        },
        "mon-alerts-ml-team-example-org": {
            "topic": arn,
            "protocol": "email",
            "endpoint": "ml.team@example.org",
        },
    }
    (policy,) = mocks.of_type("aws:sns/topicPolicy:TopicPolicy")
    assert policy.name == "mon-alerts-policy"
    assert policy.inputs["arn"] == arn
    assert json.loads(policy.inputs["policy"]) == alerts_topic_policy(arn)


def test_log_groups_and_dashboard(mocks: Recorder) -> None:
    log_arns = resolve(lambda: Monitoring("mon", _args()).log_group_arns)
    groups = {r.name: r.inputs for r in mocks.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert groups == {
        "mon-churn-logs": {
            "name": f"/aws/sagemaker/Endpoints/{PREFIX}-churn",
            "retentionInDays": 731,
            "kmsKeyId": KEY,
            "tags": {**TAGS, "mlops:endpoint": "churn"},
        },
        "mon-ranker-logs": {
            "name": f"/aws/sagemaker/Endpoints/{PREFIX}-ranker",
            "retentionInDays": 731,
            "kmsKeyId": KEY,
            "tags": {**TAGS, "mlops:endpoint": "ranker"},
        },
        "mon-training-logs": {
            "name": "/aws/sagemaker/TrainingJobs",
            "retentionInDays": 731,
            "kmsKeyId": KEY,
            "tags": TAGS,
        },
    }
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{PREFIX}"
    assert log_arns == {"churn": f"{group}-churn", "ranker": f"{group}-ranker"}
    (dash,) = mocks.of_type("aws:cloudwatch/dashboard:Dashboard")
    assert dash.name == "mon-dashboard"
    assert dash.inputs["dashboardName"] == f"{PREFIX}-serving"
    assert json.loads(dash.inputs["dashboardBody"]) == dashboard_body(
        "mlops-stack", "prod", [GPU, CPU], REGION
    )
    counts: dict[str, int] = {}
    for r in mocks.resources:
        counts[r.typ] = counts.get(r.typ, 0) + 1
    assert counts == {
        "mlops:monitoring:Monitoring": 1,
        "aws:sns/topic:Topic": 1,
        "aws:sns/topicPolicy:TopicPolicy": 1,
        "aws:sns/topicSubscription:TopicSubscription": 2,
        "aws:cloudwatch/metricAlarm:MetricAlarm": 8,
        "aws:cloudwatch/logGroup:LogGroup": 3,
        "aws:cloudwatch/dashboard:Dashboard": 1,
    }


def test_options_off(mocks: Recorder) -> None:
    holder: list[Monitoring] = []

    def build() -> pulumi.Output[dict[str, list[str]]]:
        holder.append(
            Monitoring(
                "mon",
                _args(
                    endpoints=[CPU],
                    monitoring=MonitoringConfig(dashboard=False),
                    manage_training_log_group=False,
                ),
            )
        )
        return holder[0].alarm_arns

    assert list(resolve(build)) == ["ranker"]
    assert holder[0].dashboard_name is None
    assert mocks.of_type("aws:cloudwatch/dashboard:Dashboard") == []
    assert mocks.of_type("aws:sns/topicSubscription:TopicSubscription") == []
    groups = mocks.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert [(g.name, g.inputs["retentionInDays"]) for g in groups] == [("mon-ranker-logs", 365)]


def test_dashboard_region_falls_back_to_the_topic_region(mocks: Recorder) -> None:
    resolve(lambda: Monitoring("mon", _args(region=None, endpoints=[GPU])).alarm_arns)
    body = json.loads(mocks.named("mon-dashboard").inputs["dashboardBody"])
    regions = {w["properties"]["region"] for w in body["widgets"] if w["type"] == "metric"}
    assert regions == {REGION}


def test_preview_registers_the_same_alarms_with_unknown_arns() -> None:
    mocks = _mocks(preview=True)
    mocks.return_arns = False  # as in a real preview: new resources have no ARN yet
    holder: list[Monitoring] = []

    def build() -> pulumi.Output[dict[str, list[str]]]:
        holder.append(Monitoring("mon", _args()))
        return pulumi.Output.from_input(holder[0].rollback_alarm_names)

    rollback = resolve(build)
    assert rollback["churn"][0] == f"{PREFIX}-churn-5xx"
    alarms = mocks.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert len(alarms) == 8
    latency = mocks.named("mon-churn-latency").inputs
    assert latency["name"] == f"{PREFIX}-churn-latency"
    assert latency["extendedStatistic"] == "p99" and latency["threshold"] == 1_000_000
    # The topic ARN is unknown in preview, so no alarm action is set yet.
    (action,) = latency["alarmActions"]
    assert isinstance(action, Unknown)
    body = json.loads(mocks.named("mon-dashboard").inputs["dashboardBody"])
    assert len(body["widgets"]) == 1 + 4 + 4

    seen: list[Any] = []

    @pulumi.runtime.test
    def arns_never_resolve() -> pulumi.Output[None]:
        return holder[0].alarm_arns.apply(seen.append)

    _mocks(preview=True).return_arns = False
    holder.clear()
    holder.append(Monitoring("mon2", _args()))
    arns_never_resolve()
    assert seen == []


def test_protect_logs_sets_protect_and_retain() -> None:
    from components.monitoring import log_group_options

    opts = log_group_options(None, True)  # type: ignore[arg-type]
    assert (opts.protect, opts.retain_on_delete) == (True, True)
    opts = log_group_options(None, False)  # type: ignore[arg-type]
    assert (opts.protect, opts.retain_on_delete) == (False, False)


# ------------------------------------------------------------------------------ pure


def test_dashboard_body_one_row_per_endpoint() -> None:
    serverless = EndpointConfig.model_validate(
        {"name": "tiny", "instance_type": "ml.m5.large", "allow_cpu": True, "serverless": {}}
    )
    body = dashboard_body("mlops-stack", "dev", [GPU, CPU, serverless], "us-east-1")
    header, *widgets = body["widgets"]
    assert header["type"] == "text" and header["width"] == 24 and header["y"] == 0
    assert "mlops-stack-dev-churn" in header["properties"]["markdown"]
    rows: dict[int, list[dict[str, Any]]] = {}
    for w in widgets:
        rows.setdefault(w["y"], []).append(w)
    assert sorted(rows) == [1, 7, 13]
    assert [len(rows[y]) for y in (1, 7, 13)] == [4, 4, 3]  # serverless has no instance metrics
    for y, ep in zip((1, 7, 13), ("churn", "ranker", "tiny"), strict=True):
        row = rows[y]
        assert [w["x"] for w in row] == [0, 6, 12, 18][: len(row)]
        assert all(w["x"] + w["width"] <= 24 for w in row)
        for w in row:
            assert w["properties"]["region"] == "us-east-1"
            assert w["properties"]["title"].startswith(f"{ep}:")
            for metric in w["properties"]["metrics"]:
                assert metric[2:4] == ["EndpointName", f"mlops-stack-dev-{ep}"]
    gpu_widget = rows[1][3]["properties"]["metrics"]
    assert [m[:2] for m in gpu_widget] == [
        ["/aws/sagemaker/Endpoints", "GPUUtilization"],
        ["/aws/sagemaker/Endpoints", "GPUMemoryUtilization"],
    ]
    assert rows[7][3]["properties"]["metrics"][0][1] == "CPUUtilization"
    assert rows[7][0]["properties"]["metrics"][0][4:6] == ["VariantName", "Blue"]
    latency = rows[1][1]["properties"]
    assert latency["annotations"]["horizontal"][0]["value"] == 1_000_000
    assert json.loads(json.dumps(body)) == body


def test_dashboard_without_endpoints_still_valid() -> None:
    body = dashboard_body("mlops-stack", "dev", [], "us-east-1")
    assert len(body["widgets"]) == 1
    assert "no endpoints configured" in body["widgets"][0]["properties"]["markdown"]


def test_alerts_topic_policy() -> None:
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{PREFIX}-alerts"
    policy = alerts_topic_policy(arn)
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    cw = by_sid["CloudWatchAlarms"]
    assert cw["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert cw["Action"] == "sns:Publish" and cw["Resource"] == arn
    assert cw["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"},
    }
    assert by_sid["AccountOwner"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    deny = by_sid["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    assert all(
        "*" not in a for s in policy["Statement"] for a in [s["Action"]] if isinstance(a, str)
    )


def test_per_endpoint_outputs_depend_on_that_endpoint_alone(mocks: Recorder) -> None:
    """What an endpoint's role is built from carries its own alarms and log group only (and so
    the engine tracks no dependency on any other endpoint's resources)."""
    holder: list[Monitoring] = []

    def build() -> pulumi.Output[list[Any]]:
        holder.append(Monitoring("mon", _args()))
        mon = holder[0]
        return pulumi.Output.all(
            mon.endpoint_rollback_alarm_arns["ranker"],
            mon.endpoint_log_group_arns["ranker"],
            mon.rollback_alarm_arns,
        )

    ranker_alarms, ranker_logs, grouped = resolve(build)
    assert ranker_alarms == grouped["ranker"]
    assert all("-ranker-" in arn for arn in ranker_alarms)
    assert ranker_logs.endswith(f":log-group:/aws/sagemaker/Endpoints/{PREFIX}-ranker")

    async def dependency_names(output: pulumi.Output[Any]) -> set[str]:
        return {r._name for r in await output.resources()}

    from pulumi.runtime.sync_await import _sync_await

    mon = holder[0]
    ranker = _sync_await(dependency_names(mon.endpoint_rollback_alarm_arns["ranker"]))
    assert ranker == {"mon-ranker-5xx", "mon-ranker-latency"}


# ------------------------------------------------------------ drift monitoring (issue 25)

MONITORED = EndpointConfig.model_validate(
    {
        "name": "fraud",
        "instance_type": "ml.c5.xlarge",
        "allow_cpu": True,
        "data_capture": {"sampling_percent": 50},
        "monitoring": {"enabled": True, "window": "2h", "alarm_windows": 3},
    }
)
FRAUD = f"{PREFIX}-fraud"


def test_a_monitored_endpoint_gets_a_drift_alarm_that_notifies(mocks: Recorder) -> None:
    holder: list[Monitoring] = []

    def build() -> pulumi.Output[dict[str, list[str]]]:
        holder.append(Monitoring("mon", _args(endpoints=[MONITORED, CPU])))
        return holder[0].alarm_arns

    arns = resolve(build)
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:{PREFIX}-alerts"
    assert mocks.named("mon-fraud-drift").typ == "aws:cloudwatch/metricAlarm:MetricAlarm"
    assert mocks.named("mon-fraud-drift").inputs == {
        "name": f"{FRAUD}-drift",
        "alarmDescription": f"{FRAUD}/AllTraffic: ≥ 1 drifted feature in 3 consecutive windows "
        "of 7200 s",
        "namespace": "MLOps/ModelMonitoring",
        "metricName": "DriftedFeatures",
        "dimensions": {"EndpointName": FRAUD, "VariantName": "AllTraffic"},
        "statistic": "Maximum",
        "period": 7200,
        "evaluationPeriods": 3,
        "datapointsToAlarm": 3,
        "threshold": 1,
        "comparisonOperator": "GreaterThanOrEqualToThreshold",
        "treatMissingData": "notBreaching",
        "actionsEnabled": True,
        "alarmActions": [topic],
        "okActions": [topic],
        "tags": {**TAGS, "mlops:endpoint": "fraud"},
    }
    mon = holder[0]
    assert mon.alarm_names["fraud"] == [
        f"{FRAUD}-5xx",
        f"{FRAUD}-latency",
        f"{FRAUD}-errors",
        f"{FRAUD}-drift",
    ]
    assert arns["fraud"][-1] == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{FRAUD}-drift"
    # it gates no rollout: the rollback alarms (and so the endpoint role's DescribeAlarms) omit it
    assert mon.rollback_alarm_names["fraud"] == [f"{FRAUD}-5xx", f"{FRAUD}-latency"]
    # the unmonitored endpoint has none
    assert [r.name for r in mocks.resources if r.name.endswith("-drift")] == ["mon-fraud-drift"]
    # the other alarms carry no datapointsToAlarm (all of their evaluation periods)
    assert "datapointsToAlarm" not in mocks.named("mon-fraud-5xx").inputs


def test_a_monitored_endpoint_gets_the_processing_jobs_log_group(mocks: Recorder) -> None:
    resolve(lambda: Monitoring("mon", _args(endpoints=[MONITORED, CPU])).log_group_arns)
    groups = {r.name: r.inputs for r in mocks.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert groups["mon-processing-logs"] == {
        "name": "/aws/sagemaker/ProcessingJobs",
        "retentionInDays": 731,
        "kmsKeyId": KEY,
        "tags": TAGS,
    }
    assert sorted(groups) == [
        "mon-fraud-logs",
        "mon-processing-logs",
        "mon-ranker-logs",
        "mon-training-logs",
    ]


@pytest.mark.parametrize(("monitored", "manage"), [(False, True), (True, False)])
def test_no_processing_log_group_when_not_monitored_or_owned_elsewhere(
    mocks: Recorder, monitored: bool, manage: bool
) -> None:
    args = _args(endpoints=[MONITORED if monitored else CPU], manage_processing_log_group=manage)
    resolve(lambda: Monitoring("mon", args).log_group_arns)
    names = [g.inputs["name"] for g in mocks.of_type("aws:cloudwatch/logGroup:LogGroup")]
    assert "/aws/sagemaker/ProcessingJobs" not in names


def test_the_dashboard_gets_a_drift_row_for_a_monitored_endpoint(mocks: Recorder) -> None:
    resolve(lambda: Monitoring("mon", _args(endpoints=[MONITORED, CPU])).alarm_arns)
    body = json.loads(mocks.named("mon-dashboard").inputs["dashboardBody"])
    assert body == dashboard_body("mlops-stack", "prod", [MONITORED, CPU], REGION)
    rows: dict[int, list[dict[str, Any]]] = {}
    for w in body["widgets"][1:]:
        rows.setdefault(w["y"], []).append(w)
    assert sorted(rows) == [1, 7, 13]  # fraud, fraud's drift row, ranker
    assert [w["properties"]["title"] for w in rows[7]] == ["fraud: drift", "fraud: data quality"]
    drift, quality = rows[7]
    assert drift == {
        "type": "metric",
        "x": 0,
        "y": 7,
        "width": 6,
        "height": 6,
        "properties": {
            "title": "fraud: drift",
            "region": REGION,
            "view": "timeSeries",
            "stacked": False,
            "period": 7200,
            "metrics": [
                [
                    "MLOps/ModelMonitoring",
                    "DriftedFeatures",
                    "EndpointName",
                    FRAUD,
                    "VariantName",
                    "AllTraffic",
                    {"stat": "Maximum"},
                ]
            ],
            "annotations": {"horizontal": [{"label": "drift alarm", "value": 1}]},
        },
    }
    assert (quality["x"], quality["properties"]["period"]) == (6, 7200)
    assert quality["properties"]["metrics"] == [
        [
            "MLOps/ModelMonitoring",
            "DataQualityViolations",
            "EndpointName",
            FRAUD,
            "VariantName",
            "AllTraffic",
            {"stat": "Maximum"},
        ],
        [
            "MLOps/ModelMonitoring",
            "MonitoredSamples",
            "EndpointName",
            FRAUD,
            "VariantName",
            "AllTraffic",
            {"stat": "Maximum"},
        ],
    ]
    assert rows[13][0]["properties"]["title"] == "ranker: invocations"


def test_nothing_is_added_for_endpoints_that_are_not_monitored(mocks: Recorder) -> None:
    resolve(lambda: Monitoring("mon", _args()).alarm_arns)
    assert not [r for r in mocks.resources if "drift" in r.name or "processing" in r.name]
    body = json.loads(mocks.named("mon-dashboard").inputs["dashboardBody"])
    assert "MLOps/ModelMonitoring" not in json.dumps(body)
