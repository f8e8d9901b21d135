"""The bad-input sweep over stack files (issue 15, items 6, 11, 12 and 1, 3): each one makes
``mlops plan`` exit 2 with a message naming the file, the YAML path, the value and what is
allowed; never a traceback, never a resource planned."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines.cli import main

STACKS_DIR = Path(__file__).resolve().parents[2] / "stacks"
Edit = Callable[[dict[str, Any]], None]


def _platform(edit: Callable[[dict[str, Any]], None]) -> Edit:
    return lambda config: edit(config["mlops:platform"])


def _set(path: str, value: Any) -> Edit:
    """Set ``a.b[0].c`` under ``mlops:platform`` to ``value``."""

    def edit(platform: dict[str, Any]) -> None:
        node: Any = platform
        parts = path.replace("]", "").replace("[", ".").split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        last = parts[-1]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return _platform(edit)


# stack, edit of the parsed stack file, fragments the error must contain
EDITS: list[tuple[str, str, Edit, list[str]]] = [
    ("env-mismatch", "prod", _set("environment", "dev"), ["'dev' does not match the stack 'prod'"]),
    ("env-unknown", "dev", _set("environment", "qa"), ["mlops:platform.environment", "'qa'"]),
    (
        "owner-missing",
        "dev",
        _platform(lambda p: p.pop("owner")),
        ["mlops:platform.owner: required"],
    ),
    ("owner-list", "dev", _set("owner", ["a"]), ["mlops:platform.owner", "valid string"]),
    (
        "unknown-key",
        "dev",
        _set("trainng", {}),
        ["unknown key 'trainng'", "did you mean 'training'"],
    ),
    (
        "count-string",
        "dev",
        _set("training.instance_count", "4"),
        ["training.instance_count", "(got '4')"],
    ),
    (
        "count-bool",
        "dev",
        _set("training.instance_count", True),
        ["training.instance_count", "(got True)"],
    ),
    (
        "count-float",
        "dev",
        _set("training.instance_count", 1.5),
        ["training.instance_count", "(got 1.5)"],
    ),
    (
        "count-huge",
        "dev",
        _set("training.instance_count", 10**9),
        ["training.instance_count", "less than or equal to 64"],
    ),
    (
        "negative-volume",
        "dev",
        _set("training.volume_size_gib", -1),
        ["training.volume_size_gib", "greater than or equal to 1"],
    ),
    (
        "bogus-instance",
        "dev",
        _set("training.instance_type", "ml.bogus.xlarge"),
        ["'ml.bogus.xlarge' is not a SageMaker ML instance", "allowed:"],
    ),
    (
        "flag-string",
        "dev",
        _set("training.use_spot", "yes"),
        ["training.use_spot", "valid boolean", "(got 'yes')"],
    ),
    (
        "nan-threshold",
        "dev",
        _set("quality_gate.thresholds", {"auc": {"min": float("nan")}}),
        ["quality_gate.thresholds.auc.min", "finite number"],
    ),
    (
        "inf-threshold",
        "dev",
        _set("quality_gate.thresholds", {"auc": {"max": float("inf")}}),
        ["quality_gate.thresholds.auc.max", "finite number"],
    ),
    (
        "min-over-max",
        "dev",
        _set("quality_gate.thresholds", {"auc": {"min": 2, "max": 1}}),
        ["min (2) is greater than max (1)"],
    ),
    (
        "empty-threshold",
        "dev",
        _set("quality_gate.thresholds", {"auc": {}}),
        ["needs min, max or both"],
    ),
    (
        "aws-tag",
        "dev",
        _set("tags", {"aws:team": "x"}),
        ["mlops:platform.tags", "aws: prefix is reserved"],
    ),
    ("long-tag", "dev", _set("tags", {"team": "x" * 300}), ["mlops:platform.tags", "up to 256"]),
    ("platform-tag", "dev", _set("tags", {"owner": "x"}), ["set by the platform itself"]),
    (
        "max-instances",
        "dev",
        _set("endpoints[0].autoscaling", {"min_instances": 1, "max_instances": 10**9}),
        ["autoscaling.max_instances", "less than or equal to 100"],
    ),
    (
        "max-instances-float",
        "dev",
        _set("endpoints[0].autoscaling", {"min_instances": 1, "max_instances": 1e9}),
        ["autoscaling.max_instances", "valid integer"],
    ),
    (
        "min-over-max-instances",
        "dev",
        _set("endpoints[0].autoscaling", {"min_instances": 5, "max_instances": 2}),
        ["max_instances (2) must be ≥ min_instances (5)"],
    ),
    (
        "alarm-wildcard",
        "dev",
        _set("endpoints[0].deployment.extra_rollback_alarm_names", ["*"]),
        ["extra_rollback_alarm_names[0]", "'*'"],
    ),
    (
        "bad-retention",
        "dev",
        _set("monitoring.log_retention_days", 2),
        ["monitoring.log_retention_days", "(got 2)"],
    ),
    (
        "bad-email",
        "dev",
        _set("monitoring.alarm_emails", ["not-an-email"]),
        ["alarm_emails[0]", "'not-an-email'"],
    ),
    (
        "bad-account",
        "dev",
        _set("registry.cross_account_ids", ["12345"]),
        ["cross_account_ids[0]", "'12345'"],
    ),
    (
        "keep-configs-zero",
        "dev",
        _set("keep_endpoint_configs", 0),
        ["keep_endpoint_configs", "greater than or equal to 1"],
    ),
    (
        "bad-vpc",
        "dev",
        _set("training.vpc", {"vpc_id": "vpc-1", "subnet_ids": []}),
        ["training.vpc.vpc_id", "'vpc-1'"],
    ),
    (
        "bad-region",
        "dev",
        lambda c: c.__setitem__("aws:region", "us-east-1; rm -rf /"),
        ["config.aws:region", "'us-east-1; rm -rf /'"],
    ),
    (
        "region-list",
        "dev",
        lambda c: c.__setitem__("aws:region", ["eu-west-1"]),
        ["config.aws:region", "['eu-west-1']"],
    ),
    (
        "platform-list",
        "dev",
        lambda c: c.__setitem__("mlops:platform", ["x"]),
        ["mlops:platform: expected a mapping"],
    ),
    (
        "prod-destroy",
        "prod",
        _set("storage.retention", "DESTROY"),
        ["storage.retention DESTROY is refused in prod"],
    ),
    (
        "prod-unsafe",
        "prod",
        _set("unsafe", {"public_buckets": True}),
        ["unsafe options are refused in prod: unsafe.public_buckets"],
    ),
    (
        "prod-one-instance",
        "prod",
        _platform(
            lambda p: p["endpoints"][0].update(
                initial_instance_count=1,
                autoscaling=None,
                deployment={"strategy": "ALL_AT_ONCE"},
            )
        ),
        ["endpoints[0].initial_instance_count: 1", "unsafe.single_instance"],
    ),
    (
        "prod-no-capture",
        "prod",
        # (prod's churn is monitored: without capture, monitoring must go too)
        _platform(
            lambda p: p["endpoints"][0].update(
                data_capture={"enabled": False}, monitoring={"enabled": False}
            )
        ),
        ["endpoints[0].data_capture.enabled: false", "unsafe.no_data_capture"],
    ),
    (
        "prod-no-vpc",
        "prod",
        _platform(lambda p: p["training"].pop("vpc")),
        ["training.vpc: not set (no VPC)", "unsafe.no_vpc"],
    ),
    (
        "prod-network",
        "prod",
        _set("endpoints[0].network_isolation", False),
        ["endpoints[0].network_isolation: false", "unsafe.network_access"],
    ),
    (
        "prod-short-logs",
        "prod",
        _set("monitoring.log_retention_days", 30),
        ["log_retention_days 30 is below the prod minimum of 365"],
    ),
    (
        "bad-audit-lock",
        "prod",
        _set("storage.audit_lock", {"mode": "FOREVER"}),
        ["storage.audit_lock.mode", "'FOREVER'"],
    ),
    (
        "monitoring-window",
        "staging",
        _set("endpoints[0].monitoring", {"enabled": True, "window": "90x"}),
        ["endpoints[0].monitoring.window", "'90x' is not a duration", "allowed: seconds"],
    ),
    (
        "monitoring-window-short",
        "staging",
        _set("endpoints[0].monitoring", {"enabled": True, "window": "5m"}),
        ["endpoints[0].monitoring.window", "'5m' (300 s) is outside 600-86400 s"],
    ),
    (
        "monitoring-window-seconds",
        "staging",
        _set("endpoints[0].monitoring", {"enabled": True, "window": 90}),
        ["endpoints[0].monitoring.window", "90 (90 s) is not a whole number of minutes"],
    ),
    (
        "monitoring-metric",
        "staging",
        _set("endpoints[0].monitoring", {"enabled": True, "metric": "kl"}),
        ["endpoints[0].monitoring.metric", "(got 'kl')", "'wasserstein'"],
    ),
    (
        "monitoring-p-value",
        "staging",
        _set("endpoints[0].monitoring", {"enabled": True, "metric": "ks", "threshold": 1.5}),
        ["endpoints[0].monitoring.threshold", "1.5 does not fit ks", "below 1"],
    ),
    (
        "monitoring-threshold-auto",
        "staging",
        _set("endpoints[0].monitoring", {"enabled": True, "threshold": 0.2}),
        ["endpoints[0].monitoring.threshold", "needs a metric"],
    ),
    (
        "monitoring-min-samples",
        "staging",
        _set("endpoints[0].monitoring", {"enabled": True, "min_samples": 0}),
        ["endpoints[0].monitoring.min_samples", "greater than or equal to 1"],
    ),
    (
        "monitoring-alarm-windows",
        "staging",
        _set("endpoints[0].monitoring", {"enabled": True, "alarm_windows": 25}),
        ["endpoints[0].monitoring.alarm_windows", "less than or equal to 24"],
    ),
    (
        "monitoring-alarm-span",
        "staging",
        _set("endpoints[0].monitoring", {"enabled": True, "window": "1d", "alarm_windows": 8}),
        ["endpoints[0].monitoring.alarm_windows", "604800 s (7 days)"],
    ),
    (
        "monitoring-feature-kind",
        "staging",
        _set(
            "endpoints[0].monitoring",
            {"enabled": True, "features": {"age": {"kind": "numeric", "metric": "chi_square"}}},
        ),
        ["endpoints[0].monitoring.features.age.metric", "measures categorical features"],
    ),
    (
        "monitoring-feature-key",
        "staging",
        _set("endpoints[0].monitoring", {"enabled": True, "features": {"age": {"treshold": 1}}}),
        ["monitoring.features.age.treshold", "did you mean 'threshold'"],
    ),
    (
        "monitoring-instance",
        "staging",
        _set("endpoints[0].monitoring", {"enabled": True, "instance_type": "ml.inf2.xlarge"}),
        ["endpoints[0].monitoring.instance_type", "not a SageMaker Processing instance type"],
    ),
    (
        "monitoring-runtime",
        "staging",
        _set("endpoints[0].monitoring", {"enabled": True, "max_runtime_seconds": 10**6}),
        ["endpoints[0].monitoring.max_runtime_seconds", "less than or equal to 86400"],
    ),
    (
        "monitoring-unknown-key",
        "staging",
        _set("endpoints[0].monitoring", {"enabled": True, "windw": "1h"}),
        ["endpoints[0].monitoring.windw", "did you mean 'window'"],
    ),
    (
        "monitoring-no-capture",
        "staging",
        _platform(
            lambda p: p["endpoints"][0].update(
                data_capture={"enabled": False}, monitoring={"enabled": True}
            )
        ),
        ["endpoints[0].monitoring.enabled", "data_capture.enabled is false"],
    ),
    (
        "monitoring-serverless",
        "dev",
        _set("endpoints[0].monitoring", {"enabled": True}),
        ["endpoints[0].monitoring.enabled", "serverless endpoints lack"],
    ),
]

# stack, raw text of the whole file, fragments the error must contain
TEXTS: list[tuple[str, str, bytes, list[str]]] = [
    ("binary", "dev", b"\x89PNG\r\n\x1a\n\x00\x00", ["is not UTF-8 text (byte 0x89 at offset 0)"]),
    ("empty", "dev", b"", ["config: required mapping is missing"]),
    ("not-a-mapping", "dev", b"- a\n- b\n", ["config: required mapping is missing"]),
    ("bad-yaml", "dev", b"config: [unclosed\n", ["not valid YAML"]),
    (
        "duplicate-key",
        "dev",
        b"config:\n  aws:region: eu-west-1\n  aws:region: us-east-1\n",
        ["duplicate key 'aws:region'"],
    ),
    (
        "binary-value",
        "dev",
        b"config:\n  aws:region: eu-west-1\n  mlops:platform:\n    owner: !!binary aGVsbG8=\n",
        ["binary data (!!binary)"],
    ),
    (
        "python-tag",
        "dev",
        b"config:\n  x: !!python/object/apply:os.system ['true']\n",
        ["not valid YAML"],
    ),
    (
        "deep-nesting",
        "dev",
        b"config: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        ["not valid YAML"],
    ),
    (
        "alias-bomb",
        "dev",
        b"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nconfig: [*e,*e,*e,*e,*e,*e]\n",
        ["expands to more than 100000 values"],
    ),
]


def _stacks(tmp_path: Path) -> Path:
    for f in STACKS_DIR.glob("Pulumi.*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _refused(capsys: pytest.CaptureFixture[str], stacks: Path, stack: str) -> str:
    code = main(["plan", "--stack", stack, "--stacks-dir", str(stacks)])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert captured.out == ""
    assert "Traceback" not in captured.err
    assert f"Pulumi.{stack}.yaml" in captured.err
    assert len(captured.err) < 20_000
    return captured.err


@pytest.mark.parametrize(("case", "stack", "edit", "fragments"), EDITS, ids=[e[0] for e in EDITS])
def test_a_bad_value_exits_2_naming_it(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    stack: str,
    edit: Edit,
    fragments: list[str],
) -> None:
    stacks = _stacks(tmp_path)
    path = stacks / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    edit(document["config"])
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    err = _refused(capsys, stacks, stack)
    for fragment in fragments:
        assert fragment in err, case


@pytest.mark.parametrize(("case", "stack", "text", "fragments"), TEXTS, ids=[t[0] for t in TEXTS])
def test_a_bad_file_exits_2_naming_the_problem(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    stack: str,
    text: bytes,
    fragments: list[str],
) -> None:
    stacks = _stacks(tmp_path)
    (stacks / f"Pulumi.{stack}.yaml").write_bytes(text)
    err = _refused(capsys, stacks, stack)
    for fragment in fragments:
        assert fragment in err, case


def test_a_stack_named_for_no_environment_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = _stacks(tmp_path)
    shutil.copy(stacks / "Pulumi.dev.yaml", stacks / "Pulumi.feature-x.yaml")
    err = _refused(capsys, stacks, "feature-x")
    assert "stack 'feature-x': not an environment's stack" in err


def test_a_bad_stack_file_in_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    """The same refusal through the installed console script's entry point."""
    stacks = _stacks(tmp_path)
    (stacks / "Pulumi.dev.yaml").write_bytes(b"\xff\xfe binary")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "plan",
            "--stack",
            "dev",
            "--stacks-dir",
            str(stacks),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "is not UTF-8 text (byte 0xff at offset 0)" in done.stderr


def test_a_region_botocore_does_not_know_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = _stacks(tmp_path)
    path = stacks / "Pulumi.dev.yaml"
    path.write_text(path.read_text().replace("aws:region: eu-west-1", "aws:region: eu-west-9"))
    err = _refused(capsys, stacks, "dev")
    assert "config.aws:region: 'eu-west-9' is not a region of any AWS partition" in err
    assert "known in that area: eu-west-1, eu-west-2, eu-west-3" in err
