"""Every rule of the security baseline, in report order."""

from __future__ import annotations

from policies import (
    audit_lock,
    ecr,
    iam,
    kms,
    monitor_role,
    observability,
    resource_policies,
    s3,
    sagemaker,
    tagging,
)
from policies.model import Rule, StackRule

RULES: tuple[Rule, ...] = (
    *s3.RULES,
    *ecr.RULES,
    *kms.RULES,
    *iam.RULES,
    *resource_policies.RULES,
    *sagemaker.RULES,
    *observability.RULES,
    *tagging.RULES,
)
"""Rules over one resource's inputs."""

STACK_RULES: tuple[StackRule, ...] = (
    *s3.STACK_RULES,
    *audit_lock.STACK_RULES,
    *monitor_role.STACK_RULES,
)
"""Rules that join several resources (S3 buckets and their settings, a role and its policies)."""


def rule_ids() -> list[str]:
    return [r.id for r in RULES] + [r.id for r in STACK_RULES]
