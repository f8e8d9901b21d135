"""``Monitoring``: the alarms, alerts topic, dashboard and log groups of one environment's endpoints
(with the drift alarm, drift widgets and ``/aws/sagemaker/ProcessingJobs`` of monitored ones).

Alarms are defined on the EndpointName/VariantName dimensions, so they exist before the
pipeline creates the endpoint and can gate its very first rollout. The work is in pure
functions (``components.deployment.alarm_specs``, ``dashboard_body``,
``alerts_topic_policy``); the component only registers what they describe.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from components import naming
from components._resources import gathered
from components.config import EndpointConfig, MonitoringConfig
from components.deployment import (
    INSTANCE_NAMESPACE,
    SAGEMAKER_NAMESPACE,
    TRAINING_LOG_GROUP,
    alarm_arn,
    alarm_specs,
    arn_parts,
    log_group_name,
    rollback_alarm_names,
)

TYPE_TOKEN = "mlops:monitoring:Monitoring"


@dataclass(frozen=True, kw_only=True)
class MonitoringArgs:
    project: str
    environment: str
    endpoints: list[EndpointConfig]
    """Each gets its alarms, a log group and a dashboard row; a monitored one
    (``monitoring.enabled``) also its drift alarm and a second row (drift, data quality)."""
    monitoring: MonitoringConfig
    """Log retention, alarm e-mails, dashboard on/off."""
    kms_key_arn: pulumi.Input[str]
    """Encrypts the alerts topic and the log groups (its key policy must admit
    ``cloudwatch.amazonaws.com`` and ``logs.<region>.amazonaws.com``)."""
    tags: dict[str, str]
    region: str | None = None
    """Region for the dashboard's widgets. Default: the ``aws:region`` stack config, else the
    alerts topic's region."""
    manage_training_log_group: bool = True
    """Create ``/aws/sagemaker/TrainingJobs`` (one per account and region: turn this off in all
    but one environment sharing an account)."""
    manage_processing_log_group: bool = True
    """Create ``/aws/sagemaker/ProcessingJobs`` when an endpoint is monitored (its drift job
    logs there; one per account and region, like the training one)."""
    protect_logs: bool = False
    """``protect`` + ``retain_on_delete`` on the log groups (the platform sets it with RETAIN)."""


# ----------------------------------------------------------------------------- pure


def alerts_topic_name(project: str, environment: str) -> str:
    return f"{naming.prefix(project, environment)}-alerts"


def dashboard_name(project: str, environment: str) -> str:
    return f"{naming.prefix(project, environment)}-serving"


def alerts_topic_policy(topic_arn: str) -> dict[str, Any]:
    """Account owner manages the topic; CloudWatch alarms of this account publish; TLS only."""
    partition, region, account = arn_parts(topic_arn)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountOwner",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": [
                    "sns:GetTopicAttributes",
                    "sns:SetTopicAttributes",
                    "sns:AddPermission",
                    "sns:RemovePermission",
                    "sns:DeleteTopic",
                    "sns:Subscribe",
                    "sns:ListSubscriptionsByTopic",
                    "sns:Publish",
                ],
                "Resource": topic_arn,
            },
            {
                "Sid": "CloudWatchAlarms",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*"
                    },
                },
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


WIDGET_WIDTH = 6
WIDGET_HEIGHT = 6
GRID_WIDTH = 24


def _metric(namespace: str, metric: str, endpoint: str, variant: str, **opts: Any) -> list[Any]:
    return [namespace, metric, "EndpointName", endpoint, "VariantName", variant, opts]


def _widget(
    x: int, y: int, title: str, region: str, metrics: list[list[Any]], **props: Any
) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": WIDGET_WIDTH,
        "height": WIDGET_HEIGHT,
        "properties": {
            "title": title,
            "region": region,
            "view": "timeSeries",
            "stacked": False,
            "period": 60,
            "metrics": metrics,
            **props,
        },
    }


