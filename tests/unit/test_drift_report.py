"""The drift report: one self-contained HTML document from a real baseline, window and result."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pytest

from pipelines.monitoring import baseline as baselines
from pipelines.monitoring import drift
from pipelines.monitoring.profile import Profile
from pipelines.monitoring.report import write_report
from pipelines.monitoring.tables import Chunk

WEIRD = "<b>&income"
"""A feature name that is HTML: it must be shown, never interpreted."""
MATH = r"$\frac$"
"""A category matplotlib would fail to parse as mathtext: it must be drawn as text."""


def _chunk(source: str, columns: dict[str, list[str | None]]) -> Chunk:
    rows = len(next(iter(columns.values())))
    return Chunk(
        source,
        {name: pa.array(values, pa.string()) for name, values in columns.items()},
        np.arange(2, rows + 2, dtype=np.int64),
    )


def _numbers(values: np.ndarray) -> list[str | None]:
    return [f"{v:.3f}" for v in values]


@pytest.fixture(scope="module")
def run() -> tuple[drift.DriftResult, baselines.Baseline, Profile]:
    rng = np.random.default_rng(7)
    n = 400
    cities = ["paris"] * 240 + ["lyon"] * 120 + ["nice"] * 40
    cities[-1] = MATH
    reference = _chunk(
        "train.csv",
        {
            "age": _numbers(rng.normal(40, 5, n)),
            WEIRD: _numbers(rng.normal(100, 10, n)),
            "city": list(rng.permutation(cities)),
        },
    )
    baseline = baselines.from_profile(Profile().add_all([reference]), source="train.csv")

    age: list[str | None] = _numbers(rng.normal(55, 5, n))  # drifted
    age[3] = "abc"  # a type mismatch: a problem with its file:line, and a violation
    income: list[str | None] = _numbers(rng.normal(100, 10, n))
    income[5] = None  # completeness below the baseline's 1.0
    window = _chunk(
        "s3://bucket/capture/part-0.jsonl",
        {
            "age": age,
            WEIRD: income,
            "city": list(rng.permutation(cities)),  # the same shares: no drift
        },
    )
    profile = Profile(kinds=baseline.kinds(), expected=[f.name for f in baseline.features])
    profile.add(window)
    result = drift.compare(baseline, profile, drift.Settings(min_samples=10))
    return result, baseline, profile


@pytest.fixture(scope="module")
def page(run: tuple[drift.DriftResult, baselines.Baseline, Profile]) -> str:
    result, baseline, profile = run
    return write_report(result, baseline, profile, title="churn drift", window="2024-05-01 13:00")


def test_the_engine_found_what_the_report_should_show(
    run: tuple[drift.DriftResult, baselines.Baseline, Profile],
) -> None:
    result, _, _ = run
    assert result.drifted == ["age"]
    assert result.verdict == "drift"
    assert {v.constraint_check_type for v in result.violations} >= {
        "data_type_check",
        "completeness_check",
    }
    assert "type:age" in result.problems


def test_one_self_contained_document(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<html") == 1
    assert page.rstrip().endswith("</html>")
    lowered = page.lower()
    for external in ("<script", "<link", "<img", "@import", "<iframe", "url(http"):
        assert external not in lowered
    # the only addresses are the SVG namespaces (identifiers, never fetched)
    addresses = set(re.findall(r"https?://[^\s\"')]+", page))
    assert addresses <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert "<!DOCTYPE svg" not in page
    assert "<?xml" not in page


def test_one_chart_per_feature_with_unique_ids(page: str) -> None:
    assert page.count("<svg") == 3
    assert page.count("</svg>") == 3
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    for ref in re.findall(r'(?:url\(#|href="#)([^)"]+)', page):
        assert ref in ids


def test_drifted_features_come_first(page: str) -> None:
    table = page[page.index('id="summary"') : page.index('id="quality"')]
    assert table.index(">age<") < table.index(">city<")
    assert table.index(">age<") < table.index("&lt;b&gt;&amp;income")
    assert '<tr class="drift">' in table


def test_names_from_data_are_escaped(page: str) -> None:
    assert "<b>&" not in page
    assert "&lt;b&gt;&amp;income" in page
    assert MATH in page  # a chart's tick label, as text


def test_the_same_inputs_give_the_same_document(
    run: tuple[drift.DriftResult, baselines.Baseline, Profile], page: str
) -> None:
    result, baseline, profile = run
    again = write_report(result, baseline, profile, title="churn drift", window="2024-05-01 13:00")
    assert again == page


def test_verdict_and_samples(page: str) -> None:
    assert '<span class="badge drift">DRIFT</span>' in page
    assert "churn drift" in page
    assert "2024-05-01 13:00" in page
    assert "400 rows in the window · 400 in the baseline" in page


def test_violations_and_problems(page: str) -> None:
    quality = page[page.index('id="quality"') : page.index('id="charts"')]
    assert "data_type_check" in quality
    assert "completeness_check" in quality
    assert "type:age" in quality
    assert "s3://bucket/capture/part-0.jsonl:5: age is &#x27;abc&#x27;, not a number" in quality


def test_no_drift_and_insufficient_data() -> None:
    rng = np.random.default_rng(1)
    reference = _chunk("train.csv", {"x": _numbers(rng.normal(0, 1, 200))})
    baseline = baselines.from_profile(Profile().add_all([reference]))
    same = Profile(kinds=baseline.kinds(), expected=["x"])
    same.add(_chunk("w.csv", {"x": _numbers(rng.normal(0, 1, 200))}))
    ok = drift.compare(baseline, same, drift.Settings(min_samples=10))
    page = write_report(ok, baseline, same, title="t")
    assert ok.verdict == "no drift"
    assert '<span class="badge ok">NO DRIFT</span>' in page
    assert "No constraint violations." in page

    few = Profile(kinds=baseline.kinds(), expected=["x"])
    few.add(_chunk("w.csv", {"x": ["1.0", "2.0"]}))
    insufficient = drift.compare(baseline, few, drift.Settings(min_samples=10))
    page = write_report(insufficient, baseline, few, title="t")
    assert '<span class="badge insufficient">INSUFFICIENT DATA</span>' in page
    assert page.count("<svg") == 1


def test_a_feature_without_current_values_still_gets_a_chart() -> None:
    reference = _chunk("train.csv", {"x": ["1", "2", "3"], "c": ["a", "b", "a"]})
    baseline = baselines.from_profile(Profile().add_all([reference]))
    empty = Profile(kinds=baseline.kinds(), expected=["x", "c"])
    result = drift.compare(baseline, empty, drift.Settings(min_samples=10))
    page = write_report(result, baseline, empty, title="t")
    assert page.count("<svg") == 2
    assert page.count("no values in the window") == 2
