"""`mlops monitor baseline` / `mlops monitor run` on local files: the JSON contract, exit codes,
and every bad input as a clear message (what, where), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipelines.cli import main


def mlops(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    try:
        return code, json.loads(captured.out), captured.err
    except json.JSONDecodeError:
        return code, captured.out, captured.err


def csv_file(path: Path, n: int, shift: float, seed: int, header: str = "x,y,k") -> Path:
    rng = np.random.default_rng(seed)
    x, y = rng.normal(0, 1, n), rng.normal(shift, 1, n)
    k = rng.choice(["a", "b", "c"], n)
    path.write_text(
        header + "\n" + "".join(f"{a:.4f},{b:.4f},{c}\n" for a, b, c in zip(x, y, k, strict=True))
    )
    return path


@pytest.fixture
def baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code, out, _ = mlops(
        capsys,
        "monitor",
        "baseline",
        "--data",
        str(csv_file(tmp_path / "ref.csv", 3000, 0, 1)),
        "--out",
        str(tmp_path / "base"),
        "--json",
    )
    assert code == 0, out
    assert out["rows"] == 3000
    assert out["features"] == [
        {"name": "x", "kind": "numeric", "role": "input"},
        {"name": "y", "kind": "numeric", "role": "input"},
        {"name": "k", "kind": "categorical", "role": "input"},
    ]
    return tmp_path / "base"


def test_run_prints_the_documented_json_and_exits_0_with_drift(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cur = csv_file(tmp_path / "cur.csv", 2000, 0.8, 2)
    report = tmp_path / "out" / "report.html"
    code, out, _ = mlops(
        capsys,
        "monitor",
        "run",
        "--baseline",
        str(baseline),
        "--data",
        str(cur),
        "--report",
        str(report),
        "--json",
    )
    assert code == 0
    assert out["drifted"] == ["y"] and out["verdict"] == "drift"
    assert out["samples"] == 2000 and out["baseline_samples"] == 3000
    first = out["features"][0]
    assert {k: first[k] for k in ("name", "kind", "method", "threshold", "drifted")} == {
        "name": "y",
        "kind": "numeric",
        "method": "wasserstein",
        "threshold": 0.1,
        "drifted": True,
    }
    assert first["value"] > 0.5
    assert report.read_text().startswith("<!DOCTYPE html>")
    # for people: the drifted feature first, marked
    code, text, _ = mlops(capsys, "monitor", "run", "--baseline", str(baseline), "--data", str(cur))
    assert code == 0 and text.splitlines()[1].split()[:2] == ["DRIFT", "y"]


def test_a_baseline_of_another_schema_is_reported_not_a_false_verdict(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = csv_file(tmp_path / "other.csv", 500, 0, 3, header="p,q,r")
    code, out, _ = mlops(
        capsys, "monitor", "run", "--baseline", str(baseline), "--data", str(other), "--json"
    )
    assert code == 0
    assert out["verdict"] == "schema mismatch" and out["drifted"] == []
    message = out["data_quality"]["violations"][0]["description"]
    assert "none of the baseline's features (x, y, k)" in message and "p, q, r" in message


def test_bad_rows_and_an_empty_file_are_named_and_the_rest_is_computed(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    cur = csv_file(data / "a.csv", 800, 0, 4)
    lines = cur.read_text().splitlines()
    lines[5] = "1.0,not-a-number,a"
    lines[9] = "1.0,2.0"
    cur.write_text("\n".join(lines) + "\n")
    (data / "b.csv").write_text("")
    code, out, _ = mlops(
        capsys, "monitor", "run", "--baseline", str(baseline), "--data", str(data), "--json"
    )
    assert code == 0
    problems = out["data_quality"]["problems"]
    assert problems["sources"]["first"] == [f"{data / 'b.csv'}: the file is empty"]
    assert problems["columns"]["first"] == [f"{cur}:10: 2 columns, expected 3"]
    assert problems["type:y"]["first"] == [f"{cur}:6: y is 'not-a-number', not a number"]
    assert out["samples"] == 799 and out["verdict"] == "no drift"  # the short row is skipped


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["baseline", "--data", "{tmp}/nope.csv", "--out", "{tmp}/o"],
            "--data: '{tmp}/nope.csv': no such file or directory",
        ),
        (
            ["baseline", "--data", "{tmp}/ref.csv", "--out", "{tmp}/ref.csv/o"],
            "cannot write '{tmp}/ref.csv/o/statistics.json'",
        ),
        (
            ["baseline", "--data", "{tmp}/empty.csv", "--out", "{tmp}/o"],
            "--data: no data to build a baseline from ({tmp}/empty.csv: the file is empty)",
        ),
        (
            [
                "baseline",
                "--data",
                "{tmp}/ref.csv",
                "--schema",
                "{tmp}/bad.yaml",
                "--out",
                "{tmp}/o",
            ],
            "features[0].kind is 'text'; allowed: numeric, categorical",
        ),
        (
            ["run", "--data", "{tmp}/ref.csv"],
            "give --endpoint NAME (with --stack), or --baseline and --data",
        ),
        (
            ["run", "--baseline", "{tmp}/nowhere", "--data", "{tmp}/ref.csv"],
            "baseline '{tmp}/nowhere/statistics.json': cannot read it",
        ),
        (["run", "--baseline", "{tmp}/broken.json", "--data", "{tmp}/ref.csv"], "not JSON"),
        (
            ["run", "--baseline", "{tmp}/b", "--data", "{tmp}/ref.csv", "--window", "1h"],
            "--remote, --window and --since need --endpoint",
        ),
    ],
)
def test_bad_input_exits_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    csv_file(tmp_path / "ref.csv", 50, 0, 5)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "bad.yaml").write_text("features:\n  - {name: x, kind: text}\n")
    (tmp_path / "broken.json").write_text("{")
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = mlops(capsys, "monitor", *args, "--json")
    assert code == 2, out
    assert message.replace("{tmp}", str(tmp_path)) in out["message"]
    assert "Traceback" not in err


def test_bad_flag_values_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for flag, value in (("--window", "ten minutes"), ("--since", "yesterday")):
        with pytest.raises(SystemExit) as refused:
            main(["monitor", "run", "--endpoint", "churn", flag, value])
        assert refused.value.code == 2
        assert f"argument {flag}: '{value}'" in capsys.readouterr().err
