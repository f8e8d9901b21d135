"""The `mlops` lifecycle commands end to end (exit codes, --json), promote, status, teardown,
audit, the outputs contract (FAULTS 20) and retries (FAULTS 16)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.pipeline.conftest import IMAGE, TRAINER, outputs_dict


def mlops(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    from pipelines.cli import main

    code = main(list(argv))
    out = capsys.readouterr().out
    try:
        return code, json.loads(out)
    except json.JSONDecodeError:
        return code, out


def write_outputs(stack: Any, tmp_path: Path) -> str:
    path = tmp_path / f"outputs-{stack.outputs.stack}.json"
    path.write_text(json.dumps(stack.outputs.model_dump(mode="json")))
    return str(path)


def test_lifecycle_through_the_cli(
    stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--stack", "test", "--outputs", write_outputs(stack, tmp_path), "--json"]
    code, trained = mlops(
        capsys,
        "train",
        *common,
        "--image",
        IMAGE,
        "--source-dir",
        str(TRAINER),
        "--entry-point",
        "train.py",
        "--hyperparameter",
        "accuracy=0.92",
        "--channel",
        f"train=s3://{stack.outputs.buckets.data}/churn/train/",
        "--metric",
        r"validation:accuracy=validation:accuracy=([0-9.]+)",
    )
    assert code == 0 and trained["status"] == "Completed"
    assert trained["metrics"]["validation:accuracy"] == pytest.approx(0.92)
    code, registered = mlops(capsys, "register", *common, "--training-job", trained["training_job"])
    assert code == 0 and registered["approval_status"] == "Approved"
    arn = registered["model_package_arn"]
    code, rejected = mlops(capsys, "reject", *common, "--package", arn, "--reason", "hold")
    assert code == 0 and rejected["approval_status"] == "Rejected"
    code, refused = mlops(capsys, "deploy", *common, "--package", arn)
    assert code == 2 and refused["error"] == "NotApproved"
    code, approved = mlops(capsys, "approve", *common, "--package", "latest")
    assert code == 0 and approved["approval_status"] == "Approved"
    code, deployed = mlops(capsys, "deploy", *common, "--package", arn)
    assert code == 0 and deployed["outcome"] == "created"
    code, again = mlops(capsys, "deploy", *common, "--package", arn)
    assert code == 0 and again["outcome"] == "no_op"
    code, status = mlops(capsys, "status", *common)
    assert code == 0
    [row] = status["endpoints"]
    assert row["status"] == "InService" and row["model_package_arn"] == arn
    assert row["live_config"] == deployed["config"] and row["last_rollout"] == "created"
    assert (row["last_action"]["action"], row["last_action"]["outcome"]) == ("deploy", "no_op")
    code, audit = mlops(capsys, "audit", *common)
    assert [(r["action"], r["outcome"]) for r in audit["records"]] == [
        ("train", "succeeded"),
        ("register", "succeeded"),
        ("reject", "succeeded"),
        ("deploy", "refused"),
        ("approve", "succeeded"),
        ("deploy", "succeeded"),
        ("deploy", "no_op"),
    ]
    record = audit["records"][0]
    assert record["who"].endswith("(tester)") and record["git_commit"]
    assert record["inputs"]["image"] == IMAGE
    code, _ = mlops(
        capsys, "teardown", "--stack", "test", "--outputs", write_outputs(stack, tmp_path)
    )
    assert code == 2
    code, torn = mlops(capsys, "teardown", *common, "--yes")
    assert code == 0
    name = stack.outputs.endpoints[0].endpoint_name
    assert (
        f"endpoint/{name}" in torn["deleted"]
        and f"endpoint-config/{deployed['config']}" in torn["deleted"]
    )
    assert (
        stack.sm().list_endpoints()["Endpoints"] == [] and stack.sm().list_models()["Models"] == []
    )
    assert (
        len(
            stack.sm().list_model_packages(
                ModelPackageGroupName=stack.outputs.model_package_group_name
            )["ModelPackageSummaryList"]
        )
        == 1
    ), "packages are kept without --include-packages"


def test_audit_records_are_never_overwritten(stack: Any) -> None:
    first = stack.ctx.audit.record("approve", "succeeded", {"x": 1})
    s3 = stack.client("s3")
    key = f"{stack.ctx.audit.prefix}{first.id}.json"
    with pytest.raises(Exception, match=r"PreconditionFailed|pre-conditions"):
        s3.put_object(Bucket=stack.ctx.audit.bucket, Key=key, Body=b"{}", IfNoneMatch="*")
    second = stack.ctx.audit.record("approve", "failed", {"x": 2})
    assert [r.id for r in stack.audit()] == [first.id, second.id]


def test_status_reads_the_audit_trail_from_its_end_only_as_far_as_needed(stack: Any) -> None:
    from pipelines.inventory import _last_rollout_actions

    endpoint = stack.outputs.endpoints[0].endpoint_name
    stack.ctx.audit.record("deploy", "succeeded", {"endpoint": endpoint})
    for i in range(5):
        stack.ctx.audit.record("train", "succeeded", {"n": i})
    stack.ctx.audit.record("rollback", "rolled_back", {"endpoint": endpoint})
    stack.ctx.audit.record("approve", "succeeded", {})
    reads: list[str] = []
    original = stack.ctx.audit._read

    def counting(key: str) -> Any:
        reads.append(key)
        return original(key)

    stack.ctx.audit._read = counting
    found = _last_rollout_actions(stack.ctx, {endpoint})
    assert (found[endpoint].action, found[endpoint].outcome) == ("rollback", "rolled_back")
    assert len(reads) == 2  # the newest record, then the rollback: nothing older


def test_teardown_leaves_what_the_pipeline_did_not_create(stack: Any) -> None:
    from pipelines.deploy import deploy
    from pipelines.inventory import teardown

    stack.sm().create_model(
        ModelName="someone-elses",
        ExecutionRoleArn=stack.outputs.sagemaker_execution_role_arn,
        PrimaryContainer={"Image": IMAGE},
    )
    deploy(stack.ctx, "churn", stack.approved_package())
    deleted = teardown(stack.ctx, include_packages=True)
    assert any(d.startswith("model-package/") for d in deleted)
    assert [m["ModelName"] for m in stack.sm().list_models()["Models"]] == ["someone-elses"]
    assert stack.audit()[-1].action == "teardown"


def test_promote_copies_an_approved_package_with_its_lineage(make_stack: Any) -> None:
    from pipelines.registry import describe_package, promote, register

    staging = make_stack("staging")
    prod = make_stack("prod")
    job = staging.train(0.93)
    registered = register(staging.ctx, job.job_name, content_types=["application/x-npy"])
    assert registered.package is not None and registered.approval_status == "Approved"
    arn = registered.package.arn
    source = describe_package(staging.ctx, arn)
    assert source.content_types == ["application/x-npy"]
    promoted = promote(staging.ctx, prod.ctx, arn)
    assert promoted.status == "PendingManualApproval"
    assert promoted.group == prod.outputs.model_package_group_name
    assert promoted.model_data_url is not None
    assert promoted.model_data_url.startswith(
        f"s3://{prod.outputs.buckets.model}/promoted/staging/"
    )
    assert promoted.metadata["mlops:git-commit"] == source.metadata["mlops:git-commit"]
    assert promoted.metadata["mlops:promoted-from"] == arn
    assert promoted.metrics == source.metrics
    assert promoted.content_types == source.content_types
    bucket, key = promoted.model_data_url[5:].split("/", 1)
    assert prod.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    assert (prod.audit()[-1].action, prod.audit()[-1].outcome) == ("promote", "succeeded")
    assert staging.audit()[-1].details["promoted_to"] == promoted.arn


def test_promote_succeeds_when_only_the_source_audit_refuses_the_record(
    make_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cross-account credentials may not write the source's audit trail: the target's record
    (written first) stands, the promotion succeeds and the gap is reported as a warning."""
    from pipelines.errors import AuditWriteFailed
    from pipelines.registry import promote

    staging, prod = make_stack("staging"), make_stack("prod")
    arn = staging.approved_package(0.93)
    before = len(staging.audit())

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AuditWriteFailed("AccessDenied")

    events: list[Any] = []
    monkeypatch.setattr(staging.ctx.audit, "record", refuse)
    monkeypatch.setattr(prod.ctx, "emit", events.append)
    promoted = promote(staging.ctx, prod.ctx, arn)
    assert promoted.status == "PendingManualApproval"
    assert (prod.audit()[-1].action, prod.audit()[-1].outcome) == ("promote", "succeeded")
    assert len(staging.audit()) == before
    [warning] = [e for e in events if e.kind == "audit.warning"]
    assert "staging's refused it" in warning.message