def endpoint_widgets(
    project: str, environment: str, ep: EndpointConfig, region: str, y: int
) -> list[dict[str, Any]]:
    """One dashboard row: traffic, latency, errors, and GPU (or CPU) use of one endpoint."""
    endpoint = naming.endpoint_name(project, environment, ep.name)
    v = ep.variant_name
    sm = SAGEMAKER_NAMESPACE
    threshold_ms = ep.alarms.latency_p99_ms * 1000
    row = [
        _widget(
            0,
            y,
            f"{ep.name}: invocations",
            region,
            [
                _metric(sm, "Invocations", endpoint, v, stat="Sum"),
                _metric(sm, "InvocationsPerInstance", endpoint, v, stat="Sum"),
            ],
        ),
        _widget(
            6,
            y,
            f"{ep.name}: model latency (µs)",
            region,
            [
                _metric(sm, "ModelLatency", endpoint, v, stat="p50"),
                _metric(sm, "ModelLatency", endpoint, v, stat="p99"),
                _metric(sm, "OverheadLatency", endpoint, v, stat="p99"),
            ],
            annotations={"horizontal": [{"label": "p99 alarm", "value": threshold_ms}]},
        ),
        _widget(
            12,
            y,
            f"{ep.name}: errors",
            region,
            [
                _metric(sm, "Invocation5XXErrors", endpoint, v, stat="Sum"),
                _metric(sm, "Invocation4XXErrors", endpoint, v, stat="Sum"),
            ],
        ),
    ]
    if ep.gpu:
        row.append(
            _widget(
                18,
                y,
                f"{ep.name}: GPU (% × GPUs)",
                region,
                [
                    _metric(INSTANCE_NAMESPACE, "GPUUtilization", endpoint, v, stat="Average"),
                    _metric(
                        INSTANCE_NAMESPACE, "GPUMemoryUtilization", endpoint, v, stat="Average"
                    ),
                ],
            )
        )
    elif ep.serverless is None:
        row.append(
            _widget(
                18,
                y,
                f"{ep.name}: CPU / memory (%)",
                region,
                [
                    _metric(INSTANCE_NAMESPACE, "CPUUtilization", endpoint, v, stat="Average"),
                    _metric(INSTANCE_NAMESPACE, "MemoryUtilization", endpoint, v, stat="Average"),
                ],
            )
        )
    return row


def drift_widgets(
    project: str, environment: str, ep: EndpointConfig, region: str, y: int
) -> list[dict[str, Any]]:
    """A monitored endpoint's second row: drifted features (with the drift alarm's threshold)
    and data quality, one datapoint per drift window."""
    endpoint = naming.endpoint_name(project, environment, ep.name)
    v, ns = ep.variant_name, naming.DRIFT_NAMESPACE
    window = ep.monitoring.window_seconds
    return [
        _widget(
            0,
            y,
            f"{ep.name}: drift",
            region,
            [_metric(ns, naming.DRIFT_METRIC, endpoint, v, stat="Maximum")],
            period=window,
            annotations={"horizontal": [{"label": "drift alarm", "value": 1}]},
        ),
        _widget(
            6,
            y,
            f"{ep.name}: data quality",
            region,
            [
                _metric(ns, naming.DATA_QUALITY_METRIC, endpoint, v, stat="Maximum"),
                _metric(ns, naming.SAMPLES_METRIC, endpoint, v, stat="Maximum"),
            ],
            period=window,
        ),
    ]


def dashboard_body(
    project: str, environment: str, endpoints: Sequence[EndpointConfig], region: str
) -> dict[str, Any]:
    """A header, then one row of widgets per endpoint, and a second (drift, data quality) per
    monitored endpoint (CloudWatch dashboard body JSON)."""
    prefix = naming.prefix(project, environment)
    names = ", ".join(naming.endpoint_name(project, environment, e.name) for e in endpoints)
    widgets: list[dict[str, Any]] = [
        {
            "type": "text",
            "x": 0,
            "y": 0,
            "width": GRID_WIDTH,
            "height": 1,
            "properties": {
                "markdown": f"## {prefix} serving: {names or 'no endpoints configured'}",
            },
        }
    ]
    y = 1
    for ep in endpoints:
        widgets += endpoint_widgets(project, environment, ep, region, y)
        y += WIDGET_HEIGHT
        if ep.monitoring.enabled:
            widgets += drift_widgets(project, environment, ep, region, y)
            y += WIDGET_HEIGHT
    return {"widgets": widgets}


