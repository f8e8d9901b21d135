"""Bad input at the CLI's edge (issue 15 items 8, 11, 12): an ``--outputs`` file that is not
stack outputs, outputs naming another account's, region's or bucket's resources, and numeric or
instance-type flags out of range. Each exits 2 naming the flag or field, the value and what is
allowed, before any AWS call, and never with a traceback. None of these needs the local cloud:
each is refused before a client is made."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.pipeline.conftest import ACCOUNT, IMAGE, REGION, TRAINER, outputs_dict

OTHER_ACCOUNT = "210987654321"


def status(capsys: pytest.CaptureFixture[str], outputs: Path) -> tuple[int, str]:
    """``mlops status --outputs FILE`` in process: the exit code and stderr."""
    from pipelines.cli import main

    code = main(["status", "--stack", "test", "--outputs", str(outputs)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def refused_flag(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """argparse's usage error for ``argv``: exit 2; its stderr."""
    from pipelines.cli import main

    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "Traceback" not in err
    return err


# ------------------------------------------------------------------ --outputs files (item 11)


def _directory(tmp: Path) -> Path:
    (tmp / "outputs.json").mkdir()
    return tmp / "outputs.json"


def _write(data: bytes) -> Callable[[Path], Path]:
    def write(tmp: Path) -> Path:
        (tmp / "outputs.json").write_bytes(data)
        return tmp / "outputs.json"

    return write


def _huge(tmp: Path) -> Path:
    path = tmp / "outputs.json"
    with path.open("wb") as f:
        f.write(b'{"pad": "' + b"x" * (10 * 1024 * 1024) + b'"}')
    return path


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_directory, "is a directory; expected a JSON file"),
        (_write(bytes(range(256)) * 4), "not UTF-8 text (byte b'\\x80' at offset 128)"),
        (_write("{}".encode("utf-16")), "not UTF-8 text"),
        (_write(b"[" * 100_000), "nested deeper than 20 levels"),
        (_write(b'{"a": ' * 50 + b"1" + b"}" * 50), "nested deeper than 20 levels"),
        (_write(b"contract_version: 1\n"), "not valid JSON (Expecting value at line 1, column 1)"),
        (_write(b'{"contract_version": NaN}'), "NaN is not a JSON number"),
        (
            _write(b"[1, 2]"),
            "must be a JSON object (as `pulumi stack output --json` prints), got an array",
        ),
        (_write(b'"outputs"'), "got a string"),
        (_huge, "larger than 10 MB"),
        (lambda tmp: tmp / "nope.json", "file not found"),
    ],
)
def test_an_outputs_file_that_is_not_stack_outputs_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make: Any, says: str
) -> None:
    path = make(tmp_path)
    code, err = status(capsys, path)
    assert code == 2
    assert f"--outputs '{path}': " in err and says in err


def test_missing_fields_are_listed_each_by_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    raw = outputs_dict("test")
    del raw["kms_key_arn"], raw["training"]["output_s3_uri"]
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(raw))
    code, err = status(capsys, path)
    assert code == 2
    assert "  - kms_key_arn: required output is missing" in err
    assert "  - training.output_s3_uri: required output is missing" in err


@pytest.mark.parametrize(
    "content",
    [b"[" * 100_000, bytes(range(256)), json.dumps(outputs_dict(region="us-east-1; rm -rf /"))],
    ids=["nesting", "binary", "region"],
)
def test_the_real_entry_point_exits_2_without_a_traceback(tmp_path: Path, content: Any) -> None:
    path = tmp_path / "outputs.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    for target in (path, tmp_path):  # the file, and a directory
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pipelines.cli",
                "status",
                "--stack",
                "test",
                "--outputs",
                str(target),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and proc.stderr.startswith(
            f"error: --outputs '{target}'"
        )


# ------------------------------------------------------------------ the contract's own resources (item 8)


def _endpoint(raw: dict[str, Any], **changes: Any) -> dict[str, Any]:
    [spec] = raw["endpoints"]
    return raw | {"endpoints": [spec | changes]}


def _capture(raw: dict[str, Any], **changes: Any) -> dict[str, Any]:
    [spec] = raw["endpoints"]
    return _endpoint(raw, data_capture=spec["data_capture"] | changes)


def _deployment(raw: dict[str, Any], **changes: Any) -> dict[str, Any]:
    [spec] = raw["endpoints"]
    return _endpoint(raw, deployment=spec["deployment"] | changes)


