"""deploy / rollback / cleanup against the local cloud (FAULTS 10-19)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pipelines.errors import (
    ArtifactMissing,
    NotApproved,
    RolledBack,
    RolloutNeedsOperator,
    UpdateInProgress,
    WaitTimedOut,
)


def _live(stack: Any, endpoint: str | None = None) -> dict[str, Any]:
    name = endpoint or stack.outputs.endpoints[0].endpoint_name
    return dict(stack.sm().describe_endpoint(EndpointName=name))


def _configs(stack: Any) -> list[str]:
    return sorted(
        c["EndpointConfigName"] for c in stack.sm().list_endpoint_configs()["EndpointConfigs"]
    )


def _models(stack: Any) -> list[str]:
    return sorted(m["ModelName"] for m in stack.sm().list_models()["Models"])


def _outcomes(stack: Any, action: str = "deploy") -> list[str]:
    return [r.outcome for r in stack.audit() if r.action == action]


@pytest.fixture
def live_stack(stack: Any) -> Any:
    """A stack whose endpoint is InService on package v1."""
    from pipelines.deploy import deploy

    stack.v1 = stack.approved_package(0.9)
    stack.first = deploy(stack.ctx, "churn", stack.v1)
    return stack


def test_absent_endpoint_is_created_with_the_serving_spec(live_stack: Any) -> None:
    stack, result = live_stack, live_stack.first
    spec = stack.outputs.endpoints[0]
    assert result.outcome == "created"
    d = _live(stack)
    assert d["EndpointStatus"] == "InService" and d["EndpointConfigName"] == result.config_name
    config = stack.sm().describe_endpoint_config(EndpointConfigName=result.config_name)
    variant = config["ProductionVariants"][0]
    assert variant["VariantName"] == "AllTraffic" and variant["InitialInstanceCount"] == 2
    assert spec.volume_kms_key_arn is None  # g5 has local NVMe storage: hardware-encrypted
    assert "KmsKeyId" not in config
    assert config["DataCaptureConfig"]["KmsKeyId"] == spec.data_capture.kms_key_arn
    model = stack.sm().describe_model(ModelName=variant["ModelName"])
    assert model["EnableNetworkIsolation"] is True
    assert model["ExecutionRoleArn"] == spec.execution_role_arn
    # The serving contract travels with the Model: the packed code, and the endpoint serves it.
    assert model["PrimaryContainer"]["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == (
        "/opt/ml/model/code"
    )
    answer = stack.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=spec.endpoint_name, Body=b"1,2\n3,4", ContentType="text/csv"
    )
    assert answer["Body"].read() == b"[0.9, 0.9]"
    tags = {
        t["Key"]: t["Value"] for t in stack.sm().list_tags(ResourceArn=d["EndpointArn"])["Tags"]
    }
    assert tags["mlops:stack"] == "test" and tags["mlops:model-package"] == stack.v1
    assert result.config_name.startswith(f"{spec.endpoint_name}-p1-")


def test_a_package_with_s3_code_is_refused_for_an_isolated_endpoint(stack: Any) -> None:
    """Under network isolation the container cannot download an S3 source tarball: refused
    before any call that changes anything (the endpoint would fail its health check)."""
    from pipelines.deploy import deploy
    from pipelines.errors import BadInput
    from pipelines.registry import register

    job = stack.train()
    package = register(stack.ctx, job.job_name, serving_form="s3").package
    assert package is not None
    with pytest.raises(BadInput, match="network isolation") as refused:
        deploy(stack.ctx, "churn", package.arn)
    assert "--serving-code packed" in str(refused.value)
    assert _models(stack) == [] and _configs(stack) == []
    assert _outcomes(stack) == ["refused"]


def test_a_failing_smoke_check_rolls_back_through_the_guarded_update(live_stack: Any) -> None:
    """The rollout itself succeeds (no alarm fires), but the new model cannot answer the sample
    payloads: back to the previous config through UpdateEndpoint, reported as rolled back."""
    from pipelines.smoke import deploy_checked
    from pipelines.traffic import Payload

    stack = live_stack
    broken = stack.approved_package(0.95, broken_inference="yes")
    payloads = [Payload(b"1,2", "text/csv"), Payload(b"3,4", "text/csv")]
    with pytest.raises(RolledBack, match="failed its smoke check") as rolled:
        deploy_checked(stack.ctx, "churn", broken, payloads)
    assert "2 of 2 smoke payloads failed" in str(rolled.value)
    assert "cannot predict" in str(rolled.value)
    assert _live(stack)["EndpointConfigName"] == stack.first.config_name
    assert [(r.action, r.outcome) for r in stack.audit()][-3:] == [
        ("deploy", "succeeded"),
        ("smoke", "failed"),
        ("rollback", "succeeded"),
    ]
    # and a good model passes it
    good = stack.approved_package(0.93)
    result = deploy_checked(stack.ctx, "churn", good, payloads)
    assert result.outcome == "deployed" and "smoke check passed (2 payloads)" in result.message
    assert stack.audit()[-1].action == "smoke" and stack.audit()[-1].outcome == "passed"


def test_canary_update_is_deployed_and_the_previous_config_kept(live_stack: Any) -> None:
    from pipelines.deploy import deploy

    stack = live_stack
    v2 = stack.approved_package(0.93)
    result = deploy(stack.ctx, "churn", v2)
    assert result.outcome == "deployed"
    assert result.previous_config == stack.first.config_name
    assert _live(stack)["EndpointConfigName"] == result.config_name
    assert stack.first.config_name in _configs(stack)
    assert result.watch is not None
    phases = [t["phase"] for t in result.watch.transitions]
    assert any("Baking" in p for p in phases) and any("ActivatingTraffic" in p for p in phases)
    assert _outcomes(stack) == ["succeeded", "succeeded"]


def test_same_package_again_is_a_no_op(live_stack: Any) -> None:
    from pipelines.deploy import deploy

    stack = live_stack
    before = _configs(stack)
    result = deploy(stack.ctx, "churn", stack.v1)
    assert result.outcome == "no_op" and "already live" in result.message
    assert _configs(stack) == before
    assert _outcomes(stack)[-1] == "no_op"


def test_not_approved_is_refused_before_any_endpoint_call(make_stack: Any) -> None:
    from pipelines.deploy import deploy
    from pipelines.registry import register

    stack = make_stack(quality_gate={})
    job = stack.train()
    registered = register(stack.ctx, job.job_name).package
    assert registered is not None
    pending = registered.arn
    calls: list[str] = []
    stack.ctx.aws.sagemaker.meta.events.register(
        "before-call.sagemaker.*", lambda model, **_: calls.append(model.name)
    )
    with pytest.raises(NotApproved) as err:
        deploy(stack.ctx, "churn", pending)
    assert err.value.exit_code == 2 and "PendingManualApproval" in str(err.value)
    assert not [c for c in calls if "Endpoint" in c or c == "CreateModel"], calls
    assert stack.sm().list_endpoints()["Endpoints"] == [] and _models(stack) == []


def test_missing_package_or_model_data_fails_before_touching_the_endpoint(live_stack: Any) -> None:
    from pipelines.deploy import deploy

    stack = live_stack
    with pytest.raises(ArtifactMissing, match="version 99 not found"):
        deploy(stack.ctx, "churn", "99")
    group_arn = stack.v1.rsplit("/", 1)[0]
    with pytest.raises(ArtifactMissing, match="does not exist"):
        deploy(stack.ctx, "churn", f"{group_arn}/42")
    v2 = stack.approved_package(0.92)
    url = stack.sm().describe_model_package(ModelPackageName=v2)["InferenceSpecification"][
        "Containers"
    ][0]["ModelDataUrl"]
    bucket, key = url[5:].split("/", 1)
    stack.client("s3").delete_object(Bucket=bucket, Key=key)
    before = _configs(stack)
    with pytest.raises(ArtifactMissing, match="model data") as err:
        deploy(stack.ctx, "churn", v2)
    assert err.value.exit_code == 2
    assert (
        _configs(stack) == before and _live(stack)["EndpointConfigName"] == stack.first.config_name
    )


def test_alarm_mid_bake_rolls_back_names_the_alarm_and_keeps_everything(live_stack: Any) -> None:
    from pipelines.console import Event
    from pipelines.deploy import deploy

    stack = live_stack
    spec = stack.outputs.endpoints[0]
    alarm = spec.rollback_alarm_names[0]
    cw = stack.client("cloudwatch")
    fired: list[str] = []

    def on_event(event: Event) -> None:
        if "Baking" in event.fields.get("phase", "") and not fired:
            cw.set_alarm_state(
                AlarmName=alarm, StateValue="ALARM", StateReason="5xx burst on canary"
            )
            fired.append(alarm)

    stack.ctx.emit = on_event
    v2 = stack.approved_package(0.94)
    configs_before, models_before = _configs(stack), _models(stack)
    with pytest.raises(RolledBack) as err:
        deploy(stack.ctx, "churn", v2)
    assert err.value.exit_code == 3
    assert alarm in str(err.value) and "5xx burst on canary" in str(err.value)
    assert _live(stack)["EndpointConfigName"] == stack.first.config_name
    assert set(configs_before) <= set(_configs(stack)) and set(models_before) <= set(_models(stack))
    record = stack.audit()[-1]
    assert (record.action, record.outcome, record.details["alarm"]) == (
        "deploy",
        "rolled_back",
        alarm,
    )


@pytest.mark.parametrize("fault", ["Failed", "UpdateRollbackFailed"])
def test_failed_update_needs_an_operator_and_deletes_nothing(live_stack: Any, fault: str) -> None:
    import json
    import urllib.request

    from pipelines.deploy import deploy

    stack = live_stack
    v2 = stack.approved_package(0.94)
    name = stack.outputs.endpoints[0].endpoint_name
    body = json.dumps({"endpoint": name, "outcome": fault, "region": stack.outputs.region}).encode()
    urllib.request.urlopen(f"{stack.cloud.endpoint_url}/_localcloud/faults", data=body).read()
    configs_before = _configs(stack)
    with pytest.raises(RolloutNeedsOperator) as err:
        deploy(stack.ctx, "churn", v2)
    assert (
        err.value.exit_code == 4
        and fault in str(err.value)
        and "a person must look" in str(err.value)
    )
    assert set(configs_before) <= set(_configs(stack))
    assert stack.audit()[-1].outcome == "needs_operator"
    # the broken endpoint refuses further deploys until someone looks
    with pytest.raises(RolloutNeedsOperator, match=fault):
        deploy(stack.ctx, "churn", stack.v1)


def test_two_concurrent_deploys_exactly_one_proceeds(make_stack: Any) -> None:
    from pipelines.deploy import deploy
    from tests.pipeline.conftest import endpoint_spec

    # long bakes: the second deploy always meets the first one's update in flight
    slow = {
        "strategy": "CANARY",
        "canary_size": {"type": "INSTANCE_COUNT", "value": 1},
        "wait_interval_seconds": 900,
        "max_execution_timeout_seconds": 3600,
    }
    stack = make_stack(endpoints=[endpoint_spec("test", deployment=slow)])
    deploy(stack.ctx, "churn", stack.approved_package(0.9))
    packages = [stack.approved_package(0.91), stack.approved_package(0.92)]
    barrier = threading.Barrier(2)
    results: dict[int, Any] = {}

    def run(i: int) -> None:
        ctx = stack.context()
        barrier.wait()
        try:
            results[i] = deploy(ctx, "churn", packages[i])
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    kinds = sorted(type(r).__name__ for r in results.values())
    assert kinds == ["DeployResult", "UpdateInProgress"], results
    winner = next(r for r in results.values() if not isinstance(r, Exception))
    loser = next(r for r in results.values() if isinstance(r, Exception))
    assert isinstance(loser, UpdateInProgress)
    assert loser.exit_code == 6 and "in progress" in str(loser)
    assert _live(stack)["EndpointConfigName"] == winner.config_name
    assert sorted(_outcomes(stack)[-2:]) == ["conflict", "succeeded"]


def test_busy_endpoint_is_refused_or_waited_for(live_stack: Any) -> None:
    from pipelines.deploy import deploy

    stack = live_stack
    name = stack.outputs.endpoints[0].endpoint_name
    v2 = stack.approved_package(0.95)
    slow = stack.outputs.endpoints[0].deployment_config()
    slow["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["WaitIntervalInSeconds"] = 1200
    slow["BlueGreenUpdatePolicy"]["MaximumExecutionTimeoutInSeconds"] = 7200
    stack.sm().update_endpoint(
        EndpointName=name, EndpointConfigName=stack.first.config_name, DeploymentConfig=slow
    )
    with pytest.raises(UpdateInProgress, match="Updating"):
        deploy(stack.ctx, "churn", v2)
    result = deploy(stack.ctx, "churn", v2, wait_if_busy_seconds=4000)
    assert result.outcome == "deployed"


def test_watch_timeout_says_where_the_endpoint_was_left(
    live_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines import deploy as deploy_mod
    from pipelines.watch import WatchPlan

    stack = live_stack
    monkeypatch.setattr(
        deploy_mod.WatchPlan,
        "for_update",
        classmethod(lambda cls, dc: WatchPlan(timeout_seconds=120)),
    )
    v2 = stack.approved_package(0.95)
    configs_before = _configs(stack)
    with pytest.raises(WaitTimedOut) as err:
        deploy_mod.deploy(stack.ctx, "churn", v2)
    text = str(err.value)
    assert err.value.exit_code == 5 and "Updating" in text and "mlops status" in text
    assert set(configs_before) <= set(_configs(stack))
    assert stack.audit()[-1].outcome == "timed_out"


def test_cleanup_keeps_live_previous_and_the_last_n(live_stack: Any) -> None:
    from pipelines.deploy import deploy

    stack = live_stack  # keep_endpoint_configs = 2
    deployed = [stack.first.config_name]
    for accuracy in (0.91, 0.92, 0.93):
        deployed.append(deploy(stack.ctx, "churn", stack.approved_package(accuracy)).config_name)
    remaining = _configs(stack)
    assert remaining == sorted(deployed[-2:]), (remaining, deployed)
    assert _models(stack) == sorted(deployed[-2:])
    cleaned = stack.audit()[-1].details["cleaned_up"]
    assert f"endpoint-config/{deployed[1]}" in cleaned


def test_rolled_back_deploy_cleans_nothing(live_stack: Any) -> None:
    from pipelines.deploy import deploy

    stack = live_stack
    stack.ctx.emit = lambda e: (
        stack.client("cloudwatch").set_alarm_state(
            AlarmName=stack.outputs.endpoints[0].rollback_alarm_names[1],
            StateValue="ALARM",
            StateReason="p99",
        )
        if "Baking" in e.fields.get("phase", "")
        else None
    )
    for accuracy in (0.91, 0.92):
        with pytest.raises(RolledBack):
            deploy(stack.ctx, "churn", stack.approved_package(accuracy))
    assert len(_configs(stack)) == 3 and stack.first.config_name in _configs(stack)


def test_manual_rollback_returns_to_the_previous_config(
    live_stack: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from pipelines.cli import main
    from pipelines.deploy import deploy, rollback

    stack = live_stack
    v2 = deploy(stack.ctx, "churn", stack.approved_package(0.93))
    result = rollback(stack.ctx, "churn")
    assert result.outcome == "rolled_back" and result.config_name == stack.first.config_name
    assert _live(stack)["EndpointConfigName"] == stack.first.config_name
    assert result.watch is not None
    assert any("Baking" in t["phase"] for t in result.watch.transitions), "not the guarded update"
    assert [(r.action, r.outcome) for r in stack.audit()][-1] == ("rollback", "succeeded")
    # and forward again, through the CLI: the previous config is now v2's
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(stack.outputs.model_dump(mode="json")))
    code = main(["rollback", "--stack", "test", "--outputs", str(path), "--json"])
    again = json.loads(capsys.readouterr().out)
    assert code == 0 and again["outcome"] == "rolled_back"
    assert again["config"] == v2.config_name == _live(stack)["EndpointConfigName"]


def test_autoscaling_registered_after_create_and_lifted_around_instance_type_change(
    make_stack: Any,
) -> None:
    from pipelines.deploy import deploy
    from tests.pipeline.conftest import endpoint_spec

    auto = {"min_instances": 2, "max_instances": 4, "target_invocations_per_instance": 50}
    stack = make_stack(endpoints=[endpoint_spec("test", autoscaling=auto)])
    aas = stack.client("application-autoscaling")
    deploy(stack.ctx, "churn", stack.approved_package(0.9))
    targets = aas.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [
        (f"endpoint/{stack.outputs.endpoints[0].endpoint_name}/variant/AllTraffic", 2, 4)
    ]
    calls: list[dict[str, Any]] = []
    stack.ctx.aws.sagemaker.meta.events.register(
        "provide-client-params.sagemaker.UpdateEndpoint",
        lambda params, **_: calls.append(dict(params)),
    )
    deploy(stack.ctx, "churn", stack.approved_package(0.91))  # model only
    assert calls[-1]["RetainAllVariantProperties"] is True
    # the stack changes the instance type: AWS (and the local cloud) refuse unless scaling is lifted
    from pipelines.aws import Aws
    from pipelines.context import make_context

    spec = endpoint_spec("test", autoscaling=auto, instance_type="ml.g5.2xlarge")
    outputs = stack.outputs.model_copy(
        update={"endpoints": [type(stack.outputs.endpoints[0]).model_validate(spec)]}
    )
    ctx = make_context(outputs, aws=Aws(region=outputs.region, endpoint=stack.cloud.endpoint_url))
    ctx.aws.sagemaker.meta.events.register(
        "provide-client-params.sagemaker.UpdateEndpoint",
        lambda params, **_: calls.append(dict(params)),
    )
    result = deploy(ctx, "churn", stack.approved_package(0.92))
    assert result.outcome == "deployed"
    assert "RetainAllVariantProperties" not in calls[-1]
    assert calls[-1]["EndpointConfigName"] == result.config_name
    targets = aas.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert len(targets) == 1, "autoscaling re-registered after the update"
    config = stack.sm().describe_endpoint_config(EndpointConfigName=result.config_name)
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.g5.2xlarge"
    # rolling back to the ml.g5.xlarge config changes the instance type again: lifted again
    from pipelines.deploy import rollback

    back = rollback(ctx, "churn")
    assert back.outcome == "rolled_back" and back.config_name == result.previous_config
    assert len(aas.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]) == 1


def test_linear_rollout_on_an_ebs_instance_sets_the_volume_kms_key(make_stack: Any) -> None:
    from pipelines.deploy import deploy
    from tests.pipeline.conftest import endpoint_spec

    linear = {
        "strategy": "LINEAR",
        "linear_step": {"type": "CAPACITY_PERCENT", "value": 50},
        "wait_interval_seconds": 120,
        "max_execution_timeout_seconds": 1200,
    }
    spec = endpoint_spec("test", instance_type="ml.p3.2xlarge", deployment=linear)
    stack = make_stack(endpoints=[spec])
    deploy(stack.ctx, "churn", stack.approved_package(0.9))
    result = deploy(stack.ctx, "churn", stack.approved_package(0.91))
    assert result.outcome == "deployed"
    config = stack.sm().describe_endpoint_config(EndpointConfigName=result.config_name)
    assert config["KmsKeyId"] == stack.outputs.endpoints[0].kms_key_arn
    assert result.watch is not None
    bakes = [t for t in result.watch.transitions if "Baking" in t["phase"]]
    assert len(bakes) == 2, result.watch.transitions


def test_serverless_endpoint_has_no_kms_capture_or_deployment_config(make_stack: Any) -> None:
    from pipelines.deploy import deploy
    from tests.pipeline.conftest import endpoint_spec

    spec = endpoint_spec(
        "test",
        instance_type="ml.m5.large",
        gpu=False,
        serverless={"memory_size_mib": 2048, "max_concurrency": 5},
        data_capture=None,
        deployment={"strategy": "ALL_AT_ONCE"},
    )
    stack = make_stack(endpoints=[spec])
    calls: list[dict[str, Any]] = []
    stack.ctx.aws.sagemaker.meta.events.register(
        "provide-client-params.sagemaker.UpdateEndpoint",
        lambda params, **_: calls.append(dict(params)),
    )
    created = deploy(stack.ctx, "churn", stack.approved_package(0.9))
    config = stack.sm().describe_endpoint_config(EndpointConfigName=created.config_name)
    variant = config["ProductionVariants"][0]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    assert "KmsKeyId" not in config and "InstanceType" not in variant
    updated = deploy(stack.ctx, "churn", stack.approved_package(0.91))
    assert updated.outcome == "deployed"
    assert "DeploymentConfig" not in calls[-1]


def test_cli_exit_code_3_on_rollback(
    live_stack: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from pipelines.cli import main

    stack = live_stack
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(stack.outputs.model_dump(mode="json")))
    v2 = stack.approved_package(0.93)
    alarm = stack.outputs.endpoints[0].rollback_alarm_names[0]
    stack.client("cloudwatch").set_alarm_state(
        AlarmName=alarm, StateValue="ALARM", StateReason="already burning"
    )
    code = main(["deploy", "--stack", "test", "--outputs", str(path), "--package", v2, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 3 and out["error"] == "RolledBack" and alarm in out["message"]


def test_cleanup_finds_configs_by_tag_when_the_name_was_cut(make_stack: Any) -> None:
    from pipelines.deploy import deploy
    from tests.pipeline.conftest import endpoint_spec

    long_name = "mlops-stack-test-a-rather-long-endpoint-name-x"
    stack = make_stack(endpoints=[endpoint_spec("test", endpoint_name=long_name)])
    configs: list[str] = []
    for accuracy in (0.9, 0.91, 0.92):
        config = deploy(stack.ctx, "churn", stack.approved_package(accuracy)).config_name
        assert config is not None
        configs.append(config)
    assert all(len(c) <= 63 and not c.startswith(long_name) for c in configs)
    assert _configs(stack) == sorted(configs[-2:])


def test_cleanup_waits_out_the_termination_wait(stack: Any) -> None:
    from pipelines.clock import FakeClock
    from pipelines.deploy import _await_termination_wait
    from pipelines.watch import Verdict, WatchResult

    spec = stack.outputs.endpoints[0]  # termination_wait_seconds = 60
    stack.ctx.clock = FakeClock(t=1000.0)
    done = WatchResult(Verdict.DEPLOYED, spec.endpoint_name, "new", "old", "InService", "new")
    _await_termination_wait(stack.ctx, spec, started=980.0, result=done)
    assert stack.ctx.clock.slept == [40.0]
    _await_termination_wait(stack.ctx, spec, started=900.0, result=done)
    assert stack.ctx.clock.slept == [40.0], "already past the termination wait: no sleep"


def test_scale_to_zero_is_refused_loudly(make_stack: Any) -> None:
    from pipelines.deploy import deploy
    from pipelines.errors import BadInput
    from tests.pipeline.conftest import endpoint_spec

    stack = make_stack(endpoints=[endpoint_spec("test", scale_to_zero=True)])
    with pytest.raises(BadInput, match="inference components"):
        deploy(stack.ctx, "churn", "latest")
    assert stack.sm().list_endpoints()["Endpoints"] == []
    assert stack.audit()[-1].outcome == "refused"
