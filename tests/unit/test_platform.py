"""The real stack program under mocks, for every stack file: the StackOutputs contract,
each environment's differences, preview, and the runtime plumbing of ``stacks.offline``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components import iam
from components.config import ConfigError, Environment, Retention
from components.contract import CONTRACT_VERSION, StackOutputs, output_names
from stacks.offline import UNKNOWN, OfflineRun, PlatformMocks, run_offline, run_program

STACKS = ("dev", "staging", "prod", "local")
STACKS_DIR = Path(__file__).resolve().parents[2] / "stacks"


@pytest.fixture(scope="module")
def runs() -> dict[str, OfflineRun]:
    return {s: run_offline(s, stacks_dir=STACKS_DIR) for s in STACKS}


def bucket_types() -> list[str]:
    return [
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_exports_the_validated_contract(
    runs: dict[str, OfflineRun], stack: str
) -> None:
    run = runs[stack]
    assert list(run.outputs) == output_names()
    outputs = StackOutputs.model_validate(run.outputs)
    assert outputs.contract_version == CONTRACT_VERSION
    assert outputs.project == "mlops-stack"
    assert outputs.stack == stack
    assert outputs.environment == run.config.environment.value
    assert outputs.account_id == "123456789012"
    assert outputs.buckets.model == f"mlops-stack-{stack}-model-123456789012-{run.region}"
    # prod's audit trail has a bucket of its own under Object Lock (issue 15, item 9)
    audit_bucket = (
        f"mlops-stack-{stack}-audit-123456789012-{run.region}"
        if stack == "prod"
        else outputs.buckets.model
    )
    assert outputs.audit_s3_uri == f"s3://{audit_bucket}/audit/"
    assert outputs.kms_key_arn.startswith(f"arn:aws:kms:{run.region}:123456789012:key/")
    assert outputs.model_package_group_name == f"mlops-stack-{stack}-models"
    assert outputs.ecr_repository_url.endswith(f"/mlops-stack-{stack}-models")
    assert [e.name for e in outputs.endpoints] == [e.name for e in run.config.endpoints]
    assert outputs.alerts_topic_arn == (
        f"arn:aws:sns:{run.region}:123456789012:mlops-stack-{stack}-alerts"
    )
    assert outputs.tags["mlops:stack"] == stack
    # exactly what the pipeline will read back
    assert run.outputs == outputs.model_dump(mode="json")


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_has_the_security_baseline(runs: dict[str, OfflineRun], stack: str) -> None:
    run = runs[stack]
    (key,) = run.of_type("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    buckets = 5 if stack == "prod" else 4  # prod: + the audit bucket under Object Lock
    for type_ in bucket_types():
        assert len(run.of_type(type_)) == buckets, type_
    locks = run.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert [lock.inputs["rule"] for lock in locks] == (
        [{"defaultRetention": {"mode": "COMPLIANCE", "days": 2557}}] if stack == "prod" else []
    )
    for block in run.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"):
        flags = (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
        assert all(block.inputs[f] is True for f in flags), block.name
    for policy in run.of_type("aws:s3/bucketPolicy:BucketPolicy"):
        first = json.loads(policy.inputs["policy"])["Statement"][0]
        assert first["Sid"] == "DenyInsecureTransport" and first["Effect"] == "Deny"
    for enc in run.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ):
        algorithm = enc.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
        assert algorithm == ("AES256" if enc.name.endswith("access-logs-encryption") else "aws:kms")
    (repo,) = run.of_type("aws:ecr/repository:Repository")
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo.inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS"
    for policy in run.of_type("aws:iam/rolePolicy:RolePolicy"):
        assert iam.wildcard_problems(json.loads(policy.inputs["policy"])) == [], policy.name
    for r in run.resources:
        if r.custom and "tags" in r.inputs:
            assert {"environment", "owner", "cost-centre"} <= set(r.inputs["tags"]), r.name


def test_dev_is_disposable_and_prod_is_kept(runs: dict[str, OfflineRun]) -> None:
    dev, prod = runs["dev"], runs["prod"]
    assert dev.config.storage.retention is Retention.DESTROY
    assert prod.config.storage.retention is Retention.RETAIN
    assert all(b.inputs["forceDestroy"] is True for b in dev.of_type("aws:s3/bucket:Bucket"))
    assert all(b.inputs["forceDestroy"] is False for b in prod.of_type("aws:s3/bucket:Bucket"))
    log_days = {
        s: {
            g.inputs["retentionInDays"] for g in runs[s].of_type("aws:cloudwatch/logGroup:LogGroup")
        }
        for s in ("dev", "prod")
    }
    assert log_days == {"dev": {14}, "prod": {731}}


def test_training_differs_per_environment(runs: dict[str, OfflineRun]) -> None:
    dev = StackOutputs.model_validate(runs["dev"].outputs).training
    prod = StackOutputs.model_validate(runs["prod"].outputs).training
    assert dev.use_spot and dev.checkpoint_s3_uri and dev.max_wait_seconds == 14400
    assert dev.subnet_ids == [] and dev.security_group_ids == []
    assert not prod.use_spot and prod.checkpoint_s3_uri is None
    assert len(prod.subnet_ids) == 3 and len(prod.security_group_ids) == 1
    assert prod.instance_type == "ml.g5.12xlarge"
    assert [r.name for r in runs["prod"].of_type("aws:ec2/securityGroup:SecurityGroup")] == [
        "mlops-stack-prod-training-sg"
    ]
    assert runs["dev"].of_type("aws:ec2/securityGroup:SecurityGroup") == []


def test_endpoints_differ_per_environment(runs: dict[str, OfflineRun]) -> None:
    specs = {s: StackOutputs.model_validate(runs[s].outputs).endpoint("churn") for s in STACKS}
    assert specs["dev"].serverless is not None and specs["dev"].deployment.strategy == "ALL_AT_ONCE"
    assert specs["staging"].deployment.strategy == "LINEAR"
    assert specs["prod"].deployment.strategy == "CANARY"
    assert specs["prod"].instance_type == "ml.g5.2xlarge"
    assert specs["prod"].initial_instance_count == 4
    assert specs["prod"].autoscaling is not None
    assert specs["local"].deployment.strategy == "CANARY"
    assert specs["local"].initial_instance_count == 2
    assert specs["local"].deployment.wait_interval_seconds == 600
    local = StackOutputs.model_validate(runs["local"].outputs)
    assert local.quality_gate["auto_approve"] is True


def test_drift_monitoring_per_environment(runs: dict[str, OfflineRun]) -> None:
    """Issue 25: local, staging and prod monitor their churn endpoint; dev's serverless one has
    no capture to monitor."""
    specs = {s: StackOutputs.model_validate(runs[s].outputs).endpoint("churn") for s in STACKS}
    assert specs["dev"].monitoring is None
    monitored = {s: specs[s].monitoring for s in ("local", "staging", "prod")}
    assert {
        s: (m.window_seconds, m.min_samples, m.alarm_windows) for s, m in monitored.items() if m
    } == {
        "local": (3600, 50, 1),
        "staging": (3600, 100, 2),
        "prod": (3600, 200, 3),
    }
    local = specs["local"]
    endpoint = "mlops-stack-local-churn"
    capture = "mlops-stack-local-capture-123456789012-us-east-1"
    assert local.monitoring is not None and local.data_capture is not None
    assert local.monitoring.model_dump(mode="json") == {
        "window_seconds": 3600,
        "metric": "auto",
        "threshold": None,
        "min_samples": 50,
        "alarm_windows": 1,
        "features": {},
        "namespace": "MLOps/ModelMonitoring",
        "drift_alarm_name": f"{endpoint}-drift",
        "processing_role_arn": f"arn:aws:iam::123456789012:role/{endpoint}-monitor",
        "capture_s3_uri": local.data_capture.destination_s3_uri,
        "reports_s3_uri": f"s3://{capture}/{endpoint}/reports/",
        "baselines_s3_uri": "s3://mlops-stack-local-model-123456789012-us-east-1/baselines/",
        "instance_type": "ml.m5.xlarge",
        "max_runtime_seconds": 3600,
    }
    assert local.data_capture.destination_s3_uri == f"s3://{capture}/{endpoint}/"
    assert local.alarm_names[-1] == f"{endpoint}-drift"
    assert f"{endpoint}-drift" not in local.rollback_alarm_names
    assert specs["prod"].monitoring is not None
    assert specs["prod"].monitoring.max_runtime_seconds == 1800

    def monitoring_resources(stack: str) -> list[tuple[str, str]]:
        return sorted(
            (r.type, r.name)
            for r in runs[stack].resources
            if r.name.endswith(("-drift", "-monitor-role", "-monitor-policy", "-processing-logs"))
        )

    assert monitoring_resources("dev") == []
    for stack in ("local", "staging", "prod"):
        prefix = f"mlops-stack-{stack}"
        assert monitoring_resources(stack) == [
            ("aws:cloudwatch/logGroup:LogGroup", f"{prefix}-monitoring-processing-logs"),
            ("aws:cloudwatch/metricAlarm:MetricAlarm", f"{prefix}-monitoring-churn-drift"),
            ("aws:iam/role:Role", f"{prefix}-churn-monitor-role"),
            ("aws:iam/rolePolicy:RolePolicy", f"{prefix}-churn-monitor-policy"),
        ], stack
    alarm = next(
        r.inputs
        for r in runs["prod"].resources
        if r.name == "mlops-stack-prod-monitoring-churn-drift"
    )
    assert (alarm["period"], alarm["evaluationPeriods"], alarm["datapointsToAlarm"]) == (3600, 3, 3)
    processing = [
        r.inputs
        for r in runs["prod"].resources
        if r.name == "mlops-stack-prod-monitoring-processing-logs"
    ]
    assert [(g["name"], g["retentionInDays"]) for g in processing] == [
        ("/aws/sagemaker/ProcessingJobs", 731)
    ]
    # prod's drift job runs in the training VPC: its role may attach network interfaces there
    policy = next(
        json.loads(r.inputs["policy"])
        for r in runs["prod"].resources
        if r.name == "mlops-stack-prod-churn-monitor-policy"
    )
    sids = [st["Sid"] for st in policy["Statement"]]
    assert sids[-3:] == [
        "DescribeNetwork",
        "CreateNetworkInterfacesInOurSubnets",
        "ManageOwnNetworkInterfaces",
    ]


def test_only_staging_shares_its_registry_with_another_account(
    runs: dict[str, OfflineRun],
) -> None:
    shared = {
        s
        for s in STACKS
        if runs[s].of_type("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy")
    }
    assert shared == {"staging"}


def test_prod_environment_is_prod(runs: dict[str, OfflineRun]) -> None:
    assert runs["prod"].config.environment is Environment.PROD
    assert runs["prod"].warnings == []


def test_preview_reports_unknowns_without_crashing() -> None:
    run = run_offline("prod", preview=True, stacks_dir=STACKS_DIR)
    assert run.preview is True
    assert list(run.outputs) == output_names()
    # what a plan knows before deployment
    assert run.outputs["buckets"]["model"] == "mlops-stack-prod-model-123456789012-eu-west-1"
    assert run.outputs["environment"] == "prod"
    assert run.outputs["model_package_group_name"] == "mlops-stack-prod-models"
    # what only a deployment creates
    assert run.outputs["kms_key_arn"] == UNKNOWN
    assert run.outputs["sagemaker_execution_role_arn"] == UNKNOWN
    assert {"kms_key_arn", "ecr_repository_url", "endpoints"} <= set(run.unknown_outputs)
    assert {"buckets", "audit_s3_uri", "tags"}.isdisjoint(run.unknown_outputs)
    # the same resources are planned either way
    deployed = run_offline("prod", stacks_dir=STACKS_DIR)
    assert sorted((r.type, r.name) for r in run.resources) == sorted(
        (r.type, r.name) for r in deployed.resources
    )


def test_runs_repeat_in_one_process_without_leaking_state() -> None:
    first = run_offline("local", stacks_dir=STACKS_DIR)
    run_offline("prod", stacks_dir=STACKS_DIR, preview=True)
    again = run_offline("local", stacks_dir=STACKS_DIR)

    def planned(run: OfflineRun) -> list[tuple[str, str, str]]:
        return sorted((r.type, r.name, json.dumps(r.inputs, sort_keys=True)) for r in run.resources)

    assert planned(again) == planned(first)
    assert again.outputs == first.outputs


def test_a_bad_stack_file_fails_before_any_resource(tmp_path: Path) -> None:
    shutil.copy(STACKS_DIR / "Pulumi.prod.yaml", tmp_path / "Pulumi.prod.yaml")
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(path.read_text().replace("instance_count: 1", "instance_count: two"))
    mocks = PlatformMocks()
    with pytest.raises(ConfigError) as err:
        run_offline("prod", stacks_dir=tmp_path, mocks=mocks)
    assert "Pulumi.prod.yaml" in str(err.value)
    assert "mlops:platform.training.instance_count" in str(err.value)
    assert "'two'" in str(err.value)
    assert mocks.resources == []


def test_the_program_itself_refuses_bad_config_before_registering() -> None:
    """Under the CLI the config arrives through pulumi's runtime config, not our loader."""
    from stacks import program

    mocks = PlatformMocks()
    bad = {
        "environment": "prod",
        "owner": "x",
        "cost_centre": "y",
        "unsafe": {"public_buckets": True},
    }
    with pytest.raises(program.StackConfigError) as err:
        run_program(
            program.main,
            mocks=mocks,
            stack="prod",
            config={"aws:region": "eu-west-1", "mlops:platform": json.dumps(bad)},
        )
    assert isinstance(err.value, pulumi.RunError)
    assert str(err.value).startswith("stacks/Pulumi.prod.yaml: invalid configuration")
    assert "unsafe.public_buckets" in str(err.value)
    assert [r for r in mocks.resources if r.custom] == []

    with pytest.raises(program.StackConfigError, match=r"config\.mlops:platform: required value"):
        run_program(
            program.main, mocks=PlatformMocks(), stack="x", config={"aws:region": "eu-west-1"}
        )


