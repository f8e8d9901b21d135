"""CloudWatch log groups (retention, KMS, a customer-managed key), alarms (actions enabled),
SNS topics (KMS, a customer-managed key)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies import tokens
from policies.builders import require_customer_managed_key, require_reference
from policies.model import Context, Rule
from policies.values import get

PROD_MIN_RETENTION_DAYS = 365


def _days(value: Any) -> int | None:
    """The engine sends numbers as floats (731.0)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def check_retention_set(props: Mapping[str, Any], ctx: Context) -> list[str]:
    days = _days(get(props, "retentionInDays"))
    if days is not None and days > 0:
        return []
    return [f"retentionInDays is {days!r}; set a retention (logs are otherwise kept forever)"]


def check_retention_prod(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not ctx.is_prod:
        return []
    days = _days(get(props, "retentionInDays"))
    if days is not None and (days == 0 or days >= PROD_MIN_RETENTION_DAYS):
        return []  # 0 = never expire, which keeps them at least a year too
    if days is None:
        return []  # reported by logs-retention-set
    return [f"retentionInDays is {days}; prod keeps logs at least {PROD_MIN_RETENTION_DAYS} days"]


def check_actions_enabled(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if get(props, "actionsEnabled") is False:
        return ["actionsEnabled is false; the alarm would never notify or roll back"]
    return []


RULES: list[Rule] = [
    Rule(
        id="logs-retention-set",
        description="CloudWatch log groups have a retention period",
        checkov_id="CKV_AWS_66",
        resource_types=tokens.LOG_GROUP,
        check=check_retention_set,
    ),
    Rule(
        id="logs-retention-prod-1y",
        description="CloudWatch log groups keep logs at least 365 days in prod",
        checkov_id="CKV_AWS_338",
        resource_types=tokens.LOG_GROUP,
        check=check_retention_prod,
    ),
    Rule(
        id="logs-kms-encryption",
        description="CloudWatch log groups are encrypted with a KMS key",
        checkov_id="CKV_AWS_158",
        resource_types=tokens.LOG_GROUP,
        check=require_reference(
            "kmsKeyId", "log groups must be encrypted with the environment's key"
        ),
        data_protection=True,
    ),
    Rule(
        id="logs-kms-customer-managed-key",
        description="CloudWatch log groups use the platform's customer-managed key, "
        "not an AWS-managed one (alias/aws/...)",
        checkov_id=None,
        resource_types=tokens.LOG_GROUP,
        check=require_customer_managed_key(
            "kmsKeyId", "log groups must be encrypted with the environment's key"
        ),
        data_protection=True,
    ),
    Rule(
        id="alarm-actions-enabled",
        description="CloudWatch alarms keep their actions enabled",
        checkov_id="CKV_AWS_319",
        resource_types=tokens.ALARMS,
        check=check_actions_enabled,
    ),
    Rule(
        id="sns-topic-kms-encryption",
        description="SNS topics are encrypted with a KMS key",
        checkov_id="CKV_AWS_26",
        resource_types=tokens.SNS_TOPIC,
        check=require_reference("kmsMasterKeyId", "topics must be encrypted with a KMS key"),
    ),
    Rule(
        id="sns-topic-kms-customer-managed-key",
        description="SNS topics use the platform's customer-managed key, not alias/aws/sns",
        checkov_id=None,
        resource_types=tokens.SNS_TOPIC,
        check=require_customer_managed_key(
            "kmsMasterKeyId",
            "topics must use the environment's key (CloudWatch alarms cannot publish to a "
            "topic under alias/aws/sns, whose policy does not let the service use it)",
        ),
    ),
]
