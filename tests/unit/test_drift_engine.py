"""The drift engine: statistics against scipy's, the drifted set on a known shift, Model
Monitor's formats, and every kind of bad data named with its file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from pipelines.monitoring import baseline as baselines
from pipelines.monitoring import drift, runner
from pipelines.monitoring.baseline import Baseline
from pipelines.monitoring.drift import FeatureSetting, Settings
from pipelines.monitoring.profile import Profile
from pipelines.monitoring.summaries import KLL_K, OTHER


def write_csv(path: Path, columns: dict[str, np.ndarray], header: bool = True) -> Path:
    names = list(columns)
    rows = zip(*(columns[n] for n in names), strict=True)
    lines = [",".join(names)] if header else []
    lines += [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def profile_pair(
    tmp_path: Path, ref: dict[str, np.ndarray], cur: dict[str, np.ndarray], **kw: Any
) -> tuple[Baseline, drift.DriftResult, Profile]:
    base, _ = runner.compute_baseline(runner.sources_at(str(write_csv(tmp_path / "ref.csv", ref))))
    result, profile = runner.run_drift(
        base, runner.sources_at(str(write_csv(tmp_path / "cur.csv", cur))), Settings(**kw)
    )
    return base, result, profile


def feature(result: drift.DriftResult, name: str) -> drift.FeatureResult:
    return next(f for f in result.features if f.name == name)


# ------------------------------------------------------------------ against scipy


def test_exact_samples_match_scipy_wasserstein_and_ks(tmp_path: Path) -> None:
    g = np.random.default_rng(101)  # each test its own draws, whatever the order
    ref = g.normal(0.0, 2.0, 1500).round(6)
    cur = g.normal(0.4, 2.5, 1200).round(6)
    base, result, profile = profile_pair(
        tmp_path,
        {"x": ref},
        {"x": cur},
        min_samples=10,
        features={"x": FeatureSetting(metric="wasserstein")},
    )
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref)
    assert feature(result, "x").method == "wasserstein"
    assert feature(result, "x").value == pytest.approx(expected, abs=1e-6)
    p_value, statistic = drift.ks(base.numeric["x"], profile.numeric["x"])
    scipy_ks = stats.ks_2samp(ref, cur)
    assert statistic == pytest.approx(scipy_ks.statistic, abs=1e-6)
    assert p_value == pytest.approx(scipy_ks.pvalue, abs=1e-6)


def test_sketched_samples_stay_close_to_scipy(tmp_path: Path) -> None:
    g = np.random.default_rng(102)  # each test its own draws, whatever the order
    n = 40 * KLL_K  # far past the sketch's exact range
    ref = g.normal(0.0, 1.0, n).round(5)
    cur = g.normal(0.2, 1.0, n).round(5)
    base, result, profile = profile_pair(tmp_path, {"x": ref}, {"x": cur}, min_samples=10)
    assert not base.numeric["x"].exact
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref)
    assert feature(result, "x").value == pytest.approx(expected, abs=0.01)
    _, statistic = drift.ks(base.numeric["x"], profile.numeric["x"])
    assert statistic == pytest.approx(stats.ks_2samp(ref, cur).statistic, abs=0.01)
    # moments are exact whatever the sketch keeps
    assert base.numeric["x"].mean == pytest.approx(ref.mean(), abs=1e-9)
    assert base.numeric["x"].std == pytest.approx(ref.std(), rel=1e-9)


def test_categorical_statistics_match_scipy(tmp_path: Path) -> None:
    g = np.random.default_rng(103)  # each test its own draws, whatever the order
    ref = g.choice(["a", "b", "c"], 3000, p=[0.5, 0.3, 0.2])
    cur = g.choice(["a", "b", "c"], 2000, p=[0.3, 0.3, 0.4])
    base, result, profile = profile_pair(tmp_path, {"k": ref}, {"k": cur}, min_samples=10)
    r = np.array([np.sum(ref == v) for v in "abc"], dtype=float)
    c = np.array([np.sum(cur == v) for v in "abc"], dtype=float)
    assert feature(result, "k").method == "jensen_shannon"
    assert feature(result, "k").value == pytest.approx(
        distance.jensenshannon(r / r.sum(), c / c.sum()), abs=1e-9
    )
    p_value, _ = drift.chi_square(base.categorical["k"], profile.categorical["k"])
    assert p_value == pytest.approx(stats.chisquare(c, r / r.sum() * c.sum()).pvalue, abs=1e-12)


def test_psi_on_the_reference_deciles(tmp_path: Path) -> None:
    ref = np.arange(1000, dtype=float)
    cur = np.concatenate([np.arange(500, dtype=float), np.full(500, 950.0)])
    _, result, _ = profile_pair(
        tmp_path,
        {"x": ref},
        {"x": cur},
        min_samples=10,
        features={"x": FeatureSetting(metric="psi")},
    )
    # deciles of 0..999: five bins hold the first half, the last bin all of the rest
    p = np.full(10, 0.1)
    q = np.array([0.1] * 5 + [1e-4] * 4 + [0.5])
    assert feature(result, "x").value == pytest.approx(
        float(np.sum((q - p) * np.log(q / p))), rel=1e-3
    )
    assert feature(result, "x").drifted


# ---------------------------------------------------------------- the verdict


def shifted_data(n: int, shift: bool) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7 if shift else 8)
    cols: dict[str, np.ndarray] = {}
    for i in range(6):
        cols[f"n{i}"] = rng.normal(0.5 if shift and i in (1, 4) else 0.0, 1.0, n).round(4)
    for i in range(3):
        p = [0.25, 0.25, 0.25, 0.25] if shift and i == 2 else [0.55, 0.25, 0.15, 0.05]
        cols[f"c{i}"] = rng.choice(["u", "v", "w", "z"], n, p=p)
    return cols


def test_the_drifted_set_is_exactly_the_shifted_features(tmp_path: Path) -> None:
    base, result, _ = profile_pair(tmp_path, shifted_data(5000, False), shifted_data(5000, True))
    assert result.drifted == ["n1", "n4", "c2"]
    assert result.verdict == "drift"
    assert [f.name for f in result.sorted_features()[:3]] == sorted(
        ["n1", "n4", "c2"], key=lambda n: -drift._severity(feature(result, n))
    )
    assert {f.kind for f in base.features} == {"numeric", "categorical"}
    doc = result.to_json()
    assert set(doc) >= {"features", "drifted", "samples", "baseline_samples"}
    assert doc["samples"] == doc["baseline_samples"] == 5000
    assert set(doc["features"][0]) >= {"name", "kind", "method", "value", "threshold", "drifted"}


def test_no_drift_on_the_same_distribution(tmp_path: Path) -> None:
    _, result, _ = profile_pair(tmp_path, shifted_data(5000, False), shifted_data(5000, False) | {})
    assert result.drifted == []
    assert result.verdict == "no drift"


def test_small_reference_uses_tests_and_few_samples_are_insufficient(tmp_path: Path) -> None:
    _, result, _ = profile_pair(
        tmp_path, shifted_data(800, False), shifted_data(40, True), min_samples=100
    )
    assert {f.method for f in result.features} == {"ks", "chi_square"}
    assert result.verdict == "insufficient data"
    assert result.drifted == []
    assert {f.status for f in result.features} == {"insufficient data"}


def test_per_feature_settings_override_and_disable(tmp_path: Path) -> None:
    _, result, _ = profile_pair(
        tmp_path,
        shifted_data(3000, False),
        shifted_data(3000, True),
        features={
            "n1": FeatureSetting(enabled=False),
            "n4": FeatureSetting(metric="psi", threshold=5.0),
            "c2": FeatureSetting(kind="categorical", metric="chi_square"),
        },
    )
    assert feature(result, "n1").status == "disabled"
    assert feature(result, "n4").method == "psi" and feature(result, "n4").threshold == 5.0
    assert not feature(result, "n4").drifted
    assert feature(result, "c2").method == "chi_square" and feature(result, "c2").drifted
    assert result.drifted == ["c2"]


def test_categories_past_the_baseline_cap_are_not_drift(tmp_path: Path) -> None:
    g = np.random.default_rng(104)  # each test its own draws, whatever the order
    values = np.array([f"v{i}" for i in range(300)])
    ref = g.choice(values, 20000)
    cur = g.choice(values, 20000)
    base, result, _ = profile_pair(tmp_path, {"k": ref}, {"k": cur}, min_samples=10)
    assert OTHER in base.categorical["k"].counts
    assert not feature(result, "k").drifted
    assert not [
        v for v in result.violations if v.constraint_check_type == "categorical_values_check"
    ]


# ------------------------------------------------------------ Model Monitor format


def test_statistics_json_is_model_monitor_format_and_round_trips(tmp_path: Path) -> None:
    cols = shifted_data(3000, False)
    base, _ = runner.compute_baseline(runner.sources_at(str(write_csv(tmp_path / "r.csv", cols))))
    written = runner.write_baseline(base, runner.Place(str(tmp_path / "out")))
    stats_doc = json.loads(Path(written["statistics"]).read_text())
    constraints = json.loads(Path(written["constraints"]).read_text())
    n0 = stats_doc["features"][0]
    assert n0["name"] == "n0" and n0["inferred_type"] == "Fractional"
    numeric = n0["numerical_statistics"]
    assert numeric["common"] == {"num_present": 3000, "num_missing": 0}
    assert numeric["mean"] == pytest.approx(cols["n0"].mean())
    kll = numeric["distribution"]["kll"]
    assert kll["sketch"]["parameters"]["k"] == float(KLL_K)
    assert len(kll["buckets"]) == 10
    assert sum(b["count"] for b in kll["buckets"]) == pytest.approx(3000)
    c0 = next(f for f in stats_doc["features"] if f["name"] == "c0")
    assert c0["inferred_type"] == "String"
    buckets = c0["string_statistics"]["distribution"]["categorical"]["buckets"]
    assert {b["value"] for b in buckets} == {"u", "v", "w", "z"}
    assert stats_doc["dataset"] == {"item_count": 3000}
    assert {f["name"] for f in constraints["features"]} == set(cols)
    assert next(f for f in constraints["features"] if f["name"] == "c0")["string_constraints"][
        "domains"
    ] == ["u", "v", "w", "z"]
    again = runner.load_baseline(str(tmp_path / "out"))
    assert [f.name for f in again.features] == [f.name for f in base.features]
    assert np.array_equal(again.numeric["n0"].values, base.numeric["n0"].values)
    assert again.numeric["n0"].edges == pytest.approx(base.numeric["n0"].edges)
    assert again.categorical["c0"].counts == base.categorical["c0"].counts


def test_reads_a_model_monitor_baseline_without_our_fields(tmp_path: Path) -> None:
    doc = {
        "version": 0.0,
        "dataset": {"item_count": 4},
        "features": [
            {
                "name": "age",
                "inferred_type": "Integral",
                "numerical_statistics": {
                    "common": {"num_present": 4, "num_missing": 0},
                    "mean": 25.0,
                    "sum": 100.0,
                    "std_dev": 11.18,
                    "min": 10.0,
                    "max": 40.0,
                    "distribution": {
                        "kll": {
                            "buckets": [
                                {"lower_bound": 10.0, "upper_bound": 25.0, "count": 2.0},
                                {"lower_bound": 25.0, "upper_bound": 40.0, "count": 2.0},
                            ],
                            "sketch": {
                                "parameters": {"c": 0.64, "k": 2048.0},
                                "data": [[10.0, 20.0], [35.0]],
                            },
                        }
                    },
                },
            }
        ],
    }
    read = baselines.read_statistics(doc)
    assert read.numeric["age"].values.tolist() == [10.0, 20.0, 35.0]
    assert read.numeric["age"].weights.tolist() == [1.0, 1.0, 2.0]
    assert read.numeric["age"].edges.tolist() == [25.0]


# ---------------------------------------------------------------------- bad data


def test_bad_rows_are_named_with_file_and_line_and_the_rest_is_computed(tmp_path: Path) -> None:
    g = np.random.default_rng(105)  # each test its own draws, whatever the order
    ref = write_csv(
        tmp_path / "ref.csv",
        {"a": g.normal(size=500).round(3), "b": g.normal(size=500).round(3)},
    )
    base, _ = runner.compute_baseline(runner.sources_at(str(ref)))
    lines = ["a,b"] + [f"{x:.3f},{y:.3f}" for x, y in g.normal(size=(300, 2))]
    lines[10] = "abc,1.0"  # line 11
    lines[20] = "1.0"  # line 21: one column
    lines[30] = "1.0,2.0,3.0"  # line 31: three columns
    cur = tmp_path / "cur.csv"
    cur.write_text("\n".join(lines) + "\n")
    result, _ = runner.run_drift(base, runner.sources_at(str(cur)), Settings(min_samples=10))
    problems = result.problems
    assert problems["columns"]["count"] == 2
    assert problems["columns"]["first"] == [
        f"{cur}:21: 1 columns, expected 2",
        f"{cur}:31: 3 columns, expected 2",
    ]
    assert problems["type:a"]["first"] == [f"{cur}:11: a is 'abc', not a number"]
    checks = {(v.feature_name, v.constraint_check_type) for v in result.violations}
    assert ("a", "data_type_check") in checks
    assert result.samples == 298
    assert feature(result, "a").status == "ok" and feature(result, "b").status == "ok"


def test_missing_and_extra_columns_and_unseen_categories(tmp_path: Path) -> None:
    g = np.random.default_rng(106)  # each test its own draws, whatever the order
    _, result, _ = profile_pair(
        tmp_path,
        {"a": g.normal(size=400).round(3), "k": g.choice(["x", "y"], 400)},
        {"k": g.choice(["x", "y", "new"], 400), "extra": g.normal(size=400).round(3)},
        min_samples=10,
    )
    checks = {(v.feature_name, v.constraint_check_type) for v in result.violations}
    assert ("a", "missing_column_check") in checks
    assert ("extra", "extra_column_check") in checks
    assert ("k", "categorical_values_check") in checks
    assert feature(result, "a").status == "no data"


def test_completeness_below_the_baseline_is_a_violation(tmp_path: Path) -> None:
    g = np.random.default_rng(107)  # each test its own draws, whatever the order
    ref = g.normal(size=400).round(3)
    cur = g.normal(size=400).round(3).astype(object)
    cur[:100] = ""
    _, result, _ = profile_pair(
        tmp_path, {"a": ref, "b": ref}, {"a": cur, "b": ref}, min_samples=10
    )
    [violation] = [v for v in result.violations if v.constraint_check_type == "completeness_check"]
    assert violation.feature_name == "a"
    assert "0.7500" in violation.description


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"   \n", "the file is empty"),
    ],
)
def test_empty_data_is_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(runner.SourceError, match=message):
        runner.compute_baseline(runner.sources_at(str(path)))


def test_missing_paths_and_bad_baselines_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(runner.SourceError, match="no such file or directory"):
        runner.sources_at(str(tmp_path / "nope.csv"))
    (tmp_path / "statistics.json").write_text('{"features": "no"}')
    with pytest.raises(runner.SourceError, match="features is missing or empty"):
        runner.load_baseline(str(tmp_path))
    (tmp_path / "statistics.json").write_text("{not json")
    with pytest.raises(runner.SourceError, match="not JSON"):
        runner.load_baseline(str(tmp_path))


def test_capture_json_lines_inputs_and_outputs(tmp_path: Path) -> None:
    g = np.random.default_rng(108)  # each test its own draws, whatever the order
    rows = g.normal(size=(600, 3)).round(4)
    ref = write_csv(tmp_path / "ref.csv", {f"_c{i}": rows[:, i] for i in range(3)}, header=False)
    base, _ = runner.compute_baseline(runner.sources_at(str(ref)))
    assert [f.name for f in base.features] == ["_c0", "_c1", "_c2"]
    records = []
    for i, row in enumerate(rows + np.array([0.0, 0.0, 3.0])):
        body = ",".join(str(v) for v in row)
        records.append(
            json.dumps(
                {
                    "captureData": {
                        "endpointInput": {
                            "observedContentType": "text/csv",
                            "mode": "INPUT",
                            "data": body,
                            "encoding": "CSV",
                        },
                        "endpointOutput": {
                            "observedContentType": "application/json",
                            "mode": "OUTPUT",
                            "data": json.dumps({"probabilities": [0.5]}),
                            "encoding": "JSON",
                        },
                    },
                    "eventMetadata": {"eventId": str(i), "inferenceTime": "2026-12-03T10:00:00Z"},
                    "eventVersion": "0",
                }
            )
        )
    records[0] = "{broken"  # even the first line: still read as capture
    capture = tmp_path / "capture.jsonl"
    capture.write_text("\n".join(records) + "\n")
    result, profile = runner.run_drift(
        base, runner.sources_at(str(capture)), Settings(min_samples=10)
    )
    assert result.drifted == ["_c2"]
    assert result.samples == 599
    assert profile.rows["output"] == 599
    assert result.problems["records"]["first"][0].startswith(f"{capture}:1: not a JSON record")
    # a baseline from training data has no outputs: they are not compared, not a violation
    assert "prediction" not in {f.name for f in result.features}
    assert not result.violations
    # one built from capture has them: prediction drift
    with_outputs, _ = runner.compute_baseline(runner.sources_at(str(capture)))
    assert ("prediction", "output") in {(f.name, f.role) for f in with_outputs.features}
    assert with_outputs.numeric["prediction"].mean == pytest.approx(0.5)


def test_an_s3_object_that_cannot_be_read_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    from botocore.exceptions import ClientError

    from pipelines.monitoring.tables import Problems, read, s3_sources

    class Refusing:
        def get_object(self, Bucket: str, Key: str) -> Any:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetObject")

    problems = Problems()
    chunks = list(read(s3_sources(Refusing(), "s3://b/", ["cap/x.jsonl"]), problems))
    assert chunks == []
    [message] = problems.messages["sources"]
    assert message.startswith("s3://b/cap/x.jsonl: cannot read it (") and "AccessDenied" in message