def test_promote_refuses_a_package_that_is_not_approved(make_stack: Any) -> None:
    from pipelines.errors import NotApproved
    from pipelines.registry import promote, set_approval

    staging, prod = make_stack("staging"), make_stack("prod")
    arn = staging.approved_package()
    set_approval(staging.ctx, arn, "Rejected")
    with pytest.raises(NotApproved):
        promote(staging.ctx, prod.ctx, arn)


# ------------------------------------------------------------------ outputs contract (FAULTS 20)


def _write(tmp_path: Path, raw: Any) -> str:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(raw))
    return str(path)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r | {"stack": "prod"}, "from stack 'prod', not 'test'"),
        (lambda r: r | {"contract_version": 99}, "contract_version 99"),
        (
            lambda r: {k: v for k, v in r.items() if k != "contract_version"},
            "missing 'contract_version'",
        ),
        (
            lambda r: {k: v for k, v in r.items() if k != "model_package_group_name"},
            "model_package_group_name: required output is missing",
        ),
        (
            lambda r: r | {"training": {**r["training"], "instance_count": "two"}},
            "training.instance_count",
        ),
    ],
)
def test_outputs_of_another_stack_or_version_or_incomplete_are_refused(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Any, message: str
) -> None:
    path = _write(tmp_path, mutate(outputs_dict("test")))
    code, out = mlops(capsys, "status", "--stack", "test", "--outputs", path, "--json")
    assert code == 2 and out["error"] == "ContractError"
    assert message in out["message"]


