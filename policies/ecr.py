"""ECR repositories: scan on push, immutable tags, KMS encryption."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies import tokens
from policies.builders import require_true
from policies.model import Context, Rule
from policies.values import get, items


def check_immutable_tags(props: Mapping[str, Any], ctx: Context) -> list[str]:
    mutability = get(props, "imageTagMutability")
    if mutability == "IMMUTABLE":
        return []
    shown = "absent (defaults to MUTABLE)" if mutability is None else repr(mutability)
    return [f"imageTagMutability is {shown}; it must be 'IMMUTABLE'"]


def check_kms(props: Mapping[str, Any], ctx: Context) -> list[str]:
    configs = items(get(props, "encryptionConfigurations"), "encryptionConfigurations")
    types = [get(c, "encryptionType") for c in configs]
    if types and all(t == "KMS" for t in types):
        return []
    shown = types or "absent (defaults to AES256)"
    return [f"encryptionConfigurations[].encryptionType is {shown}; it must be 'KMS'"]


RULES: list[Rule] = [
    Rule(
        id="ecr-scan-on-push",
        description="ECR repositories scan images on push",
        checkov_id="CKV_AWS_163",
        resource_types=tokens.ECR_REPOSITORY,
        check=require_true("imageScanningConfiguration.scanOnPush"),
    ),
    Rule(
        id="ecr-immutable-tags",
        description="ECR repositories have immutable image tags",
        checkov_id="CKV_AWS_51",
        resource_types=tokens.ECR_REPOSITORY,
        check=check_immutable_tags,
    ),
    Rule(
        id="ecr-kms-encryption",
        description="ECR repositories are encrypted with KMS",
        checkov_id="CKV_AWS_136",
        resource_types=tokens.ECR_REPOSITORY,
        check=check_kms,
        data_protection=True,
    ),
]
