"""``iam-monitor-role-scoped``: a drift job's role reads its endpoint's capture and the baselines,
writes reports, puts metrics under a namespace condition and uses KMS through S3 only; the
pack's other rules pass on the role the component builds."""

from __future__ import annotations

import json
from typing import Any

import pytest

import policies
from components import iam
from components.naming import prefix, processing_role_name
from tests.policies.plans import TAGS, Planned
from tests.policies.test_resource_rules import ACCOUNT, doc, service_trust

RULE = "iam-monitor-role-scoped"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PREFIX = prefix("mlops-stack", "prod")
ENDPOINT = f"{PREFIX}-churn"
NAME = processing_role_name(ENDPOINT)
CAPTURE = f"{PREFIX}-capture-{ACCOUNT}-eu-west-1"
MODEL = f"{PREFIX}-model-{ACCOUNT}-eu-west-1"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REPO = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/{PREFIX}-models"
SOURCE = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
FACTS: dict[str, Any] = {"account_id": ACCOUNT, "name_prefix": PREFIX}


def shipped_policy() -> dict[str, Any]:
    """What ``components.serving.GpuEndpoint`` attaches (``iam.processing_role_policy``)."""
    return iam.processing_role_policy(
        partition="aws",
        region="eu-west-1",
        account_id=ACCOUNT,
        endpoint_name=ENDPOINT,
        kms_key_arn=KEY,
        capture_bucket=CAPTURE,
        model_bucket=MODEL,
        repository_arn=REPO,
    )


def bucket(name: str, purpose: str) -> Planned:
    return Planned(
        "aws:s3/bucket:Bucket",
        f"storage-{purpose}",
        {"bucket": name, "tags": {**TAGS, "mlops:bucket": purpose}},
        id=name,
    )


def plan(
    policy: dict[str, Any] | str,
    *,
    role: dict[str, Any] | None = None,
    extra: tuple[Planned, ...] = (),
) -> list[Planned]:
    inputs = role or {
        "name": NAME,
        "assumeRolePolicy": service_trust(SOURCE),
        "tags": {**TAGS, "mlops:endpoint": "churn", "mlops:role": "monitor"},
    }
    text = policy if isinstance(policy, str) else json.dumps(policy)
    return [
        bucket(CAPTURE, "capture"),
        bucket(MODEL, "model"),
        Planned(ROLE, "churn-monitor-role", inputs, id=NAME),
        Planned(
            ROLE_POLICY,
            "churn-monitor-policy",
            {"role": NAME, "name": "monitoring", "policy": text},
        ),
        *extra,
    ]


def messages(resources: list[Planned], environment: str = "prod", **facts: Any) -> list[str]:
    found = policies.evaluate(resources, environment, missing_is_unknown=False, **facts)
    ours = [v for v in found if v.policy == RULE]
    assert all(v.resource == "churn-monitor-role" for v in ours)
    assert all(v.level == ("mandatory" if environment == "prod" else "advisory") for v in ours)
    return [v.message for v in ours]


def with_statement(statement: dict[str, Any]) -> dict[str, Any]:
    policy = shipped_policy()
    return {**policy, "Statement": [*policy["Statement"], statement]}


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Sid": "Extra", "Effect": "Allow", "Action": action, "Resource": resource, **extra}


# --------------------------------------------------------------------------- pass


@pytest.mark.parametrize("facts", [FACTS, {}], ids=["facts", "no-facts"])
def test_the_shipped_processing_policy_passes_every_rule(facts: dict[str, Any]) -> None:
    found = policies.evaluate(plan(shipped_policy()), "prod", missing_is_unknown=False, **FACTS)
    assert [v for v in found if v.resource.startswith("churn-monitor")] == []
    assert messages(plan(shipped_policy()), **facts) == []


def test_the_shipped_policy_in_a_vpc_passes() -> None:
    policy = iam.processing_role_policy(
        partition="aws",
        region="eu-west-1",
        account_id=ACCOUNT,
        endpoint_name=ENDPOINT,
        kms_key_arn=KEY,
        capture_bucket=CAPTURE,
        model_bucket=MODEL,
        repository_arn=REPO,
        subnet_ids=["subnet-0123456789abcdef0"],
        security_group_ids=["sg-0123456789abcdef0"],
    )
    assert messages(plan(policy), **FACTS) == []


def test_other_roles_are_not_judged() -> None:
    serving = {
        "name": f"{ENDPOINT}-exec",
        "assumeRolePolicy": service_trust(SOURCE),
        "tags": {**TAGS, "mlops:endpoint": "churn"},
    }
    writes_anything = doc(allow("s3:PutObject", f"arn:aws:s3:::{CAPTURE}/{ENDPOINT}/*"))
    assert messages(plan(writes_anything, role=serving), **FACTS) == []


# --------------------------------------------------------------------------- fail


