"""The access rules' edges: wildcards beyond '*', iam:PassRole, trust, resource policies,
AWS-managed keys, and what the rules do when the stack's facts are unknown."""

from __future__ import annotations

import json
from typing import Any

import pytest

import policies
from tests.policies.plans import KEY_ARN, TAGS, Planned
from tests.policies.test_resource_rules import (
    ACCOUNT,
    FACTS,
    GITHUB,
    PASSED_TO_SAGEMAKER,
    POLICY,
    PREFIX,
    ROLE,
    ROLE_ARN,
    ROLE_POLICY,
    S3_ARN,
    SUB,
    TRUSTED,
    allow,
    doc,
    grant,
    oidc_trust,
    pass_role,
    resource_policy,
    trust,
)

OWN_ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def found(
    rule_id: str, type_: str, inputs: dict[str, Any], *extra: Planned, **facts: Any
) -> list[str]:
    plan = [Planned(type_, "res", inputs), *extra]
    violations = policies.evaluate(plan, "prod", missing_is_unknown=False, **facts)
    assert all(v.level == "mandatory" for v in violations if v.policy == rule_id)
    return [v.message for v in violations if v.policy == rule_id]


def role_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"role": "r", "policy": doc(*statements)}


# ------------------------------------------------------------------ the stack's facts


def test_unknown_own_account_is_strict() -> None:
    own = {"bucket": "b", "policy": resource_policy({"AWS": OWN_ROOT})}
    (message,) = found("s3-bucket-policy-principals", POLICY, own)
    assert f"grants account {ACCOUNT}" in message
    assert "this stack's account (unknown here, so no account counts as it)" in message
    assert found("s3-bucket-policy-principals", POLICY, own, account_id=ACCOUNT) == []


def test_own_account_is_derived_from_computed_arns_only() -> None:
    own = {"bucket": "b", "policy": resource_policy({"AWS": OWN_ROOT})}
    key_arn = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/k"
    key = Planned("aws:kms/key:Key", "key", {"tags": TAGS}, state={"arn": key_arn})
    assert found("s3-bucket-policy-principals", POLICY, own, key) == []
    # an ARN in a resource's *inputs* is the author's word, not the provider's
    authored = Planned("aws:kms/key:Key", "key", {"tags": TAGS, "arn": key_arn})
    assert found("s3-bucket-policy-principals", POLICY, own, authored) != []
    # two accounts among the computed ARNs: no single own account, so strict
    other = Planned(
        "aws:iam/role:Role", "role", {}, state={"arn": "arn:aws:iam::999999999999:role/x"}
    )
    assert found("s3-bucket-policy-principals", POLICY, own, key, other) != []


def test_trusted_accounts_open_resource_policies_but_never_trust() -> None:
    read = {"bucket": "b", "policy": resource_policy({"AWS": f"arn:aws:iam::{TRUSTED}:root"})}
    assert found("s3-bucket-policy-principals", POLICY, read, **FACTS) == []
    assumed = {"assumeRolePolicy": trust({"AWS": f"arn:aws:iam::{TRUSTED}:root"}), "tags": TAGS}
    assert found("iam-trust-no-other-account", ROLE, assumed, **FACTS) != []


# --------------------------------------------------------------- wildcard actions


@pytest.mark.parametrize(
    ("action", "fragment"),
    [
        ("kms:*", "every kms action"),
        ("ec2:*", "every ec2 action"),  # service-wide: refused for any service
        ("s3:*Object", "every s3 action matching '*Object'"),
        ("sts:Assume?ole", "every sts action matching 'Assume?ole'"),
        ("secretsmanager:Get*", "every secretsmanager action matching 'Get*'"),
        ("*:GetObject", "matches actions of several services"),
        ("sagemaker:Create*", "every sagemaker action matching 'Create*'"),
    ],
)
def test_wildcard_actions_are_refused(action: str, fragment: str) -> None:
    (message,) = found(
        "iam-no-service-wildcard-action", ROLE_POLICY, role_policy(allow(action, S3_ARN))
    )
    assert fragment in message and "policy statement 0" in message