def _training(raw: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return raw | {"training": raw["training"] | changes}


FOREIGN_KEY = f"arn:aws:kms:{REGION}:{OTHER_ACCOUNT}:key/theirs"
MODEL_BUCKET = "mlops-stack-test-model"


@pytest.mark.parametrize(
    ("mutate", "says"),
    [
        (
            lambda r: r | {"region": "us-east-1; rm -rf /"},
            "region: 'us-east-1; rm -rf /' is not an AWS region name",
        ),
        (lambda r: r | {"region": "eu-west-9"}, "region: 'eu-west-9' is not a region of any AWS"),
        (lambda r: r | {"account_id": "12345"}, "account_id: String should match pattern"),
        (
            lambda r: r | {"kms_key_arn": FOREIGN_KEY},
            f"kms_key_arn: '{FOREIGN_KEY}' is in account '{OTHER_ACCOUNT}', not the stack's "
            f"account_id '{ACCOUNT}'; allowed: arn:aws:kms:{REGION}:{ACCOUNT}:key/...",
        ),
        (
            lambda r: r | {"kms_key_arn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k"},
            "kms_key_arn: 'arn:aws:kms:us-east-1:123456789012:key/k' is in region 'us-east-1', "
            "not the stack's region 'eu-west-1'",
        ),
        (
            lambda r: r | {"kms_key_arn": "alias/aws/s3"},
            "kms_key_arn: 'alias/aws/s3' is not an ARN",
        ),
        (
            lambda r: (
                r | {"sagemaker_execution_role_arn": f"arn:aws:iam::{OTHER_ACCOUNT}:role/admin"}
            ),
            f"sagemaker_execution_role_arn: 'arn:aws:iam::{OTHER_ACCOUNT}:role/admin' is in "
            f"account '{OTHER_ACCOUNT}', not the stack's account_id '{ACCOUNT}'; allowed: "
            f"arn:aws:iam::{ACCOUNT}:role/...",
        ),
        (
            lambda r: r | {"sagemaker_execution_role_arn": f"arn:aws:iam::{ACCOUNT}:user/me"},
            "sagemaker_execution_role_arn: 'arn:aws:iam::123456789012:user/me' names 'user/me', "
            "not a role",
        ),
        (
            lambda r: (
                r | {"ecr_repository_url": f"{OTHER_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/x"}
            ),
            f"ecr_repository_url: '{OTHER_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/x' is in account",
        ),
        (
            lambda r: r | {"alerts_topic_arn": f"arn:aws:sns:us-west-2:{ACCOUNT}:alerts"},
            "alerts_topic_arn: 'arn:aws:sns:us-west-2:123456789012:alerts' is in region 'us-west-2'",
        ),
        (
            lambda r: r | {"audit_s3_uri": "s3://somebody-elses-bucket/audit/"},
            "audit_s3_uri: 's3://somebody-elses-bucket/audit/' is not in the stack's model bucket "
            f"(buckets.model); allowed: s3://{MODEL_BUCKET}/...",
        ),
        (
            lambda r: (
                r
                | {
                    "buckets": {**r["buckets"], "audit": "mlops-stack-test-audit"},
                    "audit_s3_uri": f"s3://{MODEL_BUCKET}/audit/",
                }
            ),
            f"audit_s3_uri: 's3://{MODEL_BUCKET}/audit/' is not in the stack's audit bucket "
            "(buckets.audit); allowed: s3://mlops-stack-test-audit/...",
        ),
        (
            lambda r: r | {"kms_key_arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:topic"},
            "kms_key_arn: 'arn:aws:sns:eu-west-1:123456789012:topic' is a 'sns' ARN, not a kms one",
        ),
        (
            lambda r: _training(r, output_s3_uri="s3://somebody-elses-bucket/training/"),
            "training.output_s3_uri: 's3://somebody-elses-bucket/training/' is not in the "
            f"stack's model bucket (buckets.model); allowed: s3://{MODEL_BUCKET}/...",
        ),
        (
            lambda r: _training(r, checkpoint_s3_uri=f"https://{MODEL_BUCKET}/checkpoints/"),
            "training.checkpoint_s3_uri: 'https://mlops-stack-test-model/checkpoints/' is not an "
            "s3:// URI",
        ),
        (
            lambda r: _training(r, instance_type="ml.bogus.xlarge"),
            "training.instance_type: 'ml.bogus.xlarge' is not a SageMaker ML instance type; "
            "allowed: a SageMaker ML GPU instance",
        ),
        (
            lambda r: _training(r, max_runtime_seconds=-1),
            "training.max_runtime_seconds: Input should be greater than or equal to 1 (got -1)",
        ),
        (
            lambda r: _endpoint(r, kms_key_arn=FOREIGN_KEY),
            f"endpoints.0.kms_key_arn: '{FOREIGN_KEY}' is in account '{OTHER_ACCOUNT}'",
        ),
        (
            lambda r: _endpoint(r, execution_role_arn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/x"),
            f"endpoints.0.execution_role_arn: 'arn:aws:iam::{OTHER_ACCOUNT}:role/x' is in account",
        ),
        (
            lambda r: _capture(r, kms_key_arn=FOREIGN_KEY),
            "endpoints.0.data_capture.kms_key_arn:",
        ),
        (
            lambda r: _capture(r, destination_s3_uri=f"s3://{MODEL_BUCKET}/churn/"),
            "endpoints.0.data_capture.destination_s3_uri: 's3://mlops-stack-test-model/churn/' "
            "is not in the stack's capture bucket (buckets.capture)",
        ),
        (
            lambda r: _capture(r, sampling_percent=101),
            "endpoints.0.data_capture.sampling_percent: Input should be less than or equal to 100",
        ),
        (
            lambda r: _deployment(r, wait_interval_seconds=-300),
            "endpoints.0.deployment.wait_interval_seconds: Input should be greater than or equal "
            "to 0 (got -300)",
        ),
        (
            lambda r: _deployment(r, termination_wait_seconds=-1),
            "endpoints.0.deployment.termination_wait_seconds: Input should be greater than or "
            "equal to 0 (got -1)",
        ),
        (
            lambda r: _deployment(r, max_execution_timeout_seconds=10**9),
            "endpoints.0.deployment.max_execution_timeout_seconds: Input should be less than or "
            "equal to 28800",
        ),
        (
            lambda r: r | {"keep_endpoint_configs": 0},
            "keep_endpoint_configs: Input should be greater than or equal to 1 (got 0)",
        ),
        (
            lambda r: r | {"stack": "x" * 10_000},
            "from stack 'xxxxxxxx",
        ),
    ],
)
def test_outputs_naming_what_is_not_the_stack_s_own_exit_2_naming_the_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, mutate: Any, says: str
) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(mutate(outputs_dict("test"))))
    code, err = status(capsys, path)
    assert code == 2
    assert says in err
    assert len(err) < 2000, "values are cut at 200 characters"


