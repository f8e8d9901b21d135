"""What the local cloud returns fits botocore's output shapes (required members, types, no extras)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.validate import ParamValidator

from tests.localcloud.helpers import canary, in_service_endpoint, pending_status, wait_endpoint

pytestmark = pytest.mark.localcloud


def assert_fits(client: Any, operation: str, response: dict[str, Any]) -> None:
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    shape = client.meta.service_model.operation_model(operation).output_shape
    report = ParamValidator().validate(body, shape)
    assert not report.has_errors(), report.generate_report()


def test_describe_endpoint_fits_the_output_shape_in_every_state(local_cloud: Any) -> None:
    in_service_endpoint(local_cloud)
    sm = local_cloud.client("sagemaker")
    assert_fits(sm, "DescribeEndpoint", sm.describe_endpoint(EndpointName="ep"))
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="cfg-v2", DeploymentConfig=canary())
    seen: set[str | None] = set()

    shares: set[float] = set()

    def check(description: dict[str, Any]) -> None:
        status = pending_status(description)
        seen.add(status[1])
        assert_fits(sm, "DescribeEndpoint", description)
        if status[1] == "Baking" and "25%" in str(status[2]):
            # the pending variant's CurrentWeight is the step's share (it said 1.0 before)
            pending = description["PendingDeploymentSummary"]["ProductionVariants"][0]
            shares.add(pending["CurrentWeight"])

    final = wait_endpoint(local_cloud, on_poll=check)
    assert {"Creating", "Baking"} <= seen
    assert shares == {0.25}  # the canary: 1 of 4 instances
    assert_fits(sm, "DescribeEndpoint", final)


def test_describe_training_job_fits_the_output_shape(local_cloud: Any) -> None:
    from tests.localcloud.test_training import start_job, wait_job

    sm = start_job(local_cloud, "shape-job", epochs=5)
    assert_fits(sm, "DescribeTrainingJob", sm.describe_training_job(TrainingJobName="shape-job"))
    assert_fits(sm, "DescribeTrainingJob", wait_job(sm, "shape-job"))


def test_data_capture_is_reported_as_a_summary(local_cloud: Any) -> None:
    from tests.localcloud.helpers import put_model

    put_model(local_cloud, "m")
    sm = local_cloud.client("sagemaker")
    sm.create_endpoint_config(
        EndpointConfigName="cfg-capture",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "m",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.g6.xlarge",
            }
        ],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 20,
            "DestinationS3Uri": "s3://capture-bucket/ep/",
            "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        },
    )
    sm.create_endpoint(EndpointName="ep", EndpointConfigName="cfg-capture")
    final = wait_endpoint(local_cloud)
    assert_fits(sm, "DescribeEndpoint", final)
    assert final["DataCaptureConfig"] == {
        "EnableCapture": True,
        "CaptureStatus": "Started",
        "CurrentSamplingPercentage": 20,
        "DestinationS3Uri": "s3://capture-bucket/ep/",
        "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k",
    }


def test_configs_models_and_lists_fit_their_output_shapes(local_cloud: Any) -> None:
    in_service_endpoint(local_cloud)
    sm = local_cloud.client("sagemaker")
    sm.create_model(
        ModelName="iso",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
        PrimaryContainer={"Image": "img", "ModelDataUrl": "s3://b/k"},
        EnableNetworkIsolation=True,
    )
    assert_fits(
        sm, "DescribeEndpointConfig", sm.describe_endpoint_config(EndpointConfigName="cfg-v1")
    )
    assert_fits(sm, "DescribeModel", sm.describe_model(ModelName="iso"))
    assert_fits(sm, "ListEndpoints", sm.list_endpoints())
    assert_fits(sm, "ListEndpointConfigs", sm.list_endpoint_configs())
    assert_fits(sm, "ListModels", sm.list_models())


def test_model_packages_and_groups_fit_the_output_shapes_with_simulated_times(
    local_cloud: Any,
) -> None:
    """DescribeModelPackage carries ModelPackageName, DescribeModelPackageGroup CreatedBy (both
    required by botocore); their CreationTime is on the simulated clock like training times."""
    sm = local_cloud.client("sagemaker")
    before = local_cloud.clock.now()
    group = sm.create_model_package_group(ModelPackageGroupName="g-shapes")
    arn = sm.create_model_package(
        ModelPackageGroupName="g-shapes",
        InferenceSpecification={
            "Containers": [{"Image": "img", "ModelDataUrl": "s3://b/m.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelApprovalStatus="PendingManualApproval",
    )["ModelPackageArn"]
    package = sm.describe_model_package(ModelPackageName=arn)
    assert package["ModelPackageName"] == "g-shapes"
    assert_fits(sm, "DescribeModelPackage", package)
    described = sm.describe_model_package_group(ModelPackageGroupName="g-shapes")
    assert described["ModelPackageGroupArn"] == group["ModelPackageGroupArn"]
    assert_fits(sm, "DescribeModelPackageGroup", described)
    for created in (package["CreationTime"], described["CreationTime"]):
        assert before - 1 <= created.timestamp() <= local_cloud.clock.now() + 1


def test_alarm_history_fits_the_output_shape(local_cloud: Any) -> None:
    from tests.localcloud.helpers import put_alarm

    cw = local_cloud.client("cloudwatch")
    put_alarm(local_cloud, "shape-alarm")
    assert cw.describe_alarms(AlarmNames=["shape-alarm"])["MetricAlarms"][0]["StateValue"] == (
        "INSUFFICIENT_DATA"  # as CloudWatch starts an alarm (moto says OK)
    )
    cw.set_alarm_state(AlarmName="shape-alarm", StateValue="ALARM", StateReason="test")
    history = cw.describe_alarm_history(AlarmName="shape-alarm")
    assert [i["HistorySummary"] for i in history["AlarmHistoryItems"]] == [
        "Alarm updated from INSUFFICIENT_DATA to ALARM"
    ]
    assert_fits(cw, "DescribeAlarmHistory", history)
