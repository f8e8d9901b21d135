"""The drift alarm's spec and the contract's ``ServingSpec.monitoring`` (issue 25): exact values
from the config, nothing when monitoring is off, and the cross-checks that keep its role and
S3 locations the stack's own. Pure: no mocks."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import ValidationError

from components import naming
from components.config import ConfigError, DriftMethod, EndpointConfig, parse_environment
from components.contract import (
    CONTRACT_VERSION,
    ContractProblems,
    DriftMethodName,
    MonitoringSpec,
    ServingSpec,
    StackOutputs,
)
from components.deployment import (
    alarm_specs,
    drift_alarm_spec,
    monitoring_spec,
    rollback_alarm_names,
    serving_spec,
)

ACCOUNT = "123456789012"
REGION = "eu-west-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-0000-1111-2222-333344445555"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlops-stack-prod-churn-exec"
PROCESSING = f"arn:aws:iam::{ACCOUNT}:role/mlops-stack-prod-churn-monitor"
ENDPOINT = "mlops-stack-prod-churn"
CAPTURE = f"mlops-stack-prod-capture-{ACCOUNT}-{REGION}"
MODEL = f"mlops-stack-prod-model-{ACCOUNT}-{REGION}"

MONITORED: dict[str, Any] = {
    "name": "churn",
    "instance_type": "ml.g5.xlarge",
    "variant_name": "Blue",
    "data_capture": {"sampling_percent": 10},
    "monitoring": {
        "enabled": True,
        "window": "30m",
        "metric": "psi",
        "threshold": 0.2,
        "min_samples": 50,
        "alarm_windows": 2,
        "features": {
            "region_code": {"kind": "categorical"},
            "age": {"metric": "ks", "threshold": 0.01},
            "customer_id": {"enabled": False},
        },
        "instance_type": "ml.c5.xlarge",
        "max_runtime_seconds": 1200,
    },
}


def _ep(raw: dict[str, Any] = MONITORED) -> EndpointConfig:
    return EndpointConfig.model_validate(raw)


def _spec(raw: dict[str, Any] = MONITORED, **overrides: Any) -> ServingSpec:
    ep = _ep(raw)
    kwargs: dict[str, Any] = {
        "kms_key_arn": KEY,
        "execution_role_arn": ROLE,
        "capture_bucket_name": CAPTURE,
        "alarm_names": [s.name for s in alarm_specs("mlops-stack", "prod", ep)],
        "rollback_alarm_names": rollback_alarm_names("mlops-stack", "prod", ep),
        "model_bucket_name": MODEL,
        "processing_role_arn": PROCESSING,
        **overrides,
    }
    return serving_spec("mlops-stack", "prod", ep, **kwargs)


# --------------------------------------------------------------------- the alarm


def test_the_drift_alarm_spec_exact() -> None:
    spec = drift_alarm_spec(ENDPOINT, _ep())
    assert (spec.key, spec.name) == ("drift", f"{ENDPOINT}-drift")
    assert (spec.namespace, spec.metric_name) == ("MLOps/ModelMonitoring", "DriftedFeatures")
    assert spec.dimensions == {"EndpointName": ENDPOINT, "VariantName": "Blue"}
    assert (spec.statistic, spec.extended_statistic) == ("Maximum", None)
    assert (spec.threshold, spec.comparison_operator) == (1.0, "GreaterThanOrEqualToThreshold")
    assert (spec.period, spec.evaluation_periods, spec.datapoints_to_alarm) == (1800, 2, 2)
    assert spec.treat_missing_data == "notBreaching"
    assert spec.description == (
        f"{ENDPOINT}/Blue: ≥ 1 drifted feature in 2 consecutive windows of 1800 s"
    )


def test_the_drift_alarm_joins_a_monitored_endpoints_alarms_last_and_never_gates_a_rollout() -> (
    None
):
    ep = _ep()
    keys = [s.key for s in alarm_specs("mlops-stack", "prod", ep)]
    assert keys == ["5xx", "latency", "errors", "gpu_utilization", "gpu_memory", "drift"]
    assert f"{ENDPOINT}-drift" not in rollback_alarm_names("mlops-stack", "prod", ep)
    off = _ep({**MONITORED, "monitoring": {"enabled": False}})
    assert "drift" not in [s.key for s in alarm_specs("mlops-stack", "prod", off)]
    # and no stack file can make it one
    raw = {
        "environment": "staging",
        "owner": "o",
        "cost_centre": "c",
        "endpoints": [{**MONITORED, "deployment": {"rollback_alarms": ["5xx", "drift"]}}],
    }
    with pytest.raises(ConfigError, match=r"endpoints\[0\]\.deployment\.rollback_alarms\[1\]"):
        parse_environment(raw, source="stacks/Pulumi.staging.yaml")


def test_the_other_alarms_have_no_datapoints_to_alarm() -> None:
    specs = alarm_specs("mlops-stack", "prod", _ep())
    assert [s.datapoints_to_alarm for s in specs] == [None] * 5 + [2]


# --------------------------------------------------------------------- the contract


def test_the_monitoring_spec_exact() -> None:
    spec = monitoring_spec(
        ENDPOINT,
        _ep(),
        capture_bucket_name=CAPTURE,
        model_bucket_name=MODEL,
        processing_role_arn=PROCESSING,
    )
    assert spec.model_dump(mode="json") == {
        "window_seconds": 1800,
        "metric": "psi",
        "threshold": 0.2,
        "min_samples": 50,
        "alarm_windows": 2,
        "features": {
            "region_code": {
                "kind": "categorical",
                "metric": None,
                "threshold": None,
                "enabled": True,
            },
            "age": {"kind": "numeric", "metric": "ks", "threshold": 0.01, "enabled": True},
            "customer_id": {"kind": None, "metric": None, "threshold": None, "enabled": False},
        },
        "namespace": naming.DRIFT_NAMESPACE,
        "drift_alarm_name": f"{ENDPOINT}-drift",
        "processing_role_arn": PROCESSING,
        "capture_s3_uri": f"s3://{CAPTURE}/{ENDPOINT}/",
        "reports_s3_uri": f"s3://{CAPTURE}/{ENDPOINT}/reports/",
        "baselines_s3_uri": f"s3://{MODEL}/baselines/",
        "instance_type": "ml.c5.xlarge",
        "max_runtime_seconds": 1200,
    }


def test_the_serving_spec_carries_it_and_its_capture_is_the_data_captures() -> None:
    spec = _spec()
    assert spec.monitoring is not None
    assert spec.data_capture is not None
    assert spec.monitoring.capture_s3_uri == spec.data_capture.destination_s3_uri
    assert spec.monitoring.drift_alarm_name in spec.alarm_names
    assert spec.monitoring.drift_alarm_name not in spec.rollback_alarm_names
    assert ServingSpec.model_validate(spec.model_dump(mode="json")) == spec


def test_no_monitoring_spec_when_it_is_off() -> None:
    off = {**MONITORED, "monitoring": {**MONITORED["monitoring"], "enabled": False}}
    assert _spec(off).monitoring is None
    assert _spec(off, model_bucket_name=None, processing_role_arn=None).monitoring is None


def test_a_monitored_endpoint_needs_its_processing_role_and_model_bucket() -> None:
    with pytest.raises(ValueError, match="needs model_bucket_name and processing_role_arn"):
        _spec(processing_role_arn=None)
    with pytest.raises(ValueError, match="needs model_bucket_name and processing_role_arn"):
        _spec(model_bucket_name=None)


def test_the_contract_names_the_config_s_methods_and_keeps_its_version() -> None:
    assert list(get_args(DriftMethodName)) == [m.value for m in DriftMethod]
    assert CONTRACT_VERSION == 1  # an optional field, ignored by an older pipeline


def _outputs(spec: ServingSpec) -> dict[str, Any]:
    return {
        "contract_version": CONTRACT_VERSION,
        "project": "mlops-stack",
        "stack": "prod",
        "environment": "staging",
        "region": REGION,
        "account_id": ACCOUNT,
        "kms_key_arn": KEY,
        "buckets": {
            "data": f"mlops-stack-prod-data-{ACCOUNT}-{REGION}",
            "model": MODEL,
            "capture": CAPTURE,
            "access_logs": f"mlops-stack-prod-access-logs-{ACCOUNT}",
        },
        "audit_s3_uri": f"s3://{MODEL}/audit/",
        "ecr_repository_url": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/mlops-stack-prod-models",
        "model_package_group_name": "mlops-stack-prod-models",
        "sagemaker_execution_role_arn": f"arn:aws:iam::{ACCOUNT}:role/x",
        "training": {
            "instance_type": "ml.g5.xlarge",
            "instance_count": 1,
            "volume_size_gib": 50,
            "use_spot": False,
            "max_runtime_seconds": 3600,
            "max_wait_seconds": None,
            "output_s3_uri": f"s3://{MODEL}/training/",
            "checkpoint_s3_uri": None,
        },
        "endpoints": [spec.model_dump(mode="json")],
    }


def test_a_contract_with_a_monitored_endpoint_validates() -> None:
    outputs = StackOutputs.model_validate(_outputs(_spec()))
    assert outputs.endpoint("churn").monitoring == _spec().monitoring
    # a contract from before monitoring (no key at all) still reads
    raw = _outputs(_spec())
    del raw["endpoints"][0]["monitoring"]
    assert StackOutputs.model_validate(raw).endpoints[0].monitoring is None


def contract_problems(raw: dict[str, Any]) -> list[str]:
    """What the contract's cross-checks find (pydantic wraps ``ContractProblems``)."""
    with pytest.raises(ValidationError) as err:
        StackOutputs.model_validate(raw)
    (error,) = err.value.errors(include_url=False)
    cause = (error.get("ctx") or {}).get("error")
    assert isinstance(cause, ContractProblems), error
    return cause.problems