@pytest.mark.parametrize(
    ("statement", "fragment"),
    [
        (
            allow("s3:PutObject", f"arn:aws:s3:::{CAPTURE}/{ENDPOINT}/*"),
            f"allows s3:PutObject on 'arn:aws:s3:::{CAPTURE}/{ENDPOINT}/*'; a monitor role "
            f"writes its reports only: arn:<partition>:s3:::<capture bucket>/{ENDPOINT}/reports/*",
        ),
        (
            allow("s3:PutObject", f"arn:aws:s3:::{CAPTURE}/*/reports/*"),
            f"s3:PutObject on 'arn:aws:s3:::{CAPTURE}/*/reports/*'",
        ),
        (
            allow("s3:PutObject", f"arn:aws:s3:::{CAPTURE}/{PREFIX}-ranker/reports/*"),
            "writes its reports only",
        ),
        (allow("s3:PutObject", f"arn:aws:s3:::{MODEL}/{ENDPOINT}/reports/*"), "writes its reports"),
        (allow("s3:Put*", f"arn:aws:s3:::{MODEL}/baselines/*"), "s3:PutObject on"),
        (allow("s3:*", "*"), "s3:PutObject on '*'"),
        (
            allow("s3:GetObject", f"arn:aws:s3:::{CAPTURE}/*"),
            f"allows s3:GetObject on 'arn:aws:s3:::{CAPTURE}/*'; a monitor role reads "
            f"<capture bucket>/{ENDPOINT}/* or the model bucket's baseline keys "
            "(training/*/baseline/*, baselines/*) only",
        ),
        (
            allow("s3:GetObject", f"arn:aws:s3:::{CAPTURE}/{PREFIX}-ranker/*"),
            "s3:GetObject on",
        ),
        (allow("s3:GetObject", f"arn:aws:s3:::{MODEL}/training/*"), "s3:GetObject on"),
        (allow("s3:GetObject*", f"arn:aws:s3:::{MODEL}/audit/*"), "s3:GetObject on"),
        (allow("s3:GetObject", "arn:aws:s3:::another-bucket/baselines/*"), "s3:GetObject on"),
        (
            {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::x/*"},
            "on NotResource (every other object)",
        ),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "allows NotAction"),
        (
            allow("cloudwatch:PutMetricData", "*"),
            "allows cloudwatch:PutMetricData but has no cloudwatch:namespace condition",
        ),
        (
            allow(
                "cloudwatch:PutMetricData",
                "*",
                Condition={"StringNotEquals": {"cloudwatch:namespace": "AWS/SageMaker"}},
            ),
            "has no cloudwatch:namespace condition",
        ),
        (
            allow(
                "cloudwatch:PutMetricData",
                "*",
                Condition={"StringLike": {"cloudwatch:namespace": "*"}},
            ),
            "conditions cloudwatch:namespace on ['*'], which matches everything",
        ),
        (
            allow("kms:Decrypt", KEY),
            "allows kms:Decrypt/GenerateDataKey but has no kms:viaservice condition; use the key "
            "through S3 only",
        ),
        (allow(["kms:GenerateDataKey"], KEY), "has no kms:viaservice condition"),
    ],
)
def test_a_monitor_role_granting_more_fails(statement: dict[str, Any], fragment: str) -> None:
    found = messages(plan(with_statement(statement)), **FACTS)
    assert any(fragment in m for m in found), found
    assert all(m.startswith("RolePolicy churn-monitor-policy statement 11") for m in found), found


def test_the_role_is_found_by_its_name_too() -> None:
    untagged = {"name": NAME, "assumeRolePolicy": service_trust(SOURCE), "tags": TAGS}
    bad = with_statement(allow("s3:PutObject", f"arn:aws:s3:::{CAPTURE}/{ENDPOINT}/*"))
    assert len(messages(plan(bad, role=untagged))) == 1
    # ... only when SageMaker assumes it
    lambda_role = {
        **untagged,
        "assumeRolePolicy": service_trust(None).replace("sagemaker", "lambda"),
    }
    assert messages(plan(bad, role=lambda_role)) == []


def test_without_the_name_prefix_the_role_name_names_the_endpoint() -> None:
    other = with_statement(allow("s3:GetObject", f"arn:aws:s3:::{CAPTURE}/{PREFIX}-ranker/*"))
    assert len(messages(plan(other))) == 1
    assert messages(plan(shipped_policy())) == []


def test_inline_policies_and_managed_policies_are_judged() -> None:
    role = {
        "name": NAME,
        "assumeRolePolicy": service_trust(SOURCE),
        "tags": {**TAGS, "mlops:role": "monitor"},
        "inlinePolicies": [{"name": "extra", "policy": doc(allow("s3:GetObject", "*"))}],
        "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"],
    }
    attached = Planned(
        ATTACHMENT,
        "churn-monitor-attach",
        {"role": NAME, "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"},
    )
    found = messages(plan(shipped_policy(), role=role, extra=(attached,)), **FACTS)
    assert any(m.startswith("inline policy 'extra' statement 0") for m in found), found
    assert any("AmazonSageMakerFullAccess' (managedPolicyArns)" in m for m in found), found
    assert any("AmazonS3FullAccess' attached (churn-monitor-attach)" in m for m in found), found


def test_advisory_outside_prod() -> None:
    bad = with_statement(allow("kms:Decrypt", KEY))
    assert len(messages(plan(bad), "dev", **FACTS)) == 1


def test_a_policy_or_a_role_unknown_until_apply_is_cannot_check() -> None:
    for resources in (
        plan(policies.UNKNOWN),
        [
            *plan(shipped_policy())[:3],
            Planned(
                ROLE_POLICY, "p", {"role": policies.UNKNOWN, "policy": json.dumps(shipped_policy())}
            ),
        ],
    ):
        found = [v for v in policies.evaluate(resources, "prod", **FACTS) if v.policy == RULE]
        assert [v.level for v in found] == ["unknown"]
        assert found[0].message.startswith("cannot check until apply")