def test_unstubbed_invokes_raise_naming_the_token() -> None:
    import pulumi_aws as aws

    def program() -> None:
        aws.get_availability_zones()

    with pytest.raises(Exception, match="aws:index/getAvailabilityZones:getAvailabilityZones"):
        run_program(program, mocks=PlatformMocks(), config={"aws:region": "eu-west-1"})


def test_create_is_the_override_point() -> None:
    class Counting(PlatformMocks):
        def __init__(self) -> None:
            super().__init__()
            self.created: list[str] = []

        def create(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str | None, dict]:
            self.created.append(typ)
            return super().create(typ, name, inputs)

    mocks = Counting()
    run = run_offline("dev", mocks=mocks, stacks_dir=STACKS_DIR)
    assert len(mocks.created) == len([r for r in run.resources if r.custom])
    assert "mlops:platform:MLOpsPlatform" not in mocks.created


def test_training_log_group_is_owned_by_one_environment_per_account(
    runs: dict[str, OfflineRun],
) -> None:
    """/aws/sagemaker/TrainingJobs exists once per account+region: dev (sharing staging's
    account) leaves it to staging, which manages it with retention and the key."""

    def training_log_groups(stack: str) -> list[dict[str, Any]]:
        return [
            r.inputs
            for r in runs[stack].resources
            if r.type == "aws:cloudwatch/logGroup:LogGroup"
            and r.inputs.get("name") == "/aws/sagemaker/TrainingJobs"
        ]

    assert runs["dev"].config.monitoring.manage_training_log_group is False
    assert training_log_groups("dev") == []
    [staging] = training_log_groups("staging")
    assert staging["retentionInDays"] == runs["staging"].config.monitoring.log_retention_days
    assert staging["kmsKeyId"].startswith("arn:aws:kms:")