def _slug(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()


def log_group_options(parent: pulumi.Resource, protect: bool) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect)


# ------------------------------------------------------------------------ component


class Monitoring(pulumi.ComponentResource):
    """Per-endpoint CloudWatch alarms, a KMS-encrypted alerts topic, a dashboard and log groups."""

    if TYPE_CHECKING:  # not at run time: Pulumi reads them as output types per registration
        alerts_topic_arn: pulumi.Output[str]
        """Alarm and OK actions of every alarm publish here."""
        alarm_names: dict[str, list[str]]
        """Endpoint short name → every alarm name (deterministic, known before deployment)."""
        rollback_alarm_names: dict[str, list[str]]
        """Endpoint short name → the alarms gating its rollouts (its chosen keys + extra names)."""
        log_group_names: dict[str, str]
        """Endpoint short name → its ``/aws/sagemaker/Endpoints/<endpoint name>`` log group."""
        endpoint_rollback_alarm_arns: dict[str, pulumi.Output[list[str]]]
        """Endpoint short name → its rollback alarm ARNs, depending on those alarms alone."""
        endpoint_log_group_arns: dict[str, pulumi.Output[str]]
        """Endpoint short name → its log group's ARN."""
        dashboard_name: str | None
        """None when ``monitoring.dashboard`` is off."""

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project, env = args.project, args.environment

        topic = aws.sns.Topic(
            f"{name}-alerts",
            name=alerts_topic_name(project, env),
            kms_master_key_id=args.kms_key_arn,
            tags=args.tags,
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-alerts-policy",
            arn=topic.arn,
            policy=topic.arn.apply(lambda arn: json.dumps(alerts_topic_policy(arn))),
            opts=child,
        )
        for email in args.monitoring.alarm_emails:
            aws.sns.TopicSubscription(
                f"{name}-alerts-{_slug(email)}",
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                opts=child,
            )
        self.alerts_topic_arn = topic.arn

        self.alarm_names = {}
        self.rollback_alarm_names = {}
        self.log_group_names = {}
        arns: dict[str, list[pulumi.Output[str]]] = {}
        log_arns: dict[str, pulumi.Output[str]] = {}
        log_opts = log_group_options(self, args.protect_logs)
        for ep in args.endpoints:
            ep_tags = {**args.tags, "mlops:endpoint": ep.name}
            specs = alarm_specs(project, env, ep)
            alarms = []
            for spec in specs:  # a loop, not a comprehension: one stack frame fewer for
                # the runtime to walk on each registration (it records the source position)
                alarms.append(
                    aws.cloudwatch.MetricAlarm(
                        f"{name}-{ep.name}-{spec.key}",
                        name=spec.name,
                        alarm_description=spec.description,
                        namespace=spec.namespace,
                        metric_name=spec.metric_name,
                        dimensions=spec.dimensions,
                        statistic=spec.statistic,
                        extended_statistic=spec.extended_statistic,
                        period=spec.period,
                        evaluation_periods=spec.evaluation_periods,
                        threshold=spec.threshold,
                        comparison_operator=spec.comparison_operator,
                        treat_missing_data=spec.treat_missing_data,
                        datapoints_to_alarm=spec.datapoints_to_alarm,
                        actions_enabled=True,
                        alarm_actions=[topic.arn],
                        ok_actions=[topic.arn],
                        tags=ep_tags,
                        opts=child,
                    )
                )
            self.alarm_names[ep.name] = [s.name for s in specs]
            self.rollback_alarm_names[ep.name] = rollback_alarm_names(project, env, ep)
            arns[ep.name] = [a.arn for a in alarms]
            endpoint = naming.endpoint_name(project, env, ep.name)
            group = aws.cloudwatch.LogGroup(
                f"{name}-{ep.name}-logs",
                name=log_group_name(endpoint),
                retention_in_days=args.monitoring.log_retention_days,
                kms_key_id=args.kms_key_arn,
                tags=ep_tags,
                opts=log_opts,
            )
            self.log_group_names[ep.name] = log_group_name(endpoint)
            log_arns[ep.name] = group.arn

        if args.manage_training_log_group:
            aws.cloudwatch.LogGroup(
                f"{name}-training-logs",
                name=TRAINING_LOG_GROUP,
                retention_in_days=args.monitoring.log_retention_days,
                kms_key_id=args.kms_key_arn,
                tags=args.tags,
                opts=log_opts,
            )
        if args.manage_processing_log_group and any(e.monitoring.enabled for e in args.endpoints):
            aws.cloudwatch.LogGroup(
                f"{name}-processing-logs",
                name=naming.PROCESSING_LOG_GROUP,
                retention_in_days=args.monitoring.log_retention_days,
                kms_key_id=args.kms_key_arn,
                tags=args.tags,
                opts=log_opts,
            )

        self.dashboard_name = None
        if args.monitoring.dashboard:
            region: pulumi.Input[str] | None = args.region or pulumi.Config("aws").get("region")
            region_out = pulumi.Output.from_input(
                region if region is not None else topic.arn.apply(lambda a: arn_parts(a)[1])
            )
            endpoints = list(args.endpoints)
            self.dashboard_name = dashboard_name(project, env)
            aws.cloudwatch.Dashboard(
                f"{name}-dashboard",
                dashboard_name=self.dashboard_name,
                dashboard_body=region_out.apply(
                    lambda r: json.dumps(dashboard_body(project, env, endpoints, r))
                ),
                opts=child,
            )

        self._alarm_arns = arns
        own = {
            ep.name: dict(zip(self.alarm_names[ep.name], arns[ep.name], strict=True))
            for ep in args.endpoints
        }
        self._rollback_alarm_arns: dict[str, list[pulumi.Output[str]]] = {
            ep_name: [
                own[ep_name][alarm]
                if alarm in own[ep_name]
                else topic.arn.apply(functools.partial(_alarm_arn_from_topic, alarm))
                for alarm in names
            ]
            for ep_name, names in self.rollback_alarm_names.items()
        }
        # Per endpoint, depending on that endpoint's alarms and log group only: taking an entry
        # of the grouped Outputs would make every endpoint's role wait on (and the engine track
        # dependencies to) every other endpoint's alarms - quadratic in the endpoint count.
        self.endpoint_rollback_alarm_arns = {
            ep_name: gathered(outputs).apply(list)
            for ep_name, outputs in self._rollback_alarm_arns.items()
        }
        self.endpoint_log_group_arns = dict(log_arns)

        # ARNs are the stack's to export (per endpoint, in the serving specs), not repeated here.
        self.register_outputs(
            {
                "alerts_topic_arn": self.alerts_topic_arn,
                "alarm_names": self.alarm_names,
                "rollback_alarm_names": self.rollback_alarm_names,
                "log_group_names": self.log_group_names,
                "dashboard_name": self.dashboard_name,
            }
        )

    # The grouped ARNs are made on first use: every Output costs the engine work, wanted or not.
    @functools.cached_property
    def alarm_arns(self) -> pulumi.Output[dict[str, list[str]]]:
        """Endpoint short name → the ARNs of ``alarm_names`` (same order)."""
        return _group(self._alarm_arns)

    @functools.cached_property
    def rollback_alarm_arns(self) -> pulumi.Output[dict[str, list[str]]]:
        """Endpoint short name → the ARNs of ``rollback_alarm_names`` (same order)."""
        return _group(self._rollback_alarm_arns)

    @functools.cached_property
    def log_group_arns(self) -> pulumi.Output[dict[str, str]]:
        """Endpoint short name → its log group's ARN."""
        arns = self.endpoint_log_group_arns
        return pulumi.Output.all(**arns) if arns else pulumi.Output.from_input({})


def _alarm_arn_from_topic(alarm: str, topic_arn: str) -> str:
    return alarm_arn(topic_arn, alarm)


def _group(outputs: dict[str, list[pulumi.Output[str]]]) -> pulumi.Output[dict[str, list[str]]]:
    """``{key: [Output[str]]}`` → ``Output[{key: [str]}]`` (order kept)."""
    keys = list(outputs)
    flat = [o for k in keys for o in outputs[k]]
    sizes = [len(outputs[k]) for k in keys]

    def regroup(values: list[str]) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        start = 0
        for key, size in zip(keys, sizes, strict=True):
            result[key] = list(values[start : start + size])
            start += size
        return result

    return pulumi.Output.all(*flat).apply(regroup)
