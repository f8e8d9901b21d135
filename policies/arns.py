"""ARNs, principals, wildcards and condition keys: pure helpers for the IAM and
resource-policy rules (no pulumi import).

Also where the stack's own account comes from when the caller does not say
(:func:`own_account_of`): the ARNs the provider computed for resources the plan
creates — never from a policy's text, which the author controls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from policies import tokens
from policies.model import Context, Resource
from policies.values import is_unknown
from policies.values import text_list as as_list

ACCOUNT_ID = re.compile(r"^\d{12}$")

SENSITIVE_SERVICES: frozenset[str] = frozenset(
    {
        # identities and who may become them
        "iam",
        "sts",
        "organizations",
        # keys and secrets
        "kms",
        "secretsmanager",
        "ssm",
        # the platform's data, models and images
        "s3",
        "sagemaker",
        "ecr",
        # the audit trail, the alarms that roll deployments back, and their notifications
        "logs",
        "cloudwatch",
        "cloudtrail",
        "sns",
        "sqs",
        # code that runs with a role
        "lambda",
    }
)
"""Services whose prefix wildcards (``s3:Get*``) and whole-type wildcard ARNs
(``arn:aws:s3:::*``, ``role/*``) the IAM rules refuse. A service-wide ``svc:*`` is refused
for every service. ``ec2`` is not listed: its ``Describe*`` calls take no resource, and
SageMaker's VPC mode needs ``network-interface/*`` (the ENI ids do not exist yet)."""


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def only_wildcards(text: str) -> bool:
    """``*``, ``**``, ``?*`` …: matches anything (an empty string does not count)."""
    return bool(text) and all(c in "*?" for c in text)


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(text: str) -> Arn | None:
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(*parts[1:])


def _split_type(resource: str) -> tuple[str, str | None]:
    """``role/path/name`` → (``role``, ``path/name``); ``log-group:x:*`` → (``log-group``,
    ``x:*``); a resource without a type separator → (resource, None)."""
    cut = min((i for i in (resource.find("/"), resource.find(":")) if i >= 0), default=-1)
    if cut < 0:
        return resource, None
    return resource[:cut], resource[cut + 1 :]


def covers_every(resource: str) -> str | None:
    """What a wildcard resource ARN of a sensitive service covers entirely, e.g. ``every S3
    bucket`` or ``every iam role``; ``None`` when it is scoped (or not such an ARN)."""
    arn = parse_arn(resource)
    if arn is None:
        return None
    service = arn.service.lower()
    if has_wildcard(arn.service):
        return "resources of every service"
    if service not in SENSITIVE_SERVICES:
        return None
    if has_wildcard(arn.account):
        return f"{service} resources in every account"
    if service == "s3":  # arn:aws:s3:::bucket[/key]
        bucket = arn.resource.split("/", 1)[0]
        return "every S3 bucket" if only_wildcards(bucket) else None
    kind, rest = _split_type(arn.resource)
    if only_wildcards(kind):
        return f"every {service} resource"
    if rest is not None and only_wildcards(rest):
        return f"every {service} {kind}"
    return None


def principal_account(value: str) -> str | None:
    """The account an AWS principal names (``123456789012``, ``arn:aws:iam::123456789012:root``,
    a role, user or assumed-role ARN, an OIDC provider ARN); ``None`` when it names none."""
    if ACCOUNT_ID.match(value):
        return value
    arn = parse_arn(value)
    if arn is None or arn.service not in {"iam", "sts"} or not arn.account:
        return None
    return arn.account


def principals(principal: Any) -> dict[str, list[str]]:
    """A statement's ``Principal`` as ``{"AWS": [...], "Service": [...], ...}``;
    ``"*"`` → ``{"*": ["*"]}``."""
    if principal is None:
        return {}
    if isinstance(principal, str):
        return {"*": [principal]} if principal == "*" else {"AWS": [principal]}
    if isinstance(principal, Mapping):
        return {str(k): as_list(v) for k, v in principal.items()}
    return {"?": as_list(principal)}


def statement_label(prefix: str, index: int, statement: Mapping[str, Any]) -> str:
    sid = statement.get("Sid")
    return f"{prefix} {index}" + (f" ({sid})" if sid else "")


# ----------------------------------------------------------------- condition keys

_POSITIVE = frozenset(
    {
        "stringequals",
        "stringlike",
        "stringequalsignorecase",
        "arnequals",
        "arnlike",
    }
)


def _base_operator(operator: str) -> str:
    op = operator.lower()
    for qualifier in ("foranyvalue:", "forallvalues:"):
        op = op.removeprefix(qualifier)
    return op.removesuffix("ifexists")


def condition_values(condition: Any, key_matches: Any) -> list[tuple[str, list[str]]]:
    """``(operator, values)`` for each condition key ``key_matches(key)`` accepts, under an
    operator that restricts it (StringEquals, StringLike, ArnEquals, ArnLike and their
    ``ForAnyValue:``/``IfExists`` forms; negated operators restrict nothing)."""
    if not isinstance(condition, Mapping):
        return []
    found = []
    for operator, clauses in condition.items():
        if _base_operator(str(operator)) not in _POSITIVE or not isinstance(clauses, Mapping):
            continue
        for key, value in clauses.items():
            if key_matches(str(key).lower()):
                found.append((str(operator), as_list(value)))
    return found


# -------------------------------------------------------------------- own account

_ACCOUNT_ARN_TYPES = (
    tokens.KMS_KEY
    | tokens.SNS_TOPIC
    | tokens.ECR_REPOSITORY
    | tokens.LOG_GROUP
    | frozenset({tokens.IAM_ROLE, "aws:sagemaker/modelPackageGroup:ModelPackageGroup"})
)
"""Types whose ``arn`` is computed by the provider (never an input) and names the account."""


def own_account_of(resources: Iterable[Resource]) -> str | None:
    """The one account the provider-computed ARNs in the plan's state name, else ``None``
    (none known yet — a preview — or several)."""
    accounts = set()
    for r in resources:
        value = r.state.get("arn") if r.type in _ACCOUNT_ARN_TYPES else None
        if not isinstance(value, str) or is_unknown(value):
            continue
        arn = parse_arn(value)
        if arn is not None and ACCOUNT_ID.match(arn.account):
            accounts.add(arn.account)
    return accounts.pop() if len(accounts) == 1 else None


def own_account_text(ctx: Context) -> str:
    """How a message names the stack's account (or says it is unknown)."""
    if ctx.account_id is None:
        return "this stack's account (unknown here, so no account counts as it)"
    return f"this stack's account {ctx.account_id}"