def test_every_foreign_reference_is_listed_at_once(tmp_path: Path) -> None:
    from pipelines.errors import ContractError
    from pipelines.outputs import load_outputs

    raw = _training(
        outputs_dict("test") | {"kms_key_arn": FOREIGN_KEY},
        output_s3_uri="s3://elsewhere/training/",
    )
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ContractError) as err:
        load_outputs("test", str(path))
    lines = str(err.value).splitlines()
    assert lines[1].startswith("  - kms_key_arn: ") and lines[2].startswith(
        "  - training.output_s3_uri: "
    )


def test_the_stack_s_own_resources_are_accepted() -> None:
    from components.contract import StackOutputs

    audit = f"mlops-stack-dev-audit-{ACCOUNT}-{REGION}"  # its own Object Lock bucket
    base = outputs_dict("test")
    raw = outputs_dict(
        "test",
        kms_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/mlops",
        alerts_topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts",
        buckets={**base["buckets"], "audit": audit},
        audit_s3_uri=f"s3://{audit}/audit/",
        audit_lock={"mode": "GOVERNANCE", "retention_days": 30},
    )
    outputs = StackOutputs.model_validate(raw)
    assert outputs.audit_s3_uri == f"s3://{audit}/audit/"
    china = outputs_dict(
        "test",
        region="cn-north-1",
        kms_key_arn=f"arn:aws-cn:kms:cn-north-1:{ACCOUNT}:key/k",
        sagemaker_execution_role_arn=f"arn:aws-cn:iam::{ACCOUNT}:role/r",
        ecr_repository_url=f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn/repo",
        endpoints=[],
    )
    assert StackOutputs.model_validate(china).region == "cn-north-1"
    with pytest.raises(ValueError, match=r"is in partition 'aws', not 'aws-cn' \(the partition"):
        StackOutputs.model_validate(
            china | {"kms_key_arn": f"arn:aws:kms:cn-north-1:{ACCOUNT}:key/k"}
        )


