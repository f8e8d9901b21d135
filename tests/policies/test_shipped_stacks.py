"""The real stack program under mocks: the shipped stacks pass, unsafe overrides fail.

Runs ``stacks.offline.run_offline`` (the same plan ``mlops plan`` evaluates).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

import policies

if importlib.util.find_spec("stacks.offline") is None:  # pragma: no cover
    pytest.skip("stacks/offline.py (run_offline) is not in this tree yet", allow_module_level=True)

from components.naming import prefix
from stacks.offline import DEFAULT_ACCOUNT_ID, UNKNOWN, OfflineRun, run_offline

STACKS_DIR = Path(__file__).resolve().parents[2] / "stacks"
SHIPPED = ["dev", "staging", "prod", "local"]


def _facts(run: OfflineRun) -> dict[str, Any]:
    """What `mlops plan` tells the rules about the run (the default mocks' account)."""
    return {
        "account_id": DEFAULT_ACCOUNT_ID,
        "trusted_accounts": run.config.registry.cross_account_ids,
        "name_prefix": prefix(run.project, run.config.environment.value),
    }


def _evaluate(run: OfflineRun) -> list[policies.Violation]:
    return policies.evaluate(run.resources, run.config.environment.value, **_facts(run))


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, bool], OfflineRun]:
    return {
        (stack, preview): run_offline(stack, preview=preview, stacks_dir=STACKS_DIR)
        for stack in SHIPPED
        for preview in (False, True)
    }


@pytest.mark.parametrize("strict", [False, True], ids=["absent-ref-unknown", "absent-ref-unset"])
@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
@pytest.mark.parametrize("stack", SHIPPED)
def test_shipped_stack_has_no_mandatory_violation(
    runs: dict[tuple[str, bool], OfflineRun], stack: str, preview: bool, strict: bool
) -> None:
    # strict: the offline plan marks unknowns explicitly, so an absent reference is unset
    run = runs[stack, preview]
    found = policies.evaluate(
        run.resources, run.config.environment.value, missing_is_unknown=not strict, **_facts(run)
    )
    mandatory = [v for v in found if v.level == "mandatory"]
    assert mandatory == [], "\n".join(f"{v.policy} {v.resource}: {v.message}" for v in mandatory)


def test_prod_is_fully_checkable_after_apply(runs: dict[tuple[str, bool], OfflineRun]) -> None:
    assert _evaluate(runs["prod", False]) == []


def test_preview_reports_unknowns_not_passes(runs: dict[tuple[str, bool], OfflineRun]) -> None:
    # in preview the key ARNs and IAM documents are unknown: those rules cannot pass yet
    assert policies.is_unknown(UNKNOWN)
    found = _evaluate(runs["prod", True])
    unknown = {v.policy for v in found if v.level == "unknown"}
    assert {"logs-kms-encryption", "iam-no-wildcard-action"} <= unknown
    assert all(v.message.startswith("cannot check until apply") for v in found)


def test_rules_really_see_the_shipped_buckets(runs: dict[tuple[str, bool], OfflineRun]) -> None:
    run = runs["prod", False]
    resources = [r for r in run.resources if r.type != "aws:s3/bucketVersioning:BucketVersioning"]
    found = policies.evaluate(resources, "prod")
    buckets = {r.name for r in run.resources if r.type == "aws:s3/bucket:Bucket"}
    assert len(buckets) >= 3
    assert {(v.policy, v.resource) for v in found} == {("s3-bucket-versioning", b) for b in buckets}


def _unsafe_dev(tmp_path: Path, unsafe: dict[str, Any]) -> OfflineRun:
    import yaml

    document = yaml.safe_load((STACKS_DIR / "Pulumi.dev.yaml").read_text())
    document["config"]["mlops:platform"]["unsafe"] = unsafe
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(document))
    return run_offline("dev", stacks_dir=tmp_path)


def test_disabled_encryption_is_a_mandatory_s3_violation(tmp_path: Path) -> None:
    run = _unsafe_dev(tmp_path, {"disable_encryption": True})
    found = [v for v in _evaluate(run) if v.level == "mandatory"]
    assert found and {v.policy for v in found} == {"s3-bucket-encryption-kms"}
    data = next(
        r.name
        for r in run.resources
        if r.type == "aws:s3/bucket:Bucket" and r.name.endswith("-data")
    )
    (violation,) = [v for v in found if v.resource == data]
    assert violation.checkov_id == "CKV_AWS_145"
    assert "'AES256'" in violation.message and data in violation.message
    # the access-log bucket keeps SSE-S3 legitimately and is not reported
    assert not any(v.resource.endswith("-access-logs") for v in found)
    assert policies.has_mandatory(found)


