"""SageMaker: endpoint-config and data-capture KMS, model network isolation, monitoring jobs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.instance_types import LOCAL_NVME_FAMILIES
from policies import tokens
from policies.builders import require_reference, require_true
from policies.model import Context, Rule
from policies.values import get, items


def _family(instance_type: Any) -> str | None:
    if not isinstance(instance_type, str) or instance_type.count(".") != 2:
        return None
    return instance_type.split(".")[1]


def check_endpoint_config_kms(props: Mapping[str, Any], ctx: Context) -> list[str]:
    variants = items(get(props, "productionVariants"), "productionVariants")
    variants += items(get(props, "shadowProductionVariants"), "shadowProductionVariants")
    exempt = [
        v
        for v in variants
        if get(v, "serverlessConfig") is not None
        or _family(get(v, "instanceType")) in LOCAL_NVME_FAMILIES
    ]
    if variants and len(exempt) == len(variants):
        return []  # serverless or local-NVMe instances: AWS refuses a KmsKeyId here
    key = get(props, "kmsKeyArn", ref=True, missing_is_unknown=ctx.missing_is_unknown)
    return [] if key else ["kmsKeyArn is not set: the ML storage volume must use the KMS key"]


def check_data_capture_kms(props: Mapping[str, Any], ctx: Context) -> list[str]:
    capture = get(props, "dataCaptureConfig")
    if capture is None or get(capture, "enableCapture") is False:
        return []
    key = get(capture, "kmsKeyId", ref=True, missing_is_unknown=ctx.missing_is_unknown)
    return [] if key else ["dataCaptureConfig.kmsKeyId is not set: captured traffic needs the key"]


RULES: list[Rule] = [
    Rule(
        id="sagemaker-endpoint-config-kms",
        description="SageMaker endpoint configurations encrypt the ML storage volume with KMS",
        checkov_id="CKV_AWS_98",
        resource_types=tokens.SAGEMAKER_ENDPOINT_CONFIG,
        check=check_endpoint_config_kms,
        data_protection=True,
    ),
    Rule(
        id="sagemaker-data-capture-kms",
        description="SageMaker data capture encrypts captured traffic with KMS",
        checkov_id=None,
        resource_types=tokens.SAGEMAKER_ENDPOINT_CONFIG,
        check=check_data_capture_kms,
        data_protection=True,
    ),
    Rule(
        id="sagemaker-model-network-isolation",
        description="SageMaker models run with network isolation",
        checkov_id="CKV_AWS_370",
        resource_types=tokens.SAGEMAKER_MODEL,
        check=require_true("enableNetworkIsolation"),
    ),
    Rule(
        id="sagemaker-monitoring-output-kms",
        description="SageMaker monitoring jobs encrypt their output with KMS",
        checkov_id="CKV_AWS_367",
        resource_types=tokens.SAGEMAKER_DATA_QUALITY,
        check=require_reference(
            "dataQualityJobOutputConfig.kmsKeyId", "monitoring output must use the KMS key"
        ),
        data_protection=True,
    ),
    Rule(
        id="sagemaker-monitoring-volume-kms",
        description="SageMaker monitoring jobs encrypt their storage volume with KMS",
        checkov_id="CKV_AWS_368",
        resource_types=tokens.SAGEMAKER_DATA_QUALITY,
        check=require_reference(
            "jobResources.clusterConfig.volumeKmsKeyId", "the job volume must use the KMS key"
        ),
        data_protection=True,
    ),
    Rule(
        id="sagemaker-inter-container-encryption",
        description="SageMaker monitoring jobs encrypt traffic between their instances",
        checkov_id="CKV_AWS_369",
        resource_types=tokens.SAGEMAKER_DATA_QUALITY,
        check=require_true("networkConfig.enableInterContainerTrafficEncryption"),
        data_protection=True,
    ),
]