@pytest.mark.parametrize(
    "action",
    ["sagemaker:List*", "ec2:Describe*", "application-autoscaling:Describe*", "ec2:Get*"],
)
def test_unscopable_or_insensitive_prefix_wildcards_are_allowed(action: str) -> None:
    assert (
        found("iam-no-service-wildcard-action", ROLE_POLICY, role_policy(allow(action, "*"))) == []
    )


def test_denied_wildcards_are_not_judged() -> None:
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*"}
    props = role_policy(deny)
    assert found("iam-no-service-wildcard-action", ROLE_POLICY, props) == []
    assert found("iam-no-broad-resource-arn", ROLE_POLICY, props) == []


@pytest.mark.parametrize(
    ("resource", "fragment"),
    [
        ("arn:aws:s3:::*", "every S3 bucket"),
        (f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*", "every kms key"),
        (f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:*", "every secretsmanager secret"),
        (f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:*", "every logs log-group"),
        (f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:*", "every sagemaker resource"),
        ("arn:aws:iam::*:role/x", "iam resources in every account"),
        ("arn:aws:*:eu-west-1:1:thing/x", "resources of every service"),
    ],
)
def test_whole_type_wildcard_arns_are_refused(resource: str, fragment: str) -> None:
    (message,) = found(
        "iam-no-broad-resource-arn", ROLE_POLICY, role_policy(allow("s3:GetObject", resource))
    )
    assert fragment in message and repr(resource) in message


# ------------------------------------------------------------------------ PassRole


def test_pass_role_without_a_known_prefix_still_wants_exact_role_arns() -> None:
    exact = role_policy(json.loads(pass_role(ROLE_ARN, PASSED_TO_SAGEMAKER))["Statement"][0])
    assert found("iam-pass-role-scoped", ROLE_POLICY, exact) == []
    wild = role_policy(
        json.loads(pass_role(f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-*", PASSED_TO_SAGEMAKER))[
            "Statement"
        ][0]
    )
    (message,) = found("iam-pass-role-scoped", ROLE_POLICY, wild)
    assert "a wildcard role name" in message
    # with the prefix known, a wildcard after it names only this environment's roles
    assert found("iam-pass-role-scoped", ROLE_POLICY, wild, name_prefix=PREFIX) == []


@pytest.mark.parametrize(
    ("statement", "fragment"),
    [
        (
            {
                "Effect": "Allow",
                "Action": "iam:Pass*",
                "NotResource": ROLE_ARN,
                "Condition": PASSED_TO_SAGEMAKER,
            },
            "on NotResource (every other role)",
        ),
        (
            {
                **allow("iam:PassRole", f"arn:aws:s3:::{PREFIX}-data"),
                "Condition": PASSED_TO_SAGEMAKER,
            },
            "which is not a role ARN",
        ),
        (
            {
                **allow("iam:PassRole", f"arn:aws:iam::999999999999:role/{PREFIX}-x"),
                "Condition": PASSED_TO_SAGEMAKER,
            },
            "a role in account 999999999999",
        ),
        (
            {
                **allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/*/{PREFIX}-x"),
                "Condition": PASSED_TO_SAGEMAKER,
            },
            "a wildcard role path",
        ),
        (
            {
                **allow("iam:PassRole", ROLE_ARN),
                "Condition": {"StringLike": {"iam:PassedToService": "*.amazonaws.com"}},
            },
            "iam:PassedToService on ['*.amazonaws.com'], a wildcard",
        ),
        (
            {
                **allow("iam:PassRole", ROLE_ARN),
                "Condition": {"StringNotEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            },
            "has no iam:PassedToService condition",
        ),
    ],
)
def test_pass_role_refusals(statement: dict[str, Any], fragment: str) -> None:
    messages = found("iam-pass-role-scoped", ROLE_POLICY, role_policy(statement), **FACTS)
    assert any(fragment in m for m in messages), messages


# --------------------------------------------------------------------------- trust


@pytest.mark.parametrize(
    ("principal", "fragment"),
    [
        ({"AWS": "999999999999"}, "in account 999999999999"),
        ({"AWS": "AROAEXAMPLEUNIQUEID"}, "names no account this rule can check"),
        (
            {"Federated": "arn:aws:iam::999999999999:oidc-provider/example.com"},
            "in account 999999999999",
        ),
    ],
)
def test_trust_naming_another_account(principal: dict[str, Any], fragment: str) -> None:
    props = {"assumeRolePolicy": trust(principal), "tags": TAGS}
    messages = found("iam-trust-no-other-account", ROLE, props, **FACTS)
    assert any(fragment in m for m in messages), messages


def test_trust_in_own_account_or_a_public_identity_provider_names_no_other_account() -> None:
    for principal in ({"AWS": OWN_ROOT}, {"Federated": "cognito-identity.amazonaws.com"}):
        props = {"assumeRolePolicy": trust(principal), "tags": TAGS}
        assert found("iam-trust-no-other-account", ROLE, props, **FACTS) == []


def test_oidc_subject_wildcard_alone_and_negated_conditions() -> None:
    star = {"assumeRolePolicy": oidc_trust({"StringLike": {SUB: "*"}}), "tags": TAGS}
    (message,) = found("iam-trust-oidc-subject", ROLE, star, **FACTS)
    assert "StringLike '*' admits every subject" in message
    negated = oidc_trust({"StringNotLike": {SUB: "repo:evil/*"}})
    (message,) = found("iam-trust-oidc-subject", ROLE, {"assumeRolePolicy": negated}, **FACTS)
    assert "without a ':sub' condition" in message
    assert (
        found("iam-trust-oidc-subject", ROLE, {"assumeRolePolicy": trust({"Federated": GITHUB})})
        == []
    )


# ---------------------------------------------------------------- resource policies


def test_not_principal_and_unmappable_principals_in_resource_policies() -> None:
    document = doc(
        {"Effect": "Allow", "NotPrincipal": {"AWS": OWN_ROOT}, "Action": "sns:Publish"},
        grant(
            {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}
        ),
        grant({"Service": "*"}),
    )
    messages = found(
        "sns-topic-policy-principals",
        "aws:sns/topicPolicy:TopicPolicy",
        {"arn": "t", "policy": document},
        **FACTS,
    )
    assert any("allows NotPrincipal (everyone else)" in m for m in messages)
    assert any("grants CanonicalUser" in m and "names no account" in m for m in messages)
    assert any("opens the resource to every service ('*')" in m for m in messages)


def test_key_policy_absent_is_the_default_and_services_are_fine() -> None:
    key = "aws:kms/key:Key"
    assert found("kms-key-policy-principals", key, {"enableKeyRotation": True}, **FACTS) == []
    services = resource_policy(
        {"Service": "logs.eu-west-1.amazonaws.com"}, {"Service": "cloudwatch.amazonaws.com"}
    )
    assert found("kms-key-policy-principals", key, {"policy": services}, **FACTS) == []


def test_unknown_resource_policy_is_cannot_check() -> None:
    plan = [Planned(POLICY, "p", {"bucket": "b", "policy": policies.UNKNOWN})]
    levels = {v.policy: v.level for v in policies.evaluate(plan, "dev", **FACTS)}
    assert levels["s3-bucket-policy-principals"] == "unknown"


# ------------------------------------------------------------------ managed keys


@pytest.mark.parametrize(
    "key", [KEY_ARN, "alias/mlops-stack-prod", "arn:aws:kms:eu-west-1:1:alias/mine"]
)
def test_customer_managed_keys_pass(key: str) -> None:
    assert (
        found("sns-topic-kms-customer-managed-key", "aws:sns/topic:Topic", {"kmsMasterKeyId": key})
        == []
    )
    assert (
        found(
            "logs-kms-customer-managed-key",
            "aws:cloudwatch/logGroup:LogGroup",
            {"kmsKeyId": key, "retentionInDays": 365},
        )
        == []
    )


def test_aws_managed_log_key_in_arn_form_fails_in_dev_too() -> None:
    plan = [
        Planned(
            "aws:cloudwatch/logGroup:LogGroup",
            "lg",
            {"kmsKeyId": "arn:aws:kms:eu-west-1:1:alias/aws/logs", "retentionInDays": 30},
        )
    ]
    (v,) = [
        v for v in policies.evaluate(plan, "dev") if v.policy == "logs-kms-customer-managed-key"
    ]
    assert v.level == "mandatory" and "an AWS-managed key" in v.message