def test_public_buckets_are_mandatory_s3_violations(tmp_path: Path) -> None:
    run = _unsafe_dev(tmp_path, {"public_buckets": True})
    found = [v for v in _evaluate(run) if v.level == "mandatory"]
    blocks = {
        r.name
        for r in run.resources
        if r.type == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
    }
    flags = {
        "s3-block-public-acls",
        "s3-block-public-policy",
        "s3-ignore-public-acls",
        "s3-restrict-public-buckets",
    }
    assert len(blocks) >= 3
    assert {(v.policy, v.resource) for v in found} == {(f, b) for f in flags for b in blocks}
    assert all(v.message.endswith("it must be true") for v in found)


def test_rules_really_see_the_shipped_roles_and_key(
    runs: dict[tuple[str, bool], OfflineRun],
) -> None:
    import copy
    import json

    resources = copy.deepcopy(runs["prod", False].resources)
    access = next(r for r in resources if r.name.endswith("-training-access"))
    document = json.loads(access.inputs["policy"])
    document["Statement"].append({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    access.inputs["policy"] = json.dumps(document)
    key = next(r for r in resources if r.type == "aws:kms/key:Key")
    key.inputs["enableKeyRotation"] = False
    found = {(v.policy, v.resource, v.level) for v in policies.evaluate(resources, "prod")}
    assert found == {
        ("iam-no-wildcard-resource", access.name, "mandatory"),
        ("kms-key-rotation", key.name, "mandatory"),
    }


def test_rules_really_see_the_shipped_monitor_role(
    runs: dict[tuple[str, bool], OfflineRun],
) -> None:
    import copy
    import json

    run = runs["prod", False]
    resources = copy.deepcopy(run.resources)
    policy = next(r for r in resources if r.name.endswith("-churn-monitor-policy"))
    document = json.loads(policy.inputs["policy"])
    capture = next(
        r.inputs["bucket"]
        for r in resources
        if r.type == "aws:s3/bucket:Bucket" and r.inputs["tags"]["mlops:bucket"] == "capture"
    )
    # writing the captured traffic itself, not just the reports next to it
    document["Statement"].append(
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{capture}/*"}
    )
    policy.inputs["policy"] = json.dumps(document)
    found = [v for v in _evaluate_resources(run, resources) if v.level != "unknown"]
    assert [(v.policy, v.resource, v.level) for v in found] == [
        ("iam-monitor-role-scoped", "mlops-stack-prod-churn-monitor-role", "mandatory")
    ]
    assert f"s3:PutObject on 'arn:aws:s3:::{capture}/*'" in found[0].message


def _evaluate_resources(run: OfflineRun, resources: Any) -> list[policies.Violation]:
    return policies.evaluate(resources, run.config.environment.value, **_facts(run))


def test_rules_really_see_the_shipped_resource_policies_and_trusts(
    runs: dict[tuple[str, bool], OfflineRun],
) -> None:
    # staging opens its model artifacts, images, packages and key to its promotion target:
    # without that account among the trusted ones, each grant is a mandatory violation
    run = runs["staging", False]
    (target,) = run.config.registry.cross_account_ids
    found = policies.evaluate(run.resources, "staging", account_id=DEFAULT_ACCOUNT_ID)
    assert {(v.policy, v.level) for v in found} == {
        ("s3-bucket-policy-principals", "mandatory"),
        ("kms-key-policy-principals", "mandatory"),
        ("ecr-repository-policy-principals", "mandatory"),
        ("sagemaker-model-package-group-policy-principals", "mandatory"),
    }
    assert all(f"grants account {target}" in v.message for v in found)
    # the roles' trust names this account as the source: another account there is refused
    other = policies.evaluate(run.resources, "prod", **{**_facts(run), "account_id": "1" * 12})
    roles = {r.name for r in run.resources if r.type == "aws:iam/role:Role"}
    assert roles == {
        "mlops-stack-staging-training-role",
        "mlops-stack-staging-churn-role",
        "mlops-stack-staging-churn-monitor-role",  # the drift job's (issue 25)
    }
    assert {v.resource for v in other if v.policy == "iam-trust-service-source"} == roles


def test_mlops_plan_tells_the_rules_the_stack_facts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipelines.cli import main

    seen: dict[str, Any] = {}
    real = policies.evaluate

    def spy(resources: Any, environment: str, **kwargs: Any) -> list[policies.Violation]:
        seen.update(kwargs, environment=environment)
        return real(resources, environment, **kwargs)

    monkeypatch.setattr(policies, "evaluate", spy)
    assert main(["plan", "--stack", "staging", "--json", "--stacks-dir", str(STACKS_DIR)]) == 0
    capsys.readouterr()
    assert seen == {
        "environment": "staging",
        "missing_is_unknown": False,
        "account_id": DEFAULT_ACCOUNT_ID,
        "trusted_accounts": ["210987654321"],
        "name_prefix": "mlops-stack-staging",
    }
