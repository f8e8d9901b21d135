"""The CrossGuard side: policy objects built from the same rules, validated by hand.

Constructing a ``PolicyPack`` starts a gRPC server, so these tests build the policies
only and call their ``validate`` the way the analyzer does (props behind
pulumi_policy's unknown-checking proxy).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pulumi_policy = pytest.importorskip("pulumi_policy")
from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy  # noqa: E402

import policies  # noqa: E402
from policies import pack  # noqa: E402
from tests.policies.plans import storage_plan  # noqa: E402


def _opts() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def _args(type_: str, name: str, props: dict[str, Any]) -> ResourceValidationArgs:
    urn = f"urn:pulumi:prod::mlops-stack::{type_}::{name}"
    return ResourceValidationArgs(type_, unknown_checking_proxy(props), urn, name, _opts(), None)


def _policy(policies_: list[Any], name: str) -> Any:
    return next(p for p in policies_ if p.name == name)


class Reports:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def __call__(self, message: str, urn: str | None = None) -> None:
        self.calls.append((message, urn))


def test_build_policies_mirrors_the_rules_with_levels() -> None:
    prod = pack.build_policies("prod")
    dev = pack.build_policies("dev")
    assert [p.name for p in prod] == policies.rule_ids()
    assert sum(isinstance(p, StackValidationPolicy) for p in prod) == len(policies.STACK_RULES)
    assert {p.enforcement_level for p in prod} == {EnforcementLevel.MANDATORY}
    assert _policy(dev, "ecr-scan-on-push").enforcement_level is EnforcementLevel.ADVISORY
    assert _policy(dev, "ecr-kms-encryption").enforcement_level is EnforcementLevel.MANDATORY
    assert "(CKV_AWS_163)" in _policy(prod, "ecr-scan-on-push").description


def test_resource_policy_reports_a_violation() -> None:
    policy = _policy(pack.build_policies("prod"), "s3-block-public-acls")
    assert isinstance(policy, ResourceValidationPolicy)
    props = {"bucket": "b", "blockPublicAcls": False, "blockPublicPolicy": True}
    args = _args("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "data-pab", props)
    report = Reports()
    policy.validate(args, report)
    assert report.calls == [("data-pab: blockPublicAcls is False; it must be true", args.urn)]


def test_resource_policy_passes_and_skips_other_types() -> None:
    policy = _policy(pack.build_policies("prod"), "ecr-immutable-tags")
    report = Reports()
    policy.validate(
        _args("aws:ecr/repository:Repository", "repo", {"imageTagMutability": "IMMUTABLE"}), report
    )
    policy.validate(_args("aws:kms/key:Key", "key", {}), report)
    assert report.calls == []


def test_iam_policy_through_the_pack() -> None:
    policy = _policy(pack.build_policies("dev"), "iam-no-wildcard-action")
    document = json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    report = Reports()
    policy.validate(
        _args("aws:iam/rolePolicy:RolePolicy", "p", {"role": "r", "policy": document}), report
    )
    assert len(report.calls) == 1 and "allows every action" in report.calls[0][0]


def test_unknown_value_raises_the_engines_unknown_error() -> None:
    policy = _policy(pack.build_policies("prod"), "logs-kms-encryption")
    args = _args("aws:cloudwatch/logGroup:LogGroup", "lg", {"kmsKeyId": UNKNOWN_STRING_VALUE})
    report = Reports()
    with pytest.raises(UnknownValueError) as err:
        policy.validate(args, report)
    assert report.calls == []
    assert err.value.message.startswith("cannot check until apply: kmsKeyId")


def test_absent_reference_under_the_engine_is_a_violation() -> None:
    policy = _policy(pack.build_policies("prod"), "logs-kms-encryption")
    report = Reports()
    policy.validate(
        _args("aws:cloudwatch/logGroup:LogGroup", "lg", {"retentionInDays": 365}), report
    )
    assert len(report.calls) == 1 and "kmsKeyId is not set" in report.calls[0][0]


def _stack_args(plan: list[Any]) -> StackValidationArgs:
    resources = [
        PolicyResource(
            r.type,
            unknown_checking_proxy({**r.inputs, **({"id": r.id} if r.id else {})}),
            f"urn:pulumi:prod::mlops-stack::{r.type}::{r.name}",
            r.name,
            _opts(),
            None,
            None,
            [],
            {},
        )
        for r in plan
    ]
    return StackValidationArgs(resources)


def test_stack_policy_reports_the_bucket() -> None:
    plan = [r for r in storage_plan() if r.name != "models-versioning"]
    policy = _policy(pack.build_policies("prod"), "s3-bucket-versioning")
    report = Reports()
    policy.validate(_stack_args(plan), report)
    assert report.calls == [
        (
            "models: bucket models has no versioning configuration (BucketVersioning)",
            "urn:pulumi:prod::mlops-stack::aws:s3/bucket:Bucket::models",
        )
    ]


def test_stack_policy_joins_through_property_dependencies_in_preview() -> None:
    # preview: the settings' `bucket` is unknown, but the engine says what it depends on
    plan = storage_plan()
    args = _stack_args(plan)
    urns = {r.name: r.urn for r in args.resources}
    for r in args.resources:
        target = r.props["__target"]
        if r.resource_type != "aws:s3/bucket:Bucket" and "bucket" in target:
            owner = r.name.split("-")[0]
            target["bucket"] = UNKNOWN_STRING_VALUE
            r.property_dependencies["bucket"] = [x for x in args.resources if x.urn == urns[owner]]
    report = Reports()
    for name in (
        "s3-bucket-versioning",
        "s3-bucket-public-access-block",
        "s3-bucket-encryption-kms",
    ):
        _policy(pack.build_policies("prod"), name).validate(args, report)
    assert report.calls == []


def test_stack_policy_unknown_join_raises_after_reporting() -> None:
    plan = storage_plan()
    for r in plan:
        if r.type.endswith("BucketVersioning"):
            r.inputs["bucket"] = UNKNOWN_STRING_VALUE
    policy = _policy(pack.build_policies("prod"), "s3-bucket-versioning")
    with pytest.raises(UnknownValueError) as err:
        policy.validate(_stack_args(plan), Reports())
    assert "cannot check until apply" in err.value.message


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        # the stack file's own environment never lowers the level (issue 15, item 1)
        (
            {
                "PULUMI_STACK": "prod",
                "PULUMI_CONFIG": json.dumps({"mlops:platform": json.dumps({"environment": "dev"})}),
            },
            "prod",
        ),
        ({"MLOPS_ENVIRONMENT": "dev", "PULUMI_STACK": "prod"}, "prod"),
        ({"PULUMI_CONFIG": json.dumps({"mlops:platform": {"environment": "local"}})}, "prod"),
        ({"PULUMI_STACK": "acme/staging"}, "staging"),
        ({"PULUMI_STACK": "acme/mlops-stack/dev"}, "dev"),
        ({"PULUMI_STACK": "feature-x"}, "prod"),
        ({}, "prod"),
    ],
)
def test_detect_environment(env: dict[str, str], expected: str) -> None:
    assert pack.detect_environment(env) == expected


_PLATFORM = {"environment": "staging", "registry": {"cross_account_ids": ["210987654321"]}}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (  # the engine's config: structured values as JSON text
            {
                "PULUMI_PROJECT": "mlops-stack",
                "PULUMI_CONFIG": json.dumps(
                    {
                        "mlops:platform": json.dumps(_PLATFORM),
                        "aws:allowedAccountIds": json.dumps(["123456789012"]),
                    }
                ),
            },
            pack.StackFacts("123456789012", ("210987654321",), "mlops-stack-staging"),
        ),
        (  # ... or as objects; the older ns:config:key spelling
            {
                "PULUMI_CONFIG": json.dumps(
                    {
                        "mlops:config:platform": _PLATFORM,
                        "aws:allowedAccountIds": ["123456789012", "210987654321"],
                    }
                )
            },
            pack.StackFacts(None, ("210987654321",), None),  # two accounts: which is ours?
        ),
        (
            {"PULUMI_CONFIG": "not json", "PULUMI_PROJECT": "p"},
            pack.StackFacts(None, (), "p-staging"),
        ),
        ({}, pack.StackFacts()),
    ],
)
def test_detect_facts(env: dict[str, str], expected: pack.StackFacts) -> None:
    assert pack.detect_facts("staging", env) == expected


def test_pack_policies_use_the_facts() -> None:
    key_policy = json.dumps(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                    "Action": "kms:DescribeKey",
                    "Resource": "*",
                }
            ]
        }
    )
    args = _args("aws:kms/key:Key", "key", {"enableKeyRotation": True, "policy": key_policy})
    known = pack.StackFacts("123456789012", (), "mlops-stack-prod")
    report = Reports()
    _policy(pack.build_policies("prod", known), "kms-key-policy-principals").validate(args, report)
    assert report.calls == []
    # nothing known (no aws:allowedAccountIds): the own account counts as another one
    _policy(pack.build_policies("prod"), "kms-key-policy-principals").validate(args, report)
    assert len(report.calls) == 1 and "grants account 123456789012" in report.calls[0][0]


def test_importing_policies_builds_no_pack() -> None:
    import subprocess
    import sys

    code = "import sys, policies, policies.pack; print(sorted(m for m in ('pulumi_policy','pulumi','pulumi_aws') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_serve_constructs_the_pack_with_every_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    built: dict[str, Any] = {}

    def fake_pack(**kwargs: Any) -> None:  # the real one starts a server and never returns
        built.update(kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", fake_pack)
    monkeypatch.setenv("PULUMI_STACK", "staging")
    pack.serve()
    assert built["name"] == pack.PACK_NAME
    assert [p.name for p in built["policies"]] == policies.rule_ids()
    by_name = {p.name: p.enforcement_level for p in built["policies"]}
    assert by_name["s3-bucket-versioning"] is EnforcementLevel.ADVISORY
    assert by_name["s3-bucket-encryption-kms"] is EnforcementLevel.MANDATORY


def test_pack_directory_has_the_project_file() -> None:
    import yaml

    project = yaml.safe_load((Path(pack.__file__).parent / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert (Path(pack.__file__).parent / "__main__.py").is_file()