def _broken(**monitoring: Any) -> dict[str, Any]:
    raw = _outputs(_spec())
    raw["endpoints"][0]["monitoring"].update(monitoring)
    return raw


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            _broken(processing_role_arn="arn:aws:iam::999999999999:role/x-monitor"),
            "endpoints.0.monitoring.processing_role_arn: 'arn:aws:iam::999999999999:role/x-monitor' "
            "is in account '999999999999', not the stack's account_id '123456789012'",
        ),
        (
            _broken(processing_role_arn=f"arn:aws:iam::{ACCOUNT}:user/x"),
            "endpoints.0.monitoring.processing_role_arn: ",
        ),
        (
            _broken(reports_s3_uri=f"s3://{MODEL}/reports/"),
            f"endpoints.0.monitoring.reports_s3_uri: 's3://{MODEL}/reports/' is not in the "
            f"stack's capture bucket (buckets.capture); allowed: s3://{CAPTURE}/...",
        ),
        (
            _broken(baselines_s3_uri=f"s3://{CAPTURE}/baselines/"),
            "endpoints.0.monitoring.baselines_s3_uri: ",
        ),
        (
            _broken(capture_s3_uri="s3://someone-elses-bucket/x/"),
            "endpoints.0.monitoring.capture_s3_uri: 's3://someone-elses-bucket/x/' is not in "
            "the stack's capture bucket",
        ),
        (
            _broken(capture_s3_uri=f"s3://{CAPTURE}/another-endpoint/"),
            f"endpoints.0.monitoring.capture_s3_uri: 's3://{CAPTURE}/another-endpoint/' is not "
            f"the endpoint's data capture destination; allowed: 's3://{CAPTURE}/{ENDPOINT}/'",
        ),
        (
            _broken(drift_alarm_name="some-other-alarm"),
            "endpoints.0.monitoring.drift_alarm_name: 'some-other-alarm' is not among "
            "endpoints.0.alarm_names",
        ),
        (
            _broken(drift_alarm_name=f"{ENDPOINT}-5xx"),
            f"endpoints.0.monitoring.drift_alarm_name: '{ENDPOINT}-5xx' is a rollback alarm",
        ),
    ],
)
def test_the_contract_refuses_monitoring_that_is_not_the_stack_s_own(
    raw: dict[str, Any], problem: str
) -> None:
    problems = contract_problems(raw)
    assert any(p.startswith(problem) for p in problems), problems


