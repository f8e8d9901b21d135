"""The local cloud as a server: loopback only, its clock, loud failures, instance types."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from components import iam
from tests.localcloud.helpers import put_model

pytestmark = pytest.mark.localcloud


def test_listens_on_loopback_only(local_cloud: Any) -> None:
    host, port = local_cloud._server.server_address[:2]
    assert host == "127.0.0.1"
    assert local_cloud.endpoint_url == f"http://127.0.0.1:{port}"
    assert local_cloud.env()["AWS_ENDPOINT_URL"] == local_cloud.endpoint_url
    # Bound to 127.0.0.1 (not 0.0.0.0): no other interface can reach it. The test never
    # probes the machine's other addresses; tests only ever talk to loopback.
    assert local_cloud._server.socket.getsockname()[0] == "127.0.0.1"


def test_clock_endpoint_reports_simulated_time_and_speed(local_cloud: Any) -> None:
    def read() -> dict[str, float]:
        with urllib.request.urlopen(f"{local_cloud.endpoint_url}/_localcloud/clock") as response:
            return dict(json.load(response))

    clock = local_cloud.clock
    t0 = time.monotonic()
    start = clock.now()
    t1 = time.monotonic()
    first = read()
    between = clock.now()
    second = read()
    t2 = time.monotonic()
    end = clock.now()
    t3 = time.monotonic()
    assert first["speed"] == second["speed"] == clock.speed
    # No sleep: each answer is the clock's simulated time at the moment it was served, and
    # a request's round trip alone advances it (the clock runs `speed` times real time).
    assert start <= first["now"] <= between <= second["now"] <= end
    assert second["now"] > first["now"]
    # ... at `speed` simulated seconds per real second, over the real time the two requests took
    assert clock.speed * (t2 - t1) * 0.99 <= end - start <= clock.speed * (t3 - t0) * 1.01


def test_sim_clock_sleep_is_compressed(local_cloud: Any) -> None:
    clock = local_cloud.clock
    start_real, start_sim = time.monotonic(), clock.now()
    clock.sleep(60)
    assert time.monotonic() - start_real < 60 / clock.speed + 0.2
    assert clock.now() - start_sim >= 60


@pytest.mark.parametrize(
    ("service", "call", "operation"),
    [
        (
            "sagemaker",
            lambda c: c.create_inference_component(
                InferenceComponentName="ic",
                EndpointName="ep",
                VariantName="AllTraffic",
                Specification={"ModelName": "m"},
                RuntimeConfig={"CopyCount": 1},
            ),
            "sagemaker:CreateInferenceComponent",
        ),
        ("sagemaker", lambda c: c.list_monitoring_schedules(), "sagemaker:ListMonitoringSchedules"),
        (
            "sagemaker-runtime",
            lambda c: c.invoke_endpoint_async(EndpointName="ep", InputLocation="s3://b/in"),
            "sagemaker:InvokeEndpointAsync",
        ),
    ],
)
def test_unimplemented_operation_fails_loudly(
    local_cloud: Any, service: str, call: Any, operation: str
) -> None:
    client = local_cloud.client(service)
    with pytest.raises(ClientError) as err:
        call(client)
    error = err.value.response["Error"]
    assert error["Code"] == "NotImplemented"
    assert f"the local cloud does not implement {operation}" in error["Message"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert err.value.response["ResponseMetadata"]["RetryAttempts"] == 0


@pytest.mark.parametrize(
    "instance_type", ["ml.g5.2xlarge", "ml.g6.xlarge", "ml.p4d.24xlarge", "ml.p5.48xlarge"]
)
def test_gpu_instance_types_moto_lacks_are_accepted(local_cloud: Any, instance_type: str) -> None:
    put_model(local_cloud, "m")
    sm = local_cloud.client("sagemaker")
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": "m",
        "InitialInstanceCount": 1,
        "InstanceType": instance_type,
    }
    sm.create_endpoint_config(EndpointConfigName="cfg", ProductionVariants=[variant])
    described = sm.describe_endpoint_config(EndpointConfigName="cfg")
    assert described["ProductionVariants"][0]["InstanceType"] == instance_type


def test_unknown_instance_type_and_duplicate_config_are_refused(local_cloud: Any) -> None:
    put_model(local_cloud, "m")
    sm = local_cloud.client("sagemaker")
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": "m",
        "InitialInstanceCount": 1,
        "InstanceType": "ml.g99.huge",
    }
    with pytest.raises(ClientError, match=r"ml\.g99\.huge"):
        sm.create_endpoint_config(EndpointConfigName="cfg", ProductionVariants=[variant])
    variant["InstanceType"] = "ml.g5.xlarge"
    sm.create_endpoint_config(EndpointConfigName="cfg", ProductionVariants=[variant])
    with pytest.raises(ClientError, match="Cannot create already existing endpoint configuration"):
        sm.create_endpoint_config(EndpointConfigName="cfg", ProductionVariants=[variant])


def test_models_keep_network_isolation_and_refuse_duplicates(local_cloud: Any) -> None:
    sm = local_cloud.client("sagemaker")
    container = {"Image": "img", "ModelDataUrl": "s3://b/k"}
    sm.create_model(
        ModelName="iso",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
        PrimaryContainer=container,
        EnableNetworkIsolation=True,
    )
    assert sm.describe_model(ModelName="iso")["EnableNetworkIsolation"] is True
    with pytest.raises(ClientError, match="Cannot create already existing model"):
        sm.create_model(
            ModelName="iso",
            ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
            PrimaryContainer=container,
        )


def test_model_package_group_delete_needs_an_empty_group(local_cloud: Any) -> None:
    sm = local_cloud.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="g")
    arn = sm.create_model_package(
        ModelPackageGroupName="g",
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "img", "ModelDataUrl": "s3://b/k"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        CustomerMetadataProperties={"git_commit": "abc123"},
        ModelMetrics={
            "ModelQuality": {
                "Statistics": {"ContentType": "application/json", "S3Uri": "s3://b/m.json"}
            }
        },
    )["ModelPackageArn"]
    described = sm.describe_model_package(ModelPackageName=arn)
    assert described["CustomerMetadataProperties"] == {"git_commit": "abc123"}
    assert described["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] == "s3://b/m.json"
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    assert sm.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "Approved"
    with pytest.raises(ClientError, match="still holds 1 model package"):
        sm.delete_model_package_group(ModelPackageGroupName="g")
    sm.delete_model_package(ModelPackageName=arn)
    sm.delete_model_package_group(ModelPackageGroupName="g")
    assert sm.list_model_package_groups()["ModelPackageGroupSummaryList"] == []


def test_s3_if_none_match_never_overwrites(local_cloud: Any) -> None:
    s3 = local_cloud.client("s3")
    s3.create_bucket(Bucket="audit-localcloud-test")
    s3.put_object(Bucket="audit-localcloud-test", Key="r/1.json", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as err:
        s3.put_object(
            Bucket="audit-localcloud-test", Key="r/1.json", Body=b"second", IfNoneMatch="*"
        )
    assert err.value.response["Error"]["Code"] == "PreconditionFailed"
    assert s3.get_object(Bucket="audit-localcloud-test", Key="r/1.json")["Body"].read() == b"first"


def test_fault_hook_rejects_unknown_outcomes(local_cloud: Any) -> None:
    request = urllib.request.Request(
        f"{local_cloud.endpoint_url}/_localcloud/faults",
        data=json.dumps({"endpoint": "ep", "outcome": "Exploded"}).encode(),
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request)
    assert err.value.code == 400
    assert "UpdateRollbackFailed" in json.load(err.value)["error"]


def test_reset_empties_the_cloud(local_cloud: Any) -> None:
    put_model(local_cloud, "m")
    local_cloud.reset()
    assert local_cloud.client("sagemaker").list_models()["Models"] == []


def _inject(cloud: Any, **error: Any) -> None:
    request = urllib.request.Request(
        f"{cloud.endpoint_url}/_localcloud/errors", data=json.dumps(error).encode(), method="POST"
    )
    with urllib.request.urlopen(request) as response:
        assert json.load(response)["remaining"] == error.get("count", 1)


def test_injected_throttling_is_retried_by_botocore(local_cloud: Any) -> None:
    _inject(local_cloud, operation="ListModels", code="ThrottlingException", count=2)
    response = local_cloud.client("sagemaker").list_models()
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert response["Models"] == []


def test_injected_errors_past_the_retry_budget_reach_the_caller(local_cloud: Any) -> None:
    _inject(
        local_cloud,
        service="sagemaker",
        operation="ListEndpoints",
        code="ServiceUnavailable",
        status=503,
        count=5,
    )
    with pytest.raises(ClientError) as err:
        local_cloud.client("sagemaker").list_endpoints()
    assert err.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_model_package_group_policy_round_trip(local_cloud: Any) -> None:
    sm = local_cloud.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="shared")
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    sm.put_model_package_group_policy(ModelPackageGroupName="shared", ResourcePolicy=policy)
    assert (
        sm.get_model_package_group_policy(ModelPackageGroupName="shared")["ResourcePolicy"]
        == policy
    )
    sm.delete_model_package_group_policy(ModelPackageGroupName="shared")
    with pytest.raises(ClientError, match="Cannot find resource policy"):
        sm.get_model_package_group_policy(ModelPackageGroupName="shared")


def test_tls_only_bucket_policy_does_not_lock_out_loopback(local_cloud: Any) -> None:
    s3 = local_cloud.client("s3")
    bucket = "policy-localcloud-test"
    s3.create_bucket(Bucket=bucket)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            # The platform's own TLS-only statement, as every stack bucket carries it.
            iam.tls_only_statement("aws", bucket),
            {
                "Sid": "DenyLockedPrefix",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/locked/*",
            },
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    s3.put_object(Bucket=bucket, Key="open/a.txt", Body=b"a")
    assert s3.get_object(Bucket=bucket, Key="open/a.txt")["Body"].read() == b"a"
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="locked/b.txt", Body=b"b")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == policy


def test_tags_on_pipeline_created_resources(local_cloud: Any) -> None:
    from tests.localcloud.helpers import put_config

    put_model(local_cloud, "m")
    put_config(local_cloud, "cfg", "m")
    sm = local_cloud.client("sagemaker")
    sm.create_endpoint(
        EndpointName="ep", EndpointConfigName="cfg", Tags=[{"Key": "mlops:stack", "Value": "local"}]
    )
    arns = {
        "endpoint": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep",
        "endpoint-config": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/cfg",
        "model": "arn:aws:sagemaker:us-east-1:123456789012:model/m",
    }
    for arn in arns.values():
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "mlops:managed-by", "Value": "pipeline"}])
        tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}
        assert tags["mlops:managed-by"] == "pipeline"
    endpoint_tags = {t["Key"] for t in sm.list_tags(ResourceArn=arns["endpoint"])["Tags"]}
    assert endpoint_tags == {"mlops:stack", "mlops:managed-by"}


def test_a_validation_error_inside_our_handlers_is_a_400_answered_once(local_cloud: Any) -> None:
    """CreateEndpointConfig naming an unknown model fails in moto's backend, called from our
    handler: a 400 ValidationException, not a 500 that every client retries five times."""
    sm = local_cloud.client("sagemaker")
    calls: list[str] = []
    sm.meta.events.register("before-send.sagemaker.*", lambda **kw: calls.append("sent"))
    with pytest.raises(ClientError) as refused:
        sm.create_endpoint_config(
            EndpointConfigName="cfg",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "no-such-model",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.g5.xlarge",
                }
            ],
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "no-such-model" in refused.value.response["Error"]["Message"]
    assert calls == ["sent"]


def test_duplicate_variant_names_are_refused(local_cloud: Any) -> None:
    from tests.localcloud.helpers import in_service_endpoint, put_model

    put_model(local_cloud, "m-dup")
    sm = local_cloud.client("sagemaker")
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": "m-dup",
        "InitialInstanceCount": 1,
        "InstanceType": "ml.g5.xlarge",
    }
    with pytest.raises(ClientError) as config:
        sm.create_endpoint_config(EndpointConfigName="dup", ProductionVariants=[variant, variant])
    assert config.value.response["Error"]["Code"] == "ValidationException"
    assert "not unique" in config.value.response["Error"]["Message"]
    in_service_endpoint(local_cloud)
    weights = [{"VariantName": "AllTraffic", "DesiredWeight": 1.0}] * 2
    with pytest.raises(ClientError) as update:
        sm.update_endpoint_weights_and_capacities(
            EndpointName="ep", DesiredWeightsAndCapacities=weights
        )
    assert "not unique" in update.value.response["Error"]["Message"]


def test_a_cloudformation_endpoint_goes_through_the_endpoint_lifecycle(local_cloud: Any) -> None:
    """AWS::SageMaker::Endpoint on a config made through the API: created once (it used to fail
    with KeyError 'DataCaptureConfig', a 500 the retry hid behind AlreadyExistsException), and
    Creating like any other endpoint."""
    import json

    from tests.localcloud.helpers import put_config, put_model, wait_endpoint

    put_model(local_cloud, "m-cfn")
    put_config(local_cloud, "cfg-cfn", "m-cfn")
    template = {
        "Resources": {
            "Endpoint": {
                "Type": "AWS::SageMaker::Endpoint",
                "Properties": {"EndpointConfigName": "cfg-cfn", "EndpointName": "ep-cfn"},
            }
        }
    }
    cf = local_cloud.client("cloudformation")
    cf.create_stack(StackName="cfn-endpoint", TemplateBody=json.dumps(template))
    assert (
        cf.describe_stacks(StackName="cfn-endpoint")["Stacks"][0]["StackStatus"]
        == "CREATE_COMPLETE"
    )
    final = wait_endpoint(local_cloud, "ep-cfn")
    assert final["EndpointStatus"] == "InService"
    # moto's own path is InService at once; ours spends CreateEndpoint's 300 simulated s Creating
    created = final["CreationTime"].timestamp()
    assert final["LastModifiedTime"].timestamp() - created == pytest.approx(300, abs=1)
