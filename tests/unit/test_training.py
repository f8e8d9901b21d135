"""``TrainingCompute``: the execution role's trust and scoped policy, the VPC security
group, and the exported training defaults (preview and deployment)."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components import iam
from components.config import TrainingConfig, VpcConfig
from components.training import TrainingCompute, TrainingComputeArgs, security_group_rules

ACCOUNT = "123456789012"
REGION = "eu-west-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DATA = f"mlops-stack-prod-data-{ACCOUNT}-{REGION}"
MODEL = f"mlops-stack-prod-model-{ACCOUNT}-{REGION}"
REPO = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/mlops-stack-prod-models"
GROUP = "mlops-stack-prod-models"
VPC = VpcConfig(vpc_id="vpc-0a1b2c3d4e5f60718", subnet_ids=["subnet-0a1b2c3d4e5f60001"])


def training(run_mocked: Any, config: TrainingConfig, *, preview: bool = False) -> Any:
    args: TrainingComputeArgs = {
        "project": "mlops-stack",
        "environment": "prod",
        "kms_key_arn": KEY,
        "data_bucket": DATA,
        "model_bucket": MODEL,
        "repository_arn": REPO,
        "model_package_group_name": GROUP,
        "training": config,
        "tags": {"environment": "prod"},
    }

    def program() -> None:
        t = TrainingCompute("tc", args)
        pulumi.export("role", t.role_arn)
        pulumi.export("defaults", t.defaults)

    return run_mocked(program, region=REGION, preview=preview)


def test_role_trusts_only_sagemaker_for_this_account(run_mocked: Any) -> None:
    run = training(run_mocked, TrainingConfig())
    role = run.named("tc-role").inputs
    assert role["name"] == "mlops-stack-prod-sagemaker-training"
    assert json.loads(role["assumeRolePolicy"]) == iam.service_trust_policy(
        "sagemaker.amazonaws.com", ACCOUNT
    )
    assert run.outputs["role"] == f"arn:aws:iam::{ACCOUNT}:role/mlops-stack-prod-sagemaker-training"


def test_policy_names_exactly_this_environments_resources(run_mocked: Any) -> None:
    run = training(run_mocked, TrainingConfig())
    access = run.named("tc-access").inputs
    assert access["role"] == "mlops-stack-prod-sagemaker-training"
    doc = json.loads(access["policy"])
    assert iam.wildcard_problems(doc) == []
    by_sid = {st["Sid"]: st for st in doc["Statement"]}
    assert by_sid["ListDataBucket"]["Resource"] == f"arn:aws:s3:::{DATA}"
    assert by_sid["ReadDataBucket"] == {
        "Sid": "ReadDataBucket",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
        "Resource": [f"arn:aws:s3:::{DATA}/*"],
    }
    assert by_sid["ReadWriteModelBucket"]["Resource"] == [
        f"arn:aws:s3:::{MODEL}/training/*",
        f"arn:aws:s3:::{MODEL}/checkpoints/*",
    ]
    assert by_sid["ListModelBucket"]["Condition"] == {
        "StringLike": {"s3:prefix": ["training/*", "checkpoints/*"]}
    }
    assert by_sid["KeyPlatform"]["Resource"] == KEY
    assert by_sid["KeyGrantVolumes"] == {
        "Sid": "KeyGrantVolumes",
        "Effect": "Allow",
        "Action": ["kms:CreateGrant"],
        "Resource": KEY,
        "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
    }
    assert by_sid["PullTrainingImages"]["Resource"] == REPO
    assert by_sid["ReadModelPackageGroup"]["Resource"] == [
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/{GROUP}",
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/*",
    ]
    assert by_sid["WriteLogsTraining"]["Resource"] == [
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/TrainingJobs:*"
    ]
    assert by_sid["PutMetricsInOwnNamespaces"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": ["/aws/sagemaker/TrainingJobs"]}
    }
    # the only "*" resources are the actions AWS cannot scope
    star = sorted(
        a for st in doc["Statement"] if st["Resource"] == "*" for a in iam._as_list(st["Action"])
    )
    assert star == ["cloudwatch:PutMetricData", "ecr:GetAuthorizationToken"]
    # no VPC → no security group, no ENI permissions
    assert run.of_type("aws:ec2/securityGroup:SecurityGroup") == []
    assert [r.name for r in run.of_type("aws:iam/rolePolicy:RolePolicy")] == ["tc-access"]


def test_spot_defaults_carry_checkpoints_and_max_wait(run_mocked: Any) -> None:
    run = training(
        run_mocked,
        TrainingConfig(instance_type="ml.g5.2xlarge", use_spot=True, max_runtime_seconds=3600),
    )
    assert run.outputs["defaults"] == {
        "instance_type": "ml.g5.2xlarge",
        "instance_count": 1,
        "volume_size_gib": 50,
        "use_spot": True,
        "max_runtime_seconds": 3600,
        "max_wait_seconds": 7200,
        "output_s3_uri": f"s3://{MODEL}/training/",
        "checkpoint_s3_uri": f"s3://{MODEL}/checkpoints/",
        "subnet_ids": [],
        "security_group_ids": [],
        "network_isolation": True,
    }


def test_vpc_training_gets_a_closed_security_group_and_scoped_eni_rights(run_mocked: Any) -> None:
    run = training(run_mocked, TrainingConfig(use_spot=False, vpc=VPC))
    sg = run.named("tc-sg")
    assert sg.inputs["vpcId"] == VPC.vpc_id
    assert sg.inputs["ingress"] == []
    assert sg.inputs["egress"] == [
        {
            "description": "HTTPS to AWS APIs (VPC endpoints or NAT)",
            "protocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "cidrBlocks": ["0.0.0.0/0"],
        }
    ]
    assert sg.inputs["revokeRulesOnDelete"] is True
    vpc = json.loads(run.named("tc-vpc").inputs["policy"])
    assert iam.wildcard_problems(vpc) == []
    create = {st["Sid"]: st for st in vpc["Statement"]}["CreateNetworkInterfacesInOurSubnets"]
    assert f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{sg.id}" in create["Resource"]
    assert f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/subnet-0a1b2c3d4e5f60001" in create["Resource"]
    defaults = run.outputs["defaults"]
    assert defaults["subnet_ids"] == ["subnet-0a1b2c3d4e5f60001"]
    assert defaults["security_group_ids"] == [sg.id]
    assert defaults["use_spot"] is False
    assert defaults["checkpoint_s3_uri"] is None
    assert defaults["max_wait_seconds"] is None


def test_preview_leaves_the_security_group_unknown_without_crashing(run_mocked: Any) -> None:
    run = training(run_mocked, TrainingConfig(vpc=VPC), preview=True)
    assert run.outputs["role"] == "<unknown until deployed>"
    assert run.outputs["defaults"] == "<unknown until deployed>"
    # the access policy names only plain ARNs and the key: known in preview
    assert json.loads(run.named("tc-access").inputs["policy"])["Statement"]


def test_distributed_training_lets_the_instances_talk_to_each_other() -> None:
    rules = security_group_rules(TrainingConfig(instance_count=2, vpc=VPC))
    assert [r.get("self") for r in rules["ingress"]] == [True]
    assert [r.get("self") for r in rules["egress"]] == [None, True]
    assert security_group_rules(TrainingConfig(vpc=VPC))["ingress"] == []


def test_role_name_over_iam_limit_is_refused() -> None:
    from components.training import role_name

    with pytest.raises(ValueError, match="IAM allows 64"):
        role_name("a-very-long-project-name-that-goes-on-and-on", "staging-and-more")
