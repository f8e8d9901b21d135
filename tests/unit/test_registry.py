"""``ModelRegistry``: ECR scan/immutable/KMS/lifecycle, the model package group, and the
cross-account policies that exist only when asked for."""

from __future__ import annotations

import json
from typing import Any

import pulumi

from components._resources import AwsContext, Protection
from components.config import RegistryConfig, Retention
from components.iam import ecr_lifecycle_policy
from components.registry import ModelRegistry, ModelRegistryArgs, plan_registry

ACCOUNT = "123456789012"
REGION = "eu-west-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PROD = "210987654321"


def registry(run_mocked: Any, config: RegistryConfig | None = None) -> Any:
    args: ModelRegistryArgs = {
        "project": "mlops-stack",
        "environment": "staging",
        "kms_key_arn": KEY,
        "tags": {"environment": "staging"},
    }
    if config is not None:
        args["registry"] = config

    def program() -> None:
        r = ModelRegistry("reg", args)
        pulumi.export("url", r.repository_url)
        pulumi.export("group", r.model_package_group_name)
        pulumi.export("arn", r.repository_arn)

    return run_mocked(program, region=REGION)


def test_repository_scans_on_push_refuses_tag_overwrites_and_uses_the_key(run_mocked: Any) -> None:
    run = registry(run_mocked)
    assert sorted((r.type, r.name) for r in run.resources) == [
        ("aws:ecr/lifecyclePolicy:LifecyclePolicy", "reg-repository-lifecycle"),
        ("aws:ecr/repository:Repository", "reg-repository"),
        ("aws:sagemaker/modelPackageGroup:ModelPackageGroup", "reg-models"),
        ("mlops:registry:ModelRegistry", "reg"),
    ]
    assert run.named("reg-repository").inputs == {
        "name": "mlops-stack-staging-models",
        "imageScanningConfiguration": {"scanOnPush": True},
        "imageTagMutability": "IMMUTABLE",
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY}],
        "forceDelete": False,
        "tags": {"environment": "staging"},
    }
    lifecycle = run.named("reg-repository-lifecycle").inputs
    assert lifecycle["repository"] == "mlops-stack-staging-models"
    assert json.loads(lifecycle["policy"]) == ecr_lifecycle_policy(30, 7)
    group = run.named("reg-models").inputs
    assert group["modelPackageGroupName"] == "mlops-stack-staging-models"
    assert group["tags"] == {"environment": "staging"}
    assert run.outputs == {
        "url": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/mlops-stack-staging-models",
        "group": "mlops-stack-staging-models",
        "arn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/mlops-stack-staging-models",
    }


def test_lifecycle_settings_come_from_config(run_mocked: Any) -> None:
    run = registry(run_mocked, RegistryConfig(keep_last_images=5, untagged_expire_after_days=2))
    policy = json.loads(run.named("reg-repository-lifecycle").inputs["policy"])
    assert [r["selection"]["countNumber"] for r in policy["rules"]] == [2, 5]


def test_cross_account_readers_get_read_only_policies(run_mocked: Any) -> None:
    run = registry(run_mocked, RegistryConfig(cross_account_ids=[PROD]))
    repo_policy = json.loads(run.named("reg-repository-cross-account").inputs["policy"])
    assert repo_policy["Statement"] == [
        {
            "Sid": "CrossAccountPull",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{PROD}:root"]},
            "Action": [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
        }
    ]
    group_policy = run.named("reg-models-cross-account").inputs
    assert group_policy["modelPackageGroupName"] == "mlops-stack-staging-models"
    (statement,) = json.loads(group_policy["resourcePolicy"])["Statement"]
    assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{PROD}:root"]}
    assert statement["Resource"] == [
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/mlops-stack-staging-models",
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/mlops-stack-staging-models/*",
    ]
    assert all(a.startswith(("sagemaker:Describe", "sagemaker:List")) for a in statement["Action"])


def test_no_cross_account_policy_without_other_accounts(run_mocked: Any) -> None:
    run = registry(run_mocked)
    assert run.of_type("aws:ecr/repositoryPolicy:RepositoryPolicy") == []
    assert run.of_type("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy") == []


def test_registry_is_protected_with_retain() -> None:
    ctx = AwsContext(ACCOUNT, REGION, "aws")
    assert plan_registry("p", "prod", ctx).protection == Protection(True, True)
    assert plan_registry("p", "dev", ctx, retention=Retention.DESTROY).protection == Protection(
        False, False
    )