def test_promotion_targets_may_read_model_artifacts_and_decrypt_them_through_s3_only(
    runs: dict[str, OfflineRun],
) -> None:
    """staging lists a promotion target account: it may read artifacts, metrics and promoted
    packages from the model bucket (nothing else, no writes) and decrypt them via S3 only."""

    def inputs(stack: str, type_: str, name: str) -> dict[str, Any]:
        [found] = [r.inputs for r in runs[stack].resources if r.type == type_ and r.name == name]
        return found

    target = "arn:aws:iam::210987654321:root"
    model = "mlops-stack-staging-model-123456789012-eu-west-1"
    policy = json.loads(
        inputs(
            "staging",
            "aws:s3/bucketPolicy:BucketPolicy",
            "mlops-stack-staging-storage-model-policy",
        )["policy"]
    )
    read = {s["Sid"]: s for s in policy["Statement"]}["CrossAccountReadModelArtifacts"]
    assert read == {
        "Sid": "CrossAccountReadModelArtifacts",
        "Effect": "Allow",
        "Principal": {"AWS": [target]},
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": [
            f"arn:aws:s3:::{model}/training/*",
            f"arn:aws:s3:::{model}/model-metrics/*",
            f"arn:aws:s3:::{model}/promoted/*",
        ],
    }
    key = json.loads(inputs("staging", "aws:kms/key:Key", "mlops-stack-staging-key")["policy"])
    decrypt = {s["Sid"]: s for s in key["Statement"]}["PromotionTargetsDecryptArtifactsThroughS3"]
    assert decrypt["Principal"] == {"AWS": [target]}
    assert decrypt["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    }
    data_policy = inputs(
        "staging", "aws:s3/bucketPolicy:BucketPolicy", "mlops-stack-staging-storage-data-policy"
    )["policy"]
    assert "210987654321" not in data_policy
    for stack in ("dev", "prod"):  # no promotion targets: no cross-account statement anywhere
        key_policy = inputs(stack, "aws:kms/key:Key", f"mlops-stack-{stack}-key")["policy"]
        assert "PromotionTargets" not in key_policy
        assert (
            "CrossAccount"
            not in inputs(
                stack,
                "aws:s3/bucketPolicy:BucketPolicy",
                f"mlops-stack-{stack}-storage-model-policy",
            )["policy"]
        )


# ------------------------------------------------- issue 15 item 1: bound to the stack


def _weakened_prod(tmp_path: Path) -> Path:
    """Prod's stack file claiming to be dev, with dev's relaxations."""
    document = yaml.safe_load((STACKS_DIR / "Pulumi.prod.yaml").read_text())
    platform = document["config"]["mlops:platform"]
    platform["environment"] = "dev"
    platform["storage"] = {"retention": "DESTROY"}
    platform["unsafe"] = {"force_destroy_buckets": True}
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_prod_stack_file_saying_dev_is_refused_naming_both(tmp_path: Path) -> None:
    _weakened_prod(tmp_path)
    mocks = PlatformMocks()
    with pytest.raises(ConfigError) as err:
        run_offline("prod", stacks_dir=tmp_path, mocks=mocks)
    assert (
        "mlops:platform.environment: 'dev' does not match the stack 'prod'; a stack's environment "
        "is its name (allowed here: prod)"
    ) in str(err.value)
    assert mocks.resources == []


def test_the_program_binds_the_environment_to_the_stack_too() -> None:
    """Under the CLI (config from the engine): same refusal, before any resource."""
    from stacks import program

    dev = {"environment": "dev", "owner": "x", "cost_centre": "y"}
    mocks = PlatformMocks()
    with pytest.raises(
        program.StackConfigError, match=r"'dev' does not match the stack 'acme/mlops-stack/prod'"
    ):
        run_program(
            program.main,
            mocks=mocks,
            stack="acme/mlops-stack/prod",
            config={"aws:region": "eu-west-1", "mlops:platform": json.dumps(dev)},
        )
    assert mocks.resources == []
    with pytest.raises(program.StackConfigError, match=r"stack 'feature-x': not an environment"):
        run_program(
            program.main,
            mocks=PlatformMocks(),
            stack="feature-x",
            config={"aws:region": "eu-west-1", "mlops:platform": json.dumps(dev)},
        )
