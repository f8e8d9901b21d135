"""IAM: no ``*`` actions, no ``*`` resources on scopable actions, trust limited to services."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from policies import tokens
from policies.model import Context, Rule
from policies.values import get, items, policy_document, statements
from policies.values import text_list as as_list

UNSCOPABLE_ACTIONS: tuple[str, ...] = (
    # no resource-level permissions: AWS only accepts "Resource": "*"
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
    "cloudwatch:ListMetrics",
    "sts:GetCallerIdentity",
    "s3:ListAllMyBuckets",
    "kms:ListKeys",
    "kms:ListAliases",
    "sagemaker:List*",
    "sagemaker:Search",
    "sagemaker:GetSearchSuggestions",
    "application-autoscaling:Describe*",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "ec2:Describe*",
    # SageMaker VPC mode: the ENIs are created by the service in subnets chosen per job,
    # so the documented execution-role policy grants these on "*"
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
)
"""Actions allowed on ``"Resource": "*"`` because AWS cannot scope them (patterns, any case)."""


def is_unscopable(action: str) -> bool:
    """Every action ``action`` may match is in :data:`UNSCOPABLE_ACTIONS`."""
    lowered = action.lower()
    return any(fnmatchcase(lowered, pattern.lower()) for pattern in UNSCOPABLE_ACTIONS)


def _documents(props: Mapping[str, Any], ctx: Context) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each identity policy document a resource carries, with where it sits."""
    if ctx.resource_type != tokens.IAM_ROLE:
        policy = get(props, "policy", ref=True, missing_is_unknown=ctx.missing_is_unknown)
        document = policy_document(policy, "policy")
        if document is not None:
            yield "policy", document
        return
    for i, inline in enumerate(items(get(props, "inlinePolicies"), "inlinePolicies")):
        path = f"inlinePolicies[{i}].policy"
        policy = get(inline, "policy", ref=True, missing_is_unknown=ctx.missing_is_unknown)
        document = policy_document(policy, path)
        if document is not None:
            name = get(inline, "name")
            yield f"inline policy {name!r}" if name else path, document


def _allows(props: Mapping[str, Any], ctx: Context) -> Iterator[tuple[str, dict[str, Any]]]:
    for where, document in _documents(props, ctx):
        for i, st in enumerate(statements(document)):
            if st.get("Effect") == "Allow":
                sid = st.get("Sid")
                yield f"{where} statement {i}" + (f" ({sid})" if sid else ""), st


def check_no_wildcard_action(props: Mapping[str, Any], ctx: Context) -> list[str]:
    problems = []
    for where, st in _allows(props, ctx):
        if {"*", "*:*"} & set(as_list(st.get("Action"))):
            problems.append(f"{where} allows every action ('*'); name the actions")
        if "NotAction" in st:
            problems.append(f"{where} allows NotAction (every other action); name the actions")
    return problems


def check_no_wildcard_resource(props: Mapping[str, Any], ctx: Context) -> list[str]:
    problems = []
    for where, st in _allows(props, ctx):
        if "*" not in as_list(st.get("Resource")) and "NotResource" not in st:
            continue
        scopable = [a for a in as_list(st.get("Action")) if not is_unscopable(a)]
        if scopable or "NotAction" in st:
            shown = ", ".join(scopable) or "NotAction"
            problems.append(
                f"{where} grants {shown} on every resource ('*'); scope it to the ARNs it needs"
            )
    return problems


def check_service_trust(props: Mapping[str, Any], ctx: Context) -> list[str]:
    raw = get(props, "assumeRolePolicy", ref=True, missing_is_unknown=ctx.missing_is_unknown)
    document = policy_document(raw, "assumeRolePolicy")
    if document is None:
        return ["assumeRolePolicy is not set"]
    problems = []
    for i, st in enumerate(statements(document)):
        if st.get("Effect") != "Allow":
            continue
        if "NotPrincipal" in st:
            problems.append(f"trust statement {i} uses NotPrincipal; name the service")
        principal = st.get("Principal")
        if principal == "*" or (
            isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS"))
        ):
            problems.append(f"trust statement {i} lets every principal ('*') assume the role")
            continue
        if not isinstance(principal, Mapping):
            continue
        others = {k: v for k, v in principal.items() if k != "Service"}
        if others and not st.get("Condition"):
            problems.append(
                f"trust statement {i} trusts {others} without a Condition; limit trust to the "
                "service (e.g. sagemaker.amazonaws.com) or constrain it with a condition"
            )
    return problems


_IDENTITY_POLICIES = tokens.IAM_POLICY_HOLDERS

RULES: list[Rule] = [
    Rule(
        id="iam-no-wildcard-action",
        description="IAM policies do not allow '*' as an action",
        checkov_id="CKV_AWS_63",
        resource_types=_IDENTITY_POLICIES,
        check=check_no_wildcard_action,
        data_protection=True,
    ),
    Rule(
        id="iam-no-wildcard-resource",
        description="IAM policies do not allow '*' as the resource of actions that can be scoped",
        checkov_id="CKV_AWS_355",
        resource_types=_IDENTITY_POLICIES,
        check=check_no_wildcard_resource,
    ),
    Rule(
        id="iam-service-trust",
        description="IAM roles are assumable only by AWS services (or conditioned principals)",
        checkov_id="CKV_AWS_60",
        resource_types=frozenset({tokens.IAM_ROLE}),
        check=check_service_trust,
    ),
]
