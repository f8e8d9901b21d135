"""IAM: no ``*`` or service-wide actions, no ``*`` or whole-type resources on scopable
actions, iam:PassRole scoped to this environment's roles and one service, trust limited to
this account's services (with source conditions) and narrowly scoped OIDC subjects."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from policies import tokens
from policies.arns import (
    SENSITIVE_SERVICES,
    condition_values,
    covers_every,
    has_wildcard,
    only_wildcards,
    own_account_text,
    parse_arn,
    principal_account,
    principals,
    statement_label,
)
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
        wild = [
            f"{kind} {value!r}"
            for kind, values in principals(principal).items()
            for value in values
            if has_wildcard(value)
        ]
        if wild:
            problems.append(
                f"trust statement {i} trusts {', '.join(wild)}: a wildcard lets every "
                "principal of that kind assume the role; name the service"
            )
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


# ------------------------------------------------------- wildcards beyond a bare '*'


def _wildcard_action_problem(action: str) -> str | None:
    """Why ``action`` (``svc:Name*``) is too broad, or ``None``."""
    if action in {"*", "*:*"} or ":" not in action:
        return None  # iam-no-wildcard-action
    service, name = action.split(":", 1)
    if has_wildcard(service):
        return f"{action!r} matches actions of several services"
    if only_wildcards(name):
        return f"{action!r} allows every {service} action"
    if not has_wildcard(name) or service.lower() not in SENSITIVE_SERVICES:
        return None
    if is_unscopable(action):
        return None  # e.g. sagemaker:List*, which AWS cannot scope anyway
    return f"{action!r} allows every {service} action matching {name!r}"


def check_no_service_wildcard_action(props: Mapping[str, Any], ctx: Context) -> list[str]:
    problems = []
    for where, st in _allows(props, ctx):
        for action in as_list(st.get("Action")):
            problem = _wildcard_action_problem(action)
            if problem:
                problems.append(f"{where}: {problem}; name the actions it needs")
    return problems


def check_no_broad_resource_arn(props: Mapping[str, Any], ctx: Context) -> list[str]:
    problems = []
    for where, st in _allows(props, ctx):
        for resource in as_list(st.get("Resource")):
            covered = covers_every(resource)
            if covered:
                problems.append(
                    f"{where} grants access to {resource!r}, {covered}; name the resources "
                    "(e.g. this environment's, by name prefix)"
                )
    return problems


# ----------------------------------------------------------------------- PassRole

_PASS_ROLE = "iam:passrole"


def _passes_roles(st: Mapping[str, Any]) -> bool:
    return any(fnmatchcase(_PASS_ROLE, a.lower()) for a in as_list(st.get("Action")))


def _role_problem(resource: str, ctx: Context) -> str | None:
    """Why ``resource`` is not one of this environment's roles, or ``None``."""
    if only_wildcards(resource):
        return "every role ('*')"
    arn = parse_arn(resource)
    if arn is None or arn.service != "iam" or not arn.resource.startswith("role/"):
        return f"{resource!r}, which is not a role ARN"
    if has_wildcard(arn.account):
        return f"{resource!r}, roles in every account"
    if ctx.account_id is not None and arn.account != ctx.account_id:
        return f"{resource!r}, a role in account {arn.account}, not {own_account_text(ctx)}"
    path, _, name = arn.resource.removeprefix("role/").rpartition("/")
    if has_wildcard(path):
        return f"{resource!r}, a wildcard role path"
    if ctx.name_prefix is None:
        return f"{resource!r}, a wildcard role name" if has_wildcard(name) else None
    required = f"{ctx.name_prefix}-"
    literal = name[
        : min((i for i in (name.find("*"), name.find("?")) if i >= 0), default=len(name))
    ]
    if literal.startswith(required):
        return None
    return f"{resource!r}, not one of this environment's roles (names start with {required!r})"