def test_outputs_sources(env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.errors import ContractError
    from pipelines.outputs import load_outputs, local_outputs_path

    with pytest.raises(ContractError, match="does not exist; materialise"):
        load_outputs("test")
    local = local_outputs_path("test")
    local.parent.mkdir(parents=True)
    local.write_text(json.dumps(outputs_dict("test")))
    assert load_outputs("test").stack == "test"
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ContractError, match="pulumi CLI is not installed; pass --outputs FILE"):
        load_outputs("test")
    with pytest.raises(ContractError, match="file not found"):
        load_outputs("test", str(tmp_path / "nope.json"))


# ------------------------------------------------------------------ clock


def test_clock_follows_the_local_cloud(env: Any) -> None:
    from pipelines.clock import RealClock, ScaledClock, clock_for

    clock = clock_for(env.endpoint_url)
    assert isinstance(clock, ScaledClock) and clock.speed == env.clock.speed
    assert abs(clock.now() - env.clock.now()) < env.clock.speed  # within one real second
    assert isinstance(clock_for(None), RealClock)
    assert isinstance(clock_for("https://sagemaker.eu-west-1.amazonaws.com"), RealClock)


# ------------------------------------------------------------------ retries (FAULTS 16)


class _Throttler(BaseHTTPRequestHandler):
    calls = 0

    def do_POST(self) -> None:
        type(self).calls += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_throttling_is_retried_within_the_standard_budget_then_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipelines.aws import Aws, aws_call
    from pipelines.errors import AwsCallFailed

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        aws = Aws(
            region="eu-west-1", endpoint=f"http://127.0.0.1:{server.server_port}", max_attempts=2
        )
        assert aws.sagemaker.meta.config.retries["mode"] == "standard"  # type: ignore[attr-defined]
        with pytest.raises(AwsCallFailed) as err, aws_call("DescribeEndpoint churn"):
            aws.sagemaker.describe_endpoint(EndpointName="churn")
    finally:
        server.shutdown()
    assert _Throttler.calls == 2, "one call + one retry (max_attempts=2)"
    assert "ThrottlingException" in str(err.value) and "retry budget" in str(err.value)


def _inject(stack: Any, **error: Any) -> None:
    import urllib.request

    body = json.dumps(error).encode()
    urllib.request.urlopen(f"{stack.cloud.endpoint_url}/_localcloud/errors", data=body).read()


