"""Prod's refusals where the pipeline builds what the stack cannot see (issue 15, items 3 and
9), on the local cloud: no Model or training job without network isolation unless the contract
carries the stack file's acknowledgement, and every audit record is written under Object Lock."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.errors import AuditWriteFailed, BadInput
from tests.pipeline.conftest import endpoint_spec, outputs_dict, prod_overrides


def _prod(
    make_stack: Any,
    *,
    acknowledged: list[str] | None = None,
    endpoint_isolation: bool = True,
    training_isolation: bool = True,
) -> Any:
    base = outputs_dict("prod")
    return make_stack(
        "prod",
        **prod_overrides(),
        acknowledged=acknowledged or [],
        endpoints=[endpoint_spec("prod", network_isolation=endpoint_isolation)],
        training={**base["training"], "network_isolation": training_isolation},
    )


def test_prod_refuses_a_model_without_network_isolation(make_stack: Any) -> None:
    """A hand-edited prod contract: the endpoint without isolation, no acknowledgement."""
    from pipelines.deploy import deploy

    stack = _prod(make_stack, endpoint_isolation=False)
    package = stack.approved_package()  # training keeps its isolation
    with pytest.raises(BadInput) as refused:
        deploy(stack.ctx, "churn", package)
    assert "endpoint 'churn': network_isolation is false, which prod refuses" in str(refused.value)
    assert "unsafe.network_access: true" in str(refused.value)
    assert stack.sm().list_models()["Models"] == []
    assert stack.audit()[-1].outcome == "refused"


def test_prod_refuses_training_without_network_isolation(make_stack: Any) -> None:
    stack = _prod(make_stack, training_isolation=False)
    with pytest.raises(BadInput) as refused:
        stack.train()
    assert "training: network_isolation is false, which prod refuses" in str(refused.value)
    assert stack.sm().list_training_jobs()["TrainingJobSummaries"] == []


def test_an_acknowledged_prod_contract_trains_without_isolation(make_stack: Any) -> None:
    stack = _prod(make_stack, acknowledged=["network_access"], training_isolation=False)
    job = stack.train()
    described = stack.sm().describe_training_job(TrainingJobName=job.job_name)
    assert described["EnableNetworkIsolation"] is False


def test_prod_audit_records_are_locked(make_stack: Any) -> None:
    stack = _prod(make_stack)
    stack.train()
    s3 = stack.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="mlops-stack-prod-audit")["Contents"]]
    assert keys
    for key in keys:
        head = s3.head_object(Bucket="mlops-stack-prod-audit", Key=key)
        assert head["ObjectLockMode"] == "COMPLIANCE"


def test_a_prod_pipeline_refuses_to_act_when_the_audit_bucket_is_not_locked(env: Any) -> None:
    from pipelines.aws import Aws
    from pipelines.context import make_context
    from pipelines.outputs import parse_outputs
    from tests.pipeline.conftest import provision

    raw = outputs_dict("prod", **prod_overrides())
    outputs = parse_outputs(raw, stack="prod", source="test")
    provision(env, outputs.model_copy(update={"audit_lock": None}))  # the bucket is not locked
    env.client("s3").create_bucket(
        Bucket="mlops-stack-prod-audit",
        CreateBucketConfiguration={"LocationConstraint": outputs.region},
    )
    with pytest.raises(AuditWriteFailed) as refused:
        make_context(outputs, aws=Aws(region=outputs.region, endpoint=env.endpoint_url))
    assert "has Object Lock off" in str(refused.value)


def test_a_prod_contract_without_an_audit_lock_is_refused() -> None:
    from pipelines.errors import ContractError
    from pipelines.outputs import parse_outputs

    raw = {**outputs_dict("prod", **prod_overrides()), "audit_lock": None}
    with pytest.raises(ContractError) as refused:
        parse_outputs(raw, stack="prod", source="outputs.json")
    assert "audit_lock: missing in a prod contract" in str(refused.value)