def _passed_to_service_problem(st: Mapping[str, Any]) -> str | None:
    found = condition_values(st.get("Condition"), lambda key: key == "iam:passedtoservice")
    values = [v for _, vs in found for v in vs]
    if not values:
        return (
            "has no iam:PassedToService condition; name the service the role is passed to "
            "(e.g. sagemaker.amazonaws.com)"
        )
    wild = [v for v in values if has_wildcard(v)]
    if wild:
        return f"conditions iam:PassedToService on {wild}, a wildcard; name the service"
    return None


def check_pass_role(props: Mapping[str, Any], ctx: Context) -> list[str]:
    problems = []
    for where, st in _allows(props, ctx):
        if not _passes_roles(st):
            continue
        if "NotResource" in st:
            problems.append(f"{where} allows iam:PassRole on NotResource (every other role)")
        for resource in as_list(st.get("Resource")):
            problem = _role_problem(resource, ctx)
            if problem:
                problems.append(
                    f"{where} allows iam:PassRole on {problem}; name this environment's role ARNs"
                )
        condition = _passed_to_service_problem(st)
        if condition:
            problems.append(f"{where} allows iam:PassRole but {condition}")
    return problems


# -------------------------------------------------------------------------- trust


def _trusts(props: Mapping[str, Any], ctx: Context) -> list[tuple[str, dict[str, Any]]]:
    raw = get(props, "assumeRolePolicy", ref=True, missing_is_unknown=ctx.missing_is_unknown)
    document = policy_document(raw, "assumeRolePolicy")
    if document is None:
        return []  # iam-service-trust reports the missing document
    return [
        (statement_label("trust statement", i, st), st)
        for i, st in enumerate(statements(document))
        if st.get("Effect") == "Allow"
    ]


def check_trust_no_other_account(props: Mapping[str, Any], ctx: Context) -> list[str]:
    problems = []
    for where, st in _trusts(props, ctx):
        for kind, values in principals(st.get("Principal")).items():
            if kind not in {"AWS", "Federated", "CanonicalUser"}:
                continue
            for value in values:
                if only_wildcards(value):
                    continue  # iam-service-trust
                account = principal_account(value) if kind != "CanonicalUser" else None
                if account is None:
                    if kind == "Federated" and not value.startswith("arn:"):
                        continue  # a public identity provider (accounts.google.com …)
                    problems.append(
                        f"{where} trusts {kind} {value!r}, which names no account this rule "
                        f"can check; only {own_account_text(ctx)} may be trusted"
                    )
                elif not ctx.is_own_account(account):
                    problems.append(
                        f"{where} trusts {kind} {value!r} in account {account}; only "
                        f"{own_account_text(ctx)} may be trusted (conditions do not change "
                        "that: cross_account_ids are read through resource policies, never "
                        "by assuming this environment's roles)"
                    )
    return problems


def _source_problem(st: Mapping[str, Any], ctx: Context) -> str | None:
    condition = st.get("Condition")
    accounts = [
        v for _, vs in condition_values(condition, lambda k: k == "aws:sourceaccount") for v in vs
    ]
    arns = [v for _, vs in condition_values(condition, lambda k: k == "aws:sourcearn") for v in vs]
    if not accounts and not arns:
        return (
            "has no aws:SourceAccount or aws:SourceArn condition (confused deputy); "
            "use components.iam.service_trust_policy"
        )
    named = [*accounts, *[a.account for a in map(parse_arn, arns) if a is not None]]
    named += ["*" for value in arns if parse_arn(value) is None]
    foreign = sorted({a for a in named if not ctx.is_own_account(a)})
    if foreign:
        return (
            f"conditions the source on account(s) {foreign}; only {own_account_text(ctx)} "
            "may be the source"
        )
    return None


def check_trust_service_source(props: Mapping[str, Any], ctx: Context) -> list[str]:
    problems = []
    for where, st in _trusts(props, ctx):
        services = [s for s in principals(st.get("Principal")).get("Service", []) if s]
        if not services or any(has_wildcard(s) for s in services):
            continue  # no service, or a wildcard one (iam-service-trust)
        problem = _source_problem(st, ctx)
        if problem:
            problems.append(f"{where} trusts {', '.join(services)} but {problem}")
    return problems