# ------------------------------------------------------------------ numeric and instance-type flags (item 12)


def _outputs_file(tmp_path: Path) -> str:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs_dict("test")))
    return str(path)


@pytest.mark.parametrize("command", ["deploy", "rollback"])
@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("-5", "'-5' is out of range"),
        ("nan", "'nan' is not finite"),
        ("inf", "'inf' is not finite"),
        ("-inf", "'-inf' is not finite"),
        ("1e9", "'1e9' is out of range"),
        ("soon", "'soon' is not a number"),
    ],
)
def test_wait_if_busy_must_be_a_finite_number_of_seconds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, value: str, says: str
) -> None:
    package = ["--package", "latest"] if command == "deploy" else []
    err = refused_flag(
        capsys,
        command,
        "--stack",
        "test",
        "--outputs",
        _outputs_file(tmp_path),
        *package,
        f"--wait-if-busy={value}",  # '=': argparse would read '-inf' as an option
    )
    assert f"argument --wait-if-busy: {says}; must be a number of seconds from 0 to 86400" in err


def test_train_refuses_an_unknown_instance_type_before_any_aws_call(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipelines.outputs

    def no_outputs(*args: Any) -> Any:
        raise AssertionError("the outputs were loaded")

    monkeypatch.setattr(pipelines.outputs, "load_outputs", no_outputs)
    err = refused_flag(
        capsys,
        "train",
        "--stack",
        "test",
        "--outputs",
        _outputs_file(tmp_path),
        "--image",
        IMAGE,
        "--source-dir",
        str(TRAINER),
        "--entry-point",
        "train.py",
        "--instance-type",
        "ml.bogus.xlarge",
    )
    assert "argument --instance-type: 'ml.bogus.xlarge' is not a SageMaker ML instance type" in err
    assert "ml.g5.*" in err and "ml.m5.*" in err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            ["demo", "--speed", "0"],
            "argument --speed: '0' is out of range; must be a number of simulated seconds per second above 0 and at most 100000",
        ),
        (["demo", "--speed", "nan"], "argument --speed: 'nan' is not finite"),
        (["demo", "--speed", "inf"], "argument --speed: 'inf' is not finite"),
        (["local", "serve", "--speed", "-1"], "argument --speed: '-1' is out of range"),
        (["local", "serve", "--speed", "1e300"], "argument --speed: '1e300' is out of range"),
        (
            ["local", "serve", "--port", "70000"],
            "argument --port: '70000' is out of range; must be a TCP port from 0",
        ),
        (["local", "serve", "--port", "-1"], "argument --port: '-1' is out of range"),
        (["local", "serve", "--port", "80.5"], "argument --port: '80.5' is not a whole number"),
    ],
)
def test_local_cloud_flags_are_bounded(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    assert says in refused_flag(capsys, *argv)


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--rate", "nan", "--duration", "5"], "argument --rate: 'nan' is not finite"),
        (["--rate", "-2", "--duration", "5"], "argument --rate: '-2' is out of range"),
        (
            ["--rate", "1e6", "--duration", "5"],
            "argument --rate: '1e6' is out of range; must be a number of requests a second above 0 and at most 10000",
        ),
        (["--rate", "2", "--duration", "inf"], "argument --duration: 'inf' is not finite"),
        (
            ["--rate", "2", "--duration", "0"],
            "argument --duration: '0' is out of range; must be a number of seconds above 0 and at most 86400",
        ),
        (["--rate", "2", "--duration", "-5"], "argument --duration: '-5' is out of range"),
    ],
)
def test_traffic_flags_are_bounded(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flags: list[str], says: str
) -> None:
    payloads = tmp_path / "payloads.csv"
    payloads.write_text("1,2\n")
    err = refused_flag(
        capsys,
        "traffic",
        "--endpoint",
        "churn",
        "--region",
        REGION,
        "--payloads",
        str(payloads),
        *flags,
    )
    assert says in err


def test_invoke_refuses_a_region_that_is_not_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    err = refused_flag(
        capsys, "invoke", "--endpoint", "e", "--region", "us-east-1; rm -rf /", "--body", "1"
    )
    assert "argument --region: 'us-east-1; rm -rf /' is not an AWS region name" in err
    from pipelines.cli import main

    monkeypatch.setenv("AWS_REGION", "nowhere")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert main(["invoke", "--endpoint", "e", "--body", "1"]) == 2
    assert "error: AWS_REGION: 'nowhere' is not an AWS region name" in capsys.readouterr().err
