"""``endpoints[].monitoring``: its defaults, the drift-window parser, the method table the drift
engine reads (``components.config``) and every refusal, naming the YAML path, the value and
what is allowed. No mocks needed."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import (
    AUTO_METHODS,
    AUTO_REFERENCE_ROWS,
    DEFAULT_THRESHOLD,
    METHOD_KIND,
    P_VALUE_METHODS,
    ConfigError,
    DriftMethod,
    EndpointMonitoringConfig,
    FeatureMonitoringConfig,
    auto_method,
    drift_method,
    duration_seconds,
    is_drifted,
    parse_environment,
    threshold_problem,
)

SOURCE = "stacks/Pulumi.staging.yaml"
BASE: dict[str, Any] = {"environment": "staging", "owner": "ml-platform", "cost_centre": "cc-1"}


def _with(monitoring: dict[str, Any], **endpoint: Any) -> dict[str, Any]:
    return {**BASE, "endpoints": [{"name": "churn", **endpoint, "monitoring": monitoring}]}


def refuse(raw: Any) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_environment(raw, source=SOURCE)
    assert str(err.value).startswith(f"{SOURCE}: invalid configuration")
    return err.value.problems


# ---------------------------------------------------------------------- defaults


def test_monitoring_is_off_by_default_with_documented_defaults() -> None:
    m = EndpointMonitoringConfig()
    assert m.model_dump() == {
        "enabled": False,
        "window": 3600,
        "metric": DriftMethod.AUTO,
        "threshold": None,
        "min_samples": 100,
        "alarm_windows": 1,
        "features": {},
        "instance_type": "ml.m5.xlarge",
        "max_runtime_seconds": 3600,
    }
    assert m.window_seconds == 3600
    config = parse_environment({**BASE, "endpoints": [{"name": "churn"}]}, source=SOURCE)
    assert config.endpoints[0].monitoring == m


def test_a_monitored_endpoint_parses_from_yaml_values() -> None:
    config = parse_environment(
        _with(
            {
                "enabled": True,
                "window": "15m",
                "metric": "psi",
                "threshold": 0.25,
                "min_samples": 50,
                "alarm_windows": 3,
                "features": {
                    "region_code": {"kind": "categorical"},
                    "age": {"metric": "ks", "threshold": 0.01},
                    "id": {"enabled": False},
                },
                "instance_type": "ml.c5.2xlarge",
                "max_runtime_seconds": 900,
            }
        ),
        source=SOURCE,
    )
    m = config.endpoints[0].monitoring
    assert (m.enabled, m.window_seconds, m.metric, m.threshold) == (
        True,
        900,
        DriftMethod.PSI,
        0.25,
    )
    assert (m.min_samples, m.alarm_windows, m.instance_type, m.max_runtime_seconds) == (
        50,
        3,
        "ml.c5.2xlarge",
        900,
    )
    assert m.features["region_code"].effective_kind == "categorical"
    assert m.features["age"].effective_kind == "numeric"  # the kind ks measures
    assert m.features["id"].enabled is False and m.features["id"].effective_kind is None


# ----------------------------------------------------------------------- windows


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (600, 600),
        (86400, 86400),
        ("10m", 600),
        ("15m", 900),
        ("1h", 3600),
        ("2h30m", 9000),
        ("90m", 5400),
        ("1d", 86400),
        ("1h0m0s", 3600),
    ],
)
def test_windows_in_seconds_or_durations(value: Any, seconds: int) -> None:
    assert EndpointMonitoringConfig(window=value).window_seconds == seconds


@pytest.mark.parametrize("value", ["", "1x", "1 h", "h", "-1h", "1.5h", "1H", True, 1.5, None, [1]])
def test_duration_seconds_refuses_what_is_no_duration(value: Any) -> None:
    with pytest.raises(ValueError, match="is not a duration; allowed: seconds"):
        duration_seconds(value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("90x", "'90x' is not a duration; allowed: seconds (an integer) or a duration like 15m"),
        (True, "True is not a duration"),
        (90, "90 (90 s) is not a whole number of minutes"),
        ("5m", "'5m' (300 s) is outside 600-86400 s"),
        ("2d", "'2d' (172800 s) is outside 600-86400 s"),
        (0, "0 (0 s) is outside 600-86400 s"),
    ],
)
def test_a_bad_window_names_the_path_value_and_what_is_allowed(value: Any, fragment: str) -> None:
    (problem,) = refuse(_with({"window": value}))
    assert problem.startswith("mlops:platform.endpoints[0].monitoring.window: ")
    assert fragment in problem
    assert "a multiple of 60 s from 10m (600 s) to 1d (86400 s)" in problem


# ---------------------------------------------------------------- the method table


def test_the_method_table() -> None:
    assert [m.value for m in DriftMethod] == [
        "auto",
        "wasserstein",
        "psi",
        "ks",
        "jensen_shannon",
        "chi_square",
    ]
    assert METHOD_KIND == {
        "wasserstein": "numeric",
        "psi": "numeric",
        "ks": "numeric",
        "jensen_shannon": "categorical",
        "chi_square": "categorical",
    }
    assert DEFAULT_THRESHOLD == {
        "wasserstein": 0.1,
        "psi": 0.1,
        "ks": 0.05,
        "jensen_shannon": 0.1,
        "chi_square": 0.05,
    }
    assert {"ks", "chi_square"} == P_VALUE_METHODS
    assert AUTO_REFERENCE_ROWS == 1000
    assert AUTO_METHODS == {
        "numeric": (DriftMethod.KS, DriftMethod.WASSERSTEIN),
        "categorical": (DriftMethod.CHI_SQUARE, DriftMethod.JENSEN_SHANNON),
    }
    # every default fits its own method; plain names find the entries too
    assert all(threshold_problem(DriftMethod(m), t) is None for m, t in DEFAULT_THRESHOLD.items())
    assert METHOD_KIND["ks"] == METHOD_KIND[DriftMethod.KS]


def test_auto_is_evidentlys_rule() -> None:
    assert auto_method("numeric", 1000) is DriftMethod.KS
    assert auto_method("numeric", 1001) is DriftMethod.WASSERSTEIN
    assert auto_method("categorical", 1000) is DriftMethod.CHI_SQUARE
    assert auto_method("categorical", 1001) is DriftMethod.JENSEN_SHANNON


def test_an_endpoint_metric_applies_to_the_features_of_its_kind_only() -> None:
    assert drift_method("numeric", 5000, metric="psi", threshold=0.2) == (DriftMethod.PSI, 0.2)
    assert drift_method("numeric", 5000, metric="psi") == (DriftMethod.PSI, 0.1)
    # categorical features stay auto, at auto's default (the endpoint's threshold is psi's)
    assert drift_method("categorical", 5000, metric="psi", threshold=0.2) == (
        DriftMethod.JENSEN_SHANNON,
        0.1,
    )
    assert drift_method("categorical", 50, metric="psi") == (DriftMethod.CHI_SQUARE, 0.05)


def test_a_feature_metric_and_threshold_override_the_endpoints() -> None:
    assert drift_method(
        "numeric", 5000, metric="psi", feature_metric="ks", feature_threshold=0.01
    ) == (DriftMethod.KS, 0.01)
    assert drift_method("numeric", 50, metric="psi", feature_metric="wasserstein") == (
        DriftMethod.WASSERSTEIN,
        0.1,
    )
    assert drift_method("numeric", 5000, metric="psi", feature_metric="auto") == (
        DriftMethod.WASSERSTEIN,
        0.1,
    )


def test_p_values_drift_below_the_threshold_distances_at_or_above_it() -> None:
    assert is_drifted(DriftMethod.KS, 0.049, 0.05) and not is_drifted(DriftMethod.KS, 0.05, 0.05)
    assert is_drifted(DriftMethod.CHI_SQUARE, 0.001, 0.05)
    assert is_drifted(DriftMethod.PSI, 0.1, 0.1) and not is_drifted(DriftMethod.PSI, 0.09, 0.1)
    assert is_drifted(DriftMethod.WASSERSTEIN, 2.0, 0.1)
    assert not is_drifted(DriftMethod.JENSEN_SHANNON, 0.05, 0.1)


@pytest.mark.parametrize(
    ("method", "threshold", "fits"),
    [
        ("ks", 0.05, True),
        ("ks", 0.999, True),
        ("ks", 1.0, False),
        ("ks", 0.0, False),
        ("chi_square", 1.5, False),
        ("jensen_shannon", 1.0, True),
        ("jensen_shannon", 1.01, False),
        ("wasserstein", 5.0, True),
        ("psi", 0.0, False),
        ("psi", -0.1, False),
        ("psi", 10.0, True),
    ],
)
def test_threshold_bounds_per_method(method: str, threshold: float, fits: bool) -> None:
    problem = threshold_problem(DriftMethod(method), threshold)
    assert (problem is None) is fits, problem


# ------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("monitoring", "path", "fragment"),
    [
        (
            {"metric": "kl"},
            "monitoring.metric",
            "Input should be 'auto', 'wasserstein', 'psi', 'ks', 'jensen_shannon' or "
            "'chi_square' (got 'kl')",
        ),
        (
            {"metric": "ks", "threshold": 1.5},
            "monitoring.threshold",
            "threshold 1.5 does not fit ks, a p-value (drifted when p < threshold); allowed: "
            "above 0 and below 1 (default 0.05)",
        ),
        (
            {"metric": "jensen_shannon", "threshold": 1.5},
            "monitoring.threshold",
            "allowed: above 0 and at most 1 (default 0.1)",
        ),
        (
            {"metric": "psi", "threshold": -1},
            "monitoring.threshold",
            "threshold -1 does not fit psi, a distance (drifted when the value ≥ threshold); "
            "allowed: above 0 (default 0.1)",
        ),
        ({"threshold": 0.2}, "monitoring.threshold", "threshold 0.2 needs a metric"),
        ({"threshold": True, "metric": "ks"}, "monitoring.threshold", "(got True)"),
        ({"min_samples": 0}, "monitoring.min_samples", "greater than or equal to 1 (got 0)"),
        ({"alarm_windows": 0}, "monitoring.alarm_windows", "greater than or equal to 1"),
        ({"alarm_windows": 25}, "monitoring.alarm_windows", "less than or equal to 24 (got 25)"),
        (
            {"window": "1d", "alarm_windows": 8},
            "monitoring.alarm_windows",
            "alarm_windows 8 × window 86400 s is 691200 s; CloudWatch evaluates at most 604800 s "
            "(7 days); allowed: alarm_windows up to 7 for this window",
        ),
        (
            {"instance_type": "ml.inf2.xlarge"},
            "monitoring.instance_type",
            "instance_type 'ml.inf2.xlarge' is not a SageMaker Processing instance type; "
            "allowed: ml.c4.*",
        ),
        (
            {"instance_type": "m5.xlarge"},
            "monitoring.instance_type",
            "'m5.xlarge' is not a SageMaker Processing instance type",
        ),
        (
            {"max_runtime_seconds": 30},
            "monitoring.max_runtime_seconds",
            "greater than or equal to 60 (got 30)",
        ),
        (
            {"max_runtime_seconds": 90000},
            "monitoring.max_runtime_seconds",
            "less than or equal to 86400",
        ),
        ({"enabled": "yes"}, "monitoring.enabled", "valid boolean (got 'yes')"),
        (
            {"windw": "1h"},
            "monitoring.windw",
            "unknown key 'windw'; did you mean 'window'?",
        ),
        (
            {"features": {"age": {"kind": "numeric", "metric": "chi_square"}}},
            "monitoring.features.age.metric",
            "metric chi_square measures categorical features, and kind is numeric; allowed: "
            "auto, wasserstein, psi, ks",
        ),
        (
            {"features": {"zip": {"kind": "categorical", "metric": "psi"}}},
            "monitoring.features.zip.metric",
            "allowed: auto, jensen_shannon, chi_square",
        ),
        (
            {"features": {"age": {"threshold": 0.3}}},
            "monitoring.features.age.threshold",
            "threshold 0.3 needs a metric",
        ),
        (
            {"features": {"age": {"metric": "ks", "threshold": 0}}},
            "monitoring.features.age.threshold",
            "threshold 0 does not fit ks",
        ),
        (
            {"features": {"age": {"kind": "text"}}},
            "monitoring.features.age.kind",
            "Input should be 'numeric' or 'categorical' (got 'text')",
        ),
        (
            {"features": {"age": {"treshold": 0.1}}},
            "monitoring.features.age.treshold",
            "unknown key 'treshold'; did you mean 'threshold'? (valid keys: enabled, kind, "
            "metric, threshold)",
        ),
        (
            {"features": {"bad\nname": {}}},
            "monitoring.features",
            "features 'bad\\nname': not a feature name; allowed: 1-255 characters",
        ),
    ],
)
def test_a_bad_monitoring_value_names_path_value_and_allowed(
    monitoring: dict[str, Any], path: str, fragment: str
) -> None:
    (problem,) = refuse(_with({"enabled": True, **monitoring}))
    assert problem.startswith(f"mlops:platform.endpoints[0].{path}: "), problem
    assert fragment in problem, problem


@pytest.mark.parametrize(
    ("endpoint", "fragment"),
    [
        ({"data_capture": {"enabled": False}}, "and data_capture.enabled is false"),
        ({"data_capture": {"sampling_percent": 0}}, "and data_capture.sampling_percent is 0"),
    ],
)
def test_monitoring_needs_captured_traffic(endpoint: dict[str, Any], fragment: str) -> None:
    (problem,) = refuse(_with({"enabled": True}, **endpoint))
    assert problem == (
        "mlops:platform.endpoints[0].monitoring.enabled: monitoring.enabled true needs captured "
        f"traffic, {fragment}; allowed: data_capture.enabled true with "
        "data_capture.sampling_percent 1-100, or monitoring.enabled false"
    )
    # off, the same endpoint is fine
    parse_environment(_with({"enabled": False}, **endpoint), source=SOURCE)


def test_monitoring_a_serverless_endpoint_is_refused() -> None:
    serverless = {"instance_type": "ml.m5.large", "allow_cpu": True, "serverless": {}}
    (problem,) = refuse(_with({"enabled": True}, **serverless))
    assert problem.startswith("mlops:platform.endpoints[0].monitoring.enabled: ")
    assert "serverless endpoints lack" in problem


def test_feature_settings_alone() -> None:
    assert FeatureMonitoringConfig().effective_kind is None
    assert FeatureMonitoringConfig(metric="auto").effective_kind is None
    assert FeatureMonitoringConfig(metric="chi_square").effective_kind == "categorical"
    assert FeatureMonitoringConfig(kind="categorical", metric="auto").kind == "categorical"
