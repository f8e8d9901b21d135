"""Physical names of everything the platform creates, derived in one place.

Names are part of the contract: the stack defines alarms before the endpoint exists
(on EndpointName/VariantName dimensions), and the pipeline finds the endpoint, its
configs and models by these names. Pure functions, no pulumi import.
"""

from __future__ import annotations

import re

_MAX_ENDPOINT = 63
_MAX_BUCKET = 63


def prefix(project: str, environment: str) -> str:
    """``mlops-stack`` + ``prod`` → ``mlops-stack-prod`` (lower case, hyphens only)."""
    return re.sub(r"[^a-z0-9-]+", "-", f"{project}-{environment}".lower()).strip("-")


def endpoint_name(project: str, environment: str, endpoint: str) -> str:
    name = f"{prefix(project, environment)}-{endpoint}"
    if len(name) > _MAX_ENDPOINT:
        raise ValueError(
            f"endpoint name {name!r} is {len(name)} characters; SageMaker allows {_MAX_ENDPOINT} "
            "(shorten the project or endpoint name)"
        )
    return name


def bucket_name(project: str, environment: str, purpose: str, account_id: str, region: str) -> str:
    """Globally unique: ``<prefix>-<purpose>-<account>-<region>``, shortened to fit 63 characters."""
    name = f"{prefix(project, environment)}-{purpose}-{account_id}-{region}"
    if len(name) > _MAX_BUCKET:
        name = f"{prefix(project, environment)}-{purpose}-{account_id}"
    if len(name) > _MAX_BUCKET:
        raise ValueError(
            f"bucket name {name!r} is {len(name)} characters; S3 allows {_MAX_BUCKET} "
            "(shorten the project name)"
        )
    return name


def alarm_name(endpoint: str, alarm: str) -> str:
    """``mlops-stack-prod-churn`` + ``5xx`` → ``mlops-stack-prod-churn-5xx``."""
    return f"{endpoint}-{alarm}"


def endpoint_config_name(endpoint: str, version: str) -> str:
    """Versioned, immutable EndpointConfig / Model names (≤ 63 characters)."""
    name = f"{endpoint}-{version}"
    return name[-_MAX_ENDPOINT:].lstrip("-")


# ------------------------------------------------------------ model artifact keys

MODEL_ARTIFACT_KEYS = (
    "training/*/output/model.tar.gz",
    "training/*/serving/model.tar.gz",
    "training/*/serving/sourcedir.tar.gz",
    "promoted/*/model.tar.gz",
)
"""Keys in the model bucket a Model loads (IAM wildcards, ``*`` = job or promotion path):
what a training job writes (``S3OutputPath`` is ``training/``), the copy ``register`` repacks
with the inference code, the handlers' tarball of ``register --serving-code s3``, and the copy
``promote`` makes. Endpoint roles read these and nothing else in the bucket: not the training
source (``source/``), checkpoints, lineage, metrics or the audit trail."""

SERVING_DIR = "serving"


def _job_prefix(model_key: str) -> str:
    """``training/<job>/output/model.tar.gz`` → ``training/<job>``."""
    head, sep, _ = model_key.rpartition("/output/")
    if not sep:
        raise ValueError(
            f"model artifact key {model_key!r} is not a training job's output "
            "(<prefix>/<job>/output/model.tar.gz)"
        )
    return head


def serving_artifact_key(model_key: str, filename: str) -> str:
    """``training/<job>/output/model.tar.gz`` → ``training/<job>/serving/<filename>``."""
    return f"{_job_prefix(model_key)}/{SERVING_DIR}/{filename}"


# ------------------------------------------------------------------ drift monitoring

DRIFT_NAMESPACE = "MLOps/ModelMonitoring"
"""CloudWatch namespace of the drift job's metrics (``mlops monitor run``), each timestamped at
the end of the window it measured:

- ``FeatureDrift`` (dimensions ``EndpointName``, ``VariantName``, ``Feature``): the value of the
  feature's drift method (a distance, or a p-value for ``ks`` / ``chi_square``);
- ``DriftedFeatures`` (``EndpointName``, ``VariantName``): how many features drifted; the
  stack's drift alarm watches this one (≥ 1 for ``alarm_windows`` windows);
- ``DataQualityViolations`` (``EndpointName``, ``VariantName``): missing-rate, type, unseen
  category and column violations;
- ``MonitoredSamples`` (``EndpointName``, ``VariantName``): captured rows in the window."""

DRIFT_METRIC = "DriftedFeatures"
FEATURE_DRIFT_METRIC = "FeatureDrift"
DATA_QUALITY_METRIC = "DataQualityViolations"
SAMPLES_METRIC = "MonitoredSamples"

BASELINE_DIR = "baseline"
BASELINE_KEYS = ("training/*/baseline/*", "baselines/*")
"""Keys in the model bucket where baselines live (IAM wildcards): the one ``register`` computes
next to the training job's artifacts, and any a user uploads under ``baselines/``. A monitored
endpoint's processing role reads these and nothing else in the model bucket."""

PROCESSING_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"


def baseline_key(model_key: str) -> str:
    """``training/<job>/output/model.tar.gz`` → ``training/<job>/baseline`` (no trailing slash)."""
    return f"{_job_prefix(model_key)}/{BASELINE_DIR}"


def capture_prefix(endpoint_name: str) -> str:
    """Key prefix of an endpoint's data capture in the capture bucket (DestinationS3Uri's path;
    SageMaker adds ``<EndpointName>/<VariantName>/yyyy/mm/dd/hh/`` below it)."""
    return f"{endpoint_name}/"


def reports_prefix(endpoint_name: str) -> str:
    """Key prefix of the drift job's reports in the capture bucket, next to the captured data
    (``<prefix><VariantName>/yyyy/mm/dd/hh-mm/``): the only place its role may write."""
    return f"{endpoint_name}/reports/"


def processing_role_name(endpoint_name: str) -> str:
    """The monitored endpoint's processing (drift job) role: ``<endpoint>-monitor`` (≤ 64)."""
    return f"{endpoint_name}-monitor"[-64:].lstrip("-")