_SCOPED_SUBJECT = re.compile(r"^[^:*?]+:[^/:*?]+/[^/:*?]+:")
"""A wildcard subject must name its repository first: ``repo:owner/name:*``."""


def _web_identity(st: Mapping[str, Any]) -> bool:
    actions = [a.lower() for a in as_list(st.get("Action"))]
    web = any(fnmatchcase("sts:assumerolewithwebidentity", a) for a in actions)
    return web and "Federated" in principals(st.get("Principal"))


def _subject_problem(operator: str, value: str) -> str | None:
    if only_wildcards(value):
        return f"{operator} {value!r} admits every subject"
    if not has_wildcard(value):
        return None
    if _SCOPED_SUBJECT.match(value):
        return None
    return (
        f"{operator} {value!r} is a broad wildcard (a wildcard is accepted only after "
        "the repository, e.g. 'repo:owner/name:*')"
    )


def check_trust_oidc_subject(props: Mapping[str, Any], ctx: Context) -> list[str]:
    problems = []
    for where, st in _trusts(props, ctx):
        if not _web_identity(st):
            continue
        found = condition_values(st.get("Condition"), lambda key: key.endswith(":sub"))
        if not found:
            problems.append(
                f"{where} trusts a web identity without a ':sub' condition: every identity "
                "of the provider may assume the role; name the subject (e.g. "
                "'repo:owner/name:ref:refs/heads/main')"
            )
            continue
        for operator, values in found:
            for value in values:
                problem = _subject_problem(operator, value)
                if problem:
                    problems.append(f"{where} trusts a web identity whose ':sub' {problem}")
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
        id="iam-no-service-wildcard-action",
        description="IAM policies do not allow a service's every action (svc:*) or prefix "
        "wildcards (s3:Get*) on sensitive services",
        checkov_id=None,
        resource_types=_IDENTITY_POLICIES,
        check=check_no_service_wildcard_action,
        data_protection=True,
    ),
    Rule(
        id="iam-no-broad-resource-arn",
        description="IAM policies do not grant sensitive services' whole-type wildcard ARNs "
        "(arn:aws:s3:::*, role/*, key/*)",
        checkov_id=None,
        resource_types=_IDENTITY_POLICIES,
        check=check_no_broad_resource_arn,
    ),
    Rule(
        id="iam-pass-role-scoped",
        description="iam:PassRole names this environment's role ARNs and one service "
        "(iam:PassedToService)",
        checkov_id=None,
        resource_types=_IDENTITY_POLICIES,
        check=check_pass_role,
    ),
    Rule(
        id="iam-service-trust",
        description="IAM roles are assumable only by AWS services (or conditioned principals)",
        checkov_id="CKV_AWS_60",
        resource_types=frozenset({tokens.IAM_ROLE}),
        check=check_service_trust,
    ),
    Rule(
        id="iam-trust-no-other-account",
        description="IAM role trust policies name no other account, whatever the Condition",
        checkov_id=None,
        resource_types=frozenset({tokens.IAM_ROLE}),
        check=check_trust_no_other_account,
    ),
    Rule(
        id="iam-trust-service-source",
        description="IAM roles trusting a service condition it on aws:SourceAccount or "
        "aws:SourceArn of this account",
        checkov_id=None,
        resource_types=frozenset({tokens.IAM_ROLE}),
        check=check_trust_service_source,
    ),
    Rule(
        id="iam-trust-oidc-subject",
        description="IAM roles trusting an OIDC provider name the subject (':sub'), "
        "not '*' or a broad wildcard",
        checkov_id=None,
        resource_types=frozenset({tokens.IAM_ROLE}),
        check=check_trust_oidc_subject,
    ),
]
