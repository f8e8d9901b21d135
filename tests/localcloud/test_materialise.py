"""The real stack program, materialised into the local cloud: StackOutputs point at real resources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.localcloud


def test_materialise_local_creates_what_the_outputs_name(
    local_cloud: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from components.contract import StackOutputs
    from localcloud.materialise import materialise_run

    monkeypatch.chdir(tmp_path)
    result = materialise_run(local_cloud, "local")
    outputs = result.outputs
    assert result.skipped == []
    assert outputs.stack == "local"

    s3 = local_cloud.client("s3")
    for bucket in (outputs.buckets.data, outputs.buckets.model, outputs.buckets.capture):
        s3.head_bucket(Bucket=bucket)
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"
        ]
        assert (
            rules[0]["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == outputs.kms_key_arn
        )
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values())

    # the stack's TLS-only bucket policy must not lock the pipeline out over loopback
    s3.put_object(Bucket=outputs.buckets.model, Key="audit/first.json", Body=b"{}", IfNoneMatch="*")
    assert (
        s3.get_object(Bucket=outputs.buckets.model, Key="audit/first.json")["Body"].read() == b"{}"
    )

    key = local_cloud.client("kms").describe_key(KeyId=outputs.kms_key_arn)["KeyMetadata"]
    assert key["Arn"] == outputs.kms_key_arn

    role_name = outputs.sagemaker_execution_role_arn.rsplit("/", 1)[-1]
    role = local_cloud.client("iam").get_role(RoleName=role_name)["Role"]
    assert role["Arn"] == outputs.sagemaker_execution_role_arn

    repo_name = outputs.ecr_repository_url.split("/", 1)[1]
    repo = local_cloud.client("ecr").describe_repositories(repositoryNames=[repo_name])[
        "repositories"
    ][0]
    assert repo["repositoryUri"] == outputs.ecr_repository_url
    assert repo["imageTagMutability"] == "IMMUTABLE"

    sm = local_cloud.client("sagemaker")
    sm.describe_model_package_group(ModelPackageGroupName=outputs.model_package_group_name)

    alarms = {
        a["AlarmName"] for a in local_cloud.client("cloudwatch").describe_alarms()["MetricAlarms"]
    }
    for spec in outputs.endpoints:
        assert set(spec.rollback_alarm_names) <= alarms
        local_cloud.client("iam").get_role(RoleName=spec.execution_role_arn.rsplit("/", 1)[-1])

    assert outputs.alerts_topic_arn is not None
    topics = {t["TopicArn"] for t in local_cloud.client("sns").list_topics()["Topics"]}
    assert outputs.alerts_topic_arn in topics

    written = tmp_path / ".mlops" / "local" / "outputs-local.json"
    assert result.outputs_file == written
    assert StackOutputs.model_validate(json.loads(written.read_text())) == outputs