def test_the_contract_refuses_monitoring_without_data_capture() -> None:
    raw = _outputs(_spec())
    raw["endpoints"][0]["data_capture"]["enabled"] = False
    assert contract_problems(raw) == [
        "endpoints.0.monitoring: set although endpoints.0.data_capture captures nothing; "
        "allowed: monitoring only with data capture enabled and sampling_percent 1-100"
    ]


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("window_seconds", 90, "multiple of 60"),
        ("window_seconds", 300, "greater than or equal to 600"),
        ("alarm_windows", 25, "less than or equal to 24"),
        ("metric", "kl", "'auto', 'wasserstein'"),
        ("threshold", 1.5, "threshold 1.5 does not fit psi"),
        ("instance_type", "ml.inf2.xlarge", "not a SageMaker Processing instance type"),
        ("max_runtime_seconds", 10, "greater than or equal to 60"),
    ],
)
def test_the_monitoring_spec_bounds(field: str, value: Any, fragment: str) -> None:
    raw = _spec().model_dump(mode="json")["monitoring"]
    if field == "threshold":
        raw["metric"] = "ks"
        raw[field] = value
        fragment = "threshold 1.5 does not fit ks"
    else:
        raw[field] = value
    with pytest.raises(ValidationError, match=fragment):
        MonitoringSpec.model_validate(raw)


def test_a_feature_spec_threshold_must_fit_its_metric() -> None:
    raw = _spec().model_dump(mode="json")["monitoring"]
    raw["features"]["age"]["threshold"] = 2.0
    with pytest.raises(ValidationError, match="threshold 2 does not fit ks"):
        MonitoringSpec.model_validate(raw)