def test_transient_throttling_and_5xx_are_retried_transparently(stack: Any) -> None:
    from pipelines.deploy import deploy

    first = deploy(stack.ctx, "churn", stack.approved_package(0.9))
    _inject(stack, service="sagemaker", operation="UpdateEndpoint", code="ThrottlingException")
    _inject(
        stack,
        service="sagemaker",
        operation="DescribeEndpoint",
        code="ServiceUnavailable",
        status=503,
    )
    result = deploy(stack.ctx, "churn", stack.approved_package(0.91))
    assert result.outcome == "deployed" and result.previous_config == first.config_name
    assert [r.outcome for r in stack.audit() if r.action == "deploy"] == ["succeeded", "succeeded"]


def test_throttling_past_the_budget_fails_before_any_change(stack: Any) -> None:
    from pipelines.deploy import deploy
    from pipelines.errors import AwsCallFailed

    first = deploy(stack.ctx, "churn", stack.approved_package(0.9))
    stack.ctx.aws.max_attempts = 1  # no retry left: the first throttle is past the budget
    stack.ctx.aws._clients.clear()
    _inject(stack, service="sagemaker", operation="UpdateEndpoint", code="ThrottlingException")
    with pytest.raises(AwsCallFailed, match=r"ThrottlingException.*retry budget"):
        deploy(stack.ctx, "churn", stack.approved_package(0.91))
    name = stack.outputs.endpoints[0].endpoint_name
    assert (
        stack.sm().describe_endpoint(EndpointName=name)["EndpointConfigName"] == first.config_name
    )
    assert stack.audit()[-1].outcome == "failed"


def test_promote_through_the_cli(
    make_stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staging, prod = make_stack("staging"), make_stack("prod")
    arn = staging.approved_package(0.93)
    code, out = mlops(
        capsys,
        "promote",
        "--from",
        "staging",
        "--to",
        "prod",
        "--package",
        arn,
        "--json",
        "--from-outputs",
        write_outputs(staging, tmp_path),
        "--to-outputs",
        write_outputs(prod, tmp_path),
    )
    assert code == 0 and out["approval_status"] == "PendingManualApproval"
    assert out["group"] == prod.outputs.model_package_group_name
    code, out = mlops(
        capsys, "promote", "--from", "prod", "--to", "prod", "--package", arn, "--json"
    )
    assert code == 2 and "two stacks" in out["message"]


def test_invoke_and_traffic_through_the_cli(
    stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipelines.deploy import deploy

    deploy(stack.ctx, "churn", stack.approved_package(0.9))
    target = ["--endpoint", "churn", "--stack", "test", "--outputs", write_outputs(stack, tmp_path)]
    code, answer = mlops(capsys, "invoke", *target, "--body", "1,2\n3,4", "--json")
    assert code == 0
    assert answer == {
        "status": 200,
        "variant": "AllTraffic",
        "content_type": "application/json",
        "body": "[0.9, 0.9]",
    }
    code, text = mlops(capsys, "invoke", *target, "--body", "1,2")
    assert code == 0 and text.startswith("[0.9]") and "variant AllTraffic" in text
    payloads = tmp_path / "payloads.csv"
    payloads.write_text("1,2\n3,4\n\n5,6\n")
    code, summary = mlops(
        capsys,
        "traffic",
        *target,
        "--payloads",
        str(payloads),
        "--rate",
        "2",
        "--duration",
        "10",
        "--json",
    )
    assert code == 0
    assert summary["requests"] == 20 and summary["errors"] == {}
    assert summary["variants"] == {"AllTraffic": 20}
    assert set(summary["latency_ms"]) == {"p50", "p90", "p99"} and summary["latency_ms"]["p99"] > 0
    # bad input: argparse's usage error (exit 2) with the flag named, nothing sent
    from pipelines.cli import main

    with pytest.raises(SystemExit) as refused:
        main(["traffic", *target, "--payloads", str(payloads), "--rate", "0", "--duration", "5"])
    assert refused.value.code == 2 and "argument --rate: '0'" in capsys.readouterr().err

    code = main(["invoke", "--endpoint", "nope", "--region", stack.outputs.region, "--body", "1"])
    assert code == 2  # ValidationException: the endpoint does not exist
    assert "Endpoint nope of account" in capsys.readouterr().err
