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


def serving_artifact_key(model_key: str, filename: str) -> str:
    """``training/<job>/output/model.tar.gz`` → ``training/<job>/serving/<filename>``."""
    head, sep, _ = model_key.rpartition("/output/")
    if not sep:
        raise ValueError(
            f"model artifact key {model_key!r} is not a training job's output "
            "(<prefix>/<job>/output/model.tar.gz)"
        )
    return f"{head}/{SERVING_DIR}/{filename}"
