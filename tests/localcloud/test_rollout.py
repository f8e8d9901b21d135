"""Blue/green UpdateEndpoint on the local cloud, driven with plain boto3."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localcloud.helpers import (
    ALARM,
    canary,
    in_service_endpoint,
    linear,
    pending_status,
    put_config,
    put_model,
    wait_endpoint,
)

pytestmark = pytest.mark.localcloud


def _record(seen: list[tuple[Any, ...]]) -> Any:
    def on_poll(description: dict[str, Any]) -> None:
        status = pending_status(description)
        if not seen or seen[-1] != status:
            seen.append(status)

    return on_poll


def test_create_endpoint_goes_creating_then_in_service(local_cloud: Any) -> None:
    put_model(local_cloud, "m-v1")
    put_config(local_cloud, "cfg-v1", "m-v1")
    sm = local_cloud.client("sagemaker")
    sm.create_endpoint(EndpointName="ep", EndpointConfigName="cfg-v1")
    first = sm.describe_endpoint(EndpointName="ep")
    assert first["EndpointStatus"] == "Creating"
    final = wait_endpoint(local_cloud)
    assert final["EndpointStatus"] == "InService"
    assert final["EndpointConfigName"] == "cfg-v1"
    assert final["ProductionVariants"][0]["CurrentInstanceCount"] == 4
    assert (final["LastModifiedTime"] - final["CreationTime"]).total_seconds() >= 300


def test_duplicate_create_endpoint_is_refused(local_cloud: Any) -> None:
    in_service_endpoint(local_cloud)
    with pytest.raises(ClientError) as err:
        local_cloud.client("sagemaker").create_endpoint(
            EndpointName="ep", EndpointConfigName="cfg-v2"
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "Cannot create already existing endpoint" in str(err.value)
    assert (
        local_cloud.client("sagemaker").describe_endpoint(EndpointName="ep")["EndpointConfigName"]
        == "cfg-v1"
    )


def test_create_endpoint_fails_when_the_model_artifact_is_missing(local_cloud: Any) -> None:
    put_model(local_cloud, "m-gone", artifact=False)
    put_config(local_cloud, "cfg-gone", "m-gone")
    local_cloud.client("sagemaker").create_endpoint(
        EndpointName="ep", EndpointConfigName="cfg-gone"
    )
    final = wait_endpoint(local_cloud)
    assert final["EndpointStatus"] == "Failed"
    assert "s3://models-localcloud-test/m-gone/model.tar.gz" in final["FailureReason"]


def test_canary_completes_on_the_new_config(local_cloud: Any) -> None:
    in_service_endpoint(local_cloud)
    sm = local_cloud.client("sagemaker")
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="cfg-v2", DeploymentConfig=canary())
    during = sm.describe_endpoint(EndpointName="ep")
    assert during["EndpointStatus"] == "Updating"
    assert during["EndpointConfigName"] == "cfg-v1"
    assert during["PendingDeploymentSummary"]["EndpointConfigName"] == "cfg-v2"
    assert (
        during["PendingDeploymentSummary"]["ProductionVariants"][0]["InstanceType"]
        == "ml.g5.xlarge"
    )
    seen: list[tuple[Any, ...]] = []
    final = wait_endpoint(local_cloud, on_poll=_record(seen))
    assert final["EndpointStatus"] == "InService"
    assert final["EndpointConfigName"] == "cfg-v2"
    assert "PendingDeploymentSummary" not in final
    assert "FailureReason" not in final
    assert final["LastDeploymentConfig"] == canary()
    assert final["ProductionVariants"][0]["DeployedImages"][0]["SpecifiedImage"] == "img:m-v2"
    bakes = [message for status, variant, message in seen if variant == "Baking"]
    assert any("25%" in m for m in bakes), seen  # 1 of 4 instances
    assert any("100%" in m for m in bakes), seen


def test_canary_rolled_back_by_an_alarm_set_mid_bake(local_cloud: Any) -> None:
    in_service_endpoint(local_cloud)
    sm, cw = local_cloud.client("sagemaker"), local_cloud.client("cloudwatch")
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="cfg-v2", DeploymentConfig=canary())
    fired: list[str] = []

    def fire_during_bake(description: dict[str, Any]) -> None:
        if not fired and pending_status(description)[1] == "Baking":
            cw.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="5xx spike")
            fired.append(description["EndpointStatus"])

    seen: list[tuple[Any, ...]] = []

    def on_poll(description: dict[str, Any]) -> None:
        _record(seen)(description)
        fire_during_bake(description)

    final = wait_endpoint(local_cloud, on_poll=on_poll)
    assert fired == ["Updating"]
    assert ("RollingBack", None, None) in seen
    assert final["EndpointStatus"] == "InService"
    assert final["EndpointConfigName"] == "cfg-v1"
    assert ALARM in final["FailureReason"]
    assert final["ProductionVariants"][0]["DeployedImages"][0]["SpecifiedImage"] == "img:m-v1"


def test_alarm_already_firing_when_the_bake_starts_rolls_back(local_cloud: Any) -> None:
    in_service_endpoint(local_cloud)
    local_cloud.client("cloudwatch").set_alarm_state(
        AlarmName=ALARM, StateValue="ALARM", StateReason="x"
    )
    sm = local_cloud.client("sagemaker")
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="cfg-v2", DeploymentConfig=canary())
    final = wait_endpoint(local_cloud)
    assert (final["EndpointStatus"], final["EndpointConfigName"]) == ("InService", "cfg-v1")


def test_linear_rollout_shifts_traffic_in_steps(local_cloud: Any) -> None:
    in_service_endpoint(local_cloud)
    sm = local_cloud.client("sagemaker")
    sm.update_endpoint(
        EndpointName="ep", EndpointConfigName="cfg-v2", DeploymentConfig=linear(25, 300)
    )
    seen: list[tuple[Any, ...]] = []
    final = wait_endpoint(local_cloud, on_poll=_record(seen))
    bakes = [message for _, variant, message in seen if variant == "Baking"]
    for share in ("25%", "50%", "75%", "100%"):
        assert any(share in m for m in bakes), (share, seen)
    assert (final["EndpointStatus"], final["EndpointConfigName"]) == ("InService", "cfg-v2")


def test_concurrent_update_is_refused(local_cloud: Any) -> None:
    in_service_endpoint(local_cloud)
    sm = local_cloud.client("sagemaker")
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="cfg-v2", DeploymentConfig=canary())
    with pytest.raises(ClientError) as err:
        sm.update_endpoint(
            EndpointName="ep", EndpointConfigName="cfg-v2", DeploymentConfig=canary()
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "Cannot update in-progress endpoint" in str(err.value)
    assert wait_endpoint(local_cloud)["EndpointConfigName"] == "cfg-v2"


def test_new_config_must_keep_the_variant_name(local_cloud: Any) -> None:
    in_service_endpoint(local_cloud)
    put_config(local_cloud, "cfg-renamed", "m-v2", variant="Blue")
    sm = local_cloud.client("sagemaker")
    with pytest.raises(ClientError) as err:
        sm.update_endpoint(
            EndpointName="ep", EndpointConfigName="cfg-renamed", DeploymentConfig=canary()
        )
    assert "variant names" in str(err.value) and "AllTraffic" in str(err.value)
    assert sm.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "InService"


@pytest.mark.parametrize(
    ("config", "quoted"),
    [
        (canary(wait=3601), "WaitIntervalInSeconds must be between 0 and 3600"),
        (linear(step_percent=60), "LinearStepSize must be between 10% and 50%"),
        (canary(alarms=tuple(f"a{i}" for i in range(11))), "1 to 10 alarms"),
    ],
)
def test_deployment_config_out_of_range_is_refused(
    local_cloud: Any, config: dict[str, Any], quoted: str
) -> None:
    in_service_endpoint(local_cloud)
    with pytest.raises(ClientError) as err:
        local_cloud.client("sagemaker").update_endpoint(
            EndpointName="ep", EndpointConfigName="cfg-v2", DeploymentConfig=config
        )
    assert quoted in str(err.value)


def test_update_to_a_missing_artifact_rolls_back(local_cloud: Any) -> None:
    in_service_endpoint(local_cloud)
    put_model(local_cloud, "m-gone", artifact=False)
    put_config(local_cloud, "cfg-gone", "m-gone")
    sm = local_cloud.client("sagemaker")
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="cfg-gone", DeploymentConfig=canary())
    final = wait_endpoint(local_cloud)
    assert (final["EndpointStatus"], final["EndpointConfigName"]) == ("InService", "cfg-v1")
    assert "m-gone/model.tar.gz" in final["FailureReason"]


@pytest.mark.parametrize("outcome", ["Failed", "UpdateRollbackFailed"])
def test_fault_hook_forces_the_outcome(local_cloud: Any, outcome: str) -> None:
    in_service_endpoint(local_cloud)
    request = urllib.request.Request(
        f"{local_cloud.endpoint_url}/_localcloud/faults",
        data=json.dumps({"endpoint": "ep", "outcome": outcome}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        assert json.load(response)["applies_to"] == "next create or update"
    sm = local_cloud.client("sagemaker")
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="cfg-v2", DeploymentConfig=canary())
    final = wait_endpoint(local_cloud)
    assert final["EndpointStatus"] == outcome
    assert "Injected fault" in final["FailureReason"]
    if outcome == "Failed":
        with pytest.raises(ClientError, match="only DeleteEndpoint"):
            sm.update_endpoint(EndpointName="ep", EndpointConfigName="cfg-v2")


def test_retain_all_variant_properties_keeps_the_live_instance_count(local_cloud: Any) -> None:
    in_service_endpoint(local_cloud)
    sm = local_cloud.client("sagemaker")
    sm.update_endpoint_weights_and_capacities(
        EndpointName="ep",
        DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 6}],
    )
    wait_endpoint(local_cloud)
    sm.update_endpoint(
        EndpointName="ep",
        EndpointConfigName="cfg-v2",
        DeploymentConfig=canary(),
        RetainAllVariantProperties=True,
    )
    final = wait_endpoint(local_cloud)
    assert final["EndpointConfigName"] == "cfg-v2"
    assert final["ProductionVariants"][0]["DesiredInstanceCount"] == 6


def test_instance_type_change_of_an_autoscaled_variant_is_refused(local_cloud: Any) -> None:
    in_service_endpoint(local_cloud)
    put_config(local_cloud, "cfg-p5", "m-v2", instance_type="ml.p5.48xlarge")
    scaling = local_cloud.client("application-autoscaling")
    target = {
        "ServiceNamespace": "sagemaker",
        "ResourceId": "endpoint/ep/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    }
    scaling.register_scalable_target(**target, MinCapacity=1, MaxCapacity=8)
    sm = local_cloud.client("sagemaker")
    with pytest.raises(ClientError, match="deregister the scalable target"):
        sm.update_endpoint(
            EndpointName="ep", EndpointConfigName="cfg-p5", DeploymentConfig=canary()
        )
    scaling.deregister_scalable_target(**target)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="cfg-p5", DeploymentConfig=canary())
    assert wait_endpoint(local_cloud)["EndpointConfigName"] == "cfg-p5"
