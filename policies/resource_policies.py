"""Resource policies (bucket, key, repository, topic, queue, model package group, secret):
their Allow statements open to no one but this account, the trusted accounts and services.

Allowed principals: ``{"AWS": ...}`` naming this stack's account or one of
``Context.trusted_accounts`` (``registry.cross_account_ids``), and ``{"Service": ...}``
(``logging.s3.amazonaws.com``, ``logs.<region>.amazonaws.com``: a service acts for the
resources that name it). Refused, whatever the Condition: ``"*"``, ``{"AWS": "*"}`` or any
wildcard principal, ``NotPrincipal``, an account not listed, and principals that name no
account this rule can check (canonical users, federated users, unique ids). Deny
statements (the TLS-only deny to ``*``) are not judged here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from policies import tokens
from policies.arns import (
    has_wildcard,
    own_account_text,
    principal_account,
    principals,
    statement_label,
)
from policies.model import Context, ResourceCheck, Rule
from policies.values import get, policy_document, statements


def _allowed_text(ctx: Context) -> str:
    trusted = ", ".join(ctx.trusted_accounts) or "none"
    return f"allowed: {own_account_text(ctx)}, the trusted accounts ({trusted}) and services"


def principal_problems(where: str, principal: Any, ctx: Context) -> list[str]:
    """What an Allow statement's ``Principal`` opens the resource to that it must not."""
    problems = []
    for kind, values in principals(principal).items():
        if kind == "Service":
            problems += [
                f"{where} opens the resource to every service ({value!r})"
                for value in values
                if has_wildcard(value)
            ]
            continue
        for value in values:
            if kind == "*" or has_wildcard(value):
                problems.append(f"{where} opens the resource to every principal ({value!r})")
                continue
            account = principal_account(value) if kind == "AWS" else None
            if account is None:
                problems.append(
                    f"{where} grants {kind} {value!r}, which names no account this rule can "
                    f"check; {_allowed_text(ctx)}"
                )
            elif not ctx.may_be_granted(account):
                problems.append(
                    f"{where} grants account {account} ({value!r}); {_allowed_text(ctx)}"
                )
    return problems


def document_problems(document: Mapping[str, Any], label: str, ctx: Context) -> list[str]:
    problems = []
    for i, st in enumerate(statements(document)):
        if st.get("Effect") != "Allow":
            continue
        where = statement_label(f"{label} statement", i, st)
        if "NotPrincipal" in st:
            problems.append(f"{where} allows NotPrincipal (everyone else); name the principals")
        problems += principal_problems(where, st.get("Principal"), ctx)
    return problems


@dataclass(frozen=True)
class _Holder:
    prop: str
    required: bool
    """The policy is the resource's reason to exist (absent = not yet known in mock plans);
    otherwise absent means AWS's default (the account only)."""


def _check(label: str, holders: Mapping[str, _Holder]) -> ResourceCheck:
    def check(props: Mapping[str, Any], ctx: Context) -> list[str]:
        holder = holders[ctx.resource_type]
        raw = get(
            props,
            holder.prop,
            ref=holder.required,
            missing_is_unknown=ctx.missing_is_unknown,
        )
        document = policy_document(raw, holder.prop)
        if document is None:
            return []
        return document_problems(document, label, ctx)

    return check


def _rule(
    id: str,
    label: str,
    checkov_id: str | None,
    holders: Mapping[frozenset[str], _Holder],
) -> Rule:
    by_type = {t: holder for types, holder in holders.items() for t in types}
    return Rule(
        id=id,
        description=f"{label[0].upper()}{label[1:]}s open to no principal but this account, "
        "the trusted accounts and services",
        checkov_id=checkov_id,
        resource_types=frozenset(by_type),
        check=_check(label, by_type),
        data_protection=True,
    )


RULES: list[Rule] = [
    _rule(
        "s3-bucket-policy-principals",
        "bucket policy",
        "CKV_AWS_70",
        {tokens.S3_POLICY: _Holder("policy", required=True)},
    ),
    _rule(
        "kms-key-policy-principals",
        "key policy",
        "CKV_AWS_33",
        {
            tokens.KMS_KEY: _Holder("policy", required=False),
            tokens.KMS_KEY_POLICY: _Holder("policy", required=True),
        },
    ),
    _rule(
        "ecr-repository-policy-principals",
        "repository policy",
        "CKV_AWS_32",
        {
            tokens.ECR_REPOSITORY_POLICY: _Holder("policy", required=True),
            tokens.ECR_REGISTRY_POLICY: _Holder("policy", required=True),
        },
    ),
    _rule(
        "sns-topic-policy-principals",
        "topic policy",
        "CKV_AWS_169",
        {
            tokens.SNS_TOPIC_POLICY: _Holder("policy", required=True),
            tokens.SNS_TOPIC: _Holder("policy", required=False),
        },
    ),
    _rule(
        "sqs-queue-policy-principals",
        "queue policy",
        "CKV_AWS_168",
        {
            tokens.SQS_QUEUE_POLICY: _Holder("policy", required=True),
            tokens.SQS_QUEUE: _Holder("policy", required=False),
        },
    ),
    _rule(
        "sagemaker-model-package-group-policy-principals",
        "model package group policy",
        None,
        {tokens.SAGEMAKER_MODEL_PACKAGE_GROUP_POLICY: _Holder("resourcePolicy", required=True)},
    ),
    _rule(
        "secretsmanager-secret-policy-principals",
        "secret policy",
        None,
        {tokens.SECRET_POLICY: _Holder("policy", required=True)},
    ),
]
