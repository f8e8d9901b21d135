"""The drift report people look at: one self-contained HTML document.

A header with the verdict, a table of every feature (drifted first), a chart per feature (the
baseline's distribution and the window's, as shares, overlaid) and the data-quality findings.
Charts are inline SVG drawn by matplotlib (imported only when a report is written, with no
global state touched: a ``Figure`` of its own, settings in an ``rc_context``); nothing refers to
anything outside the document, so it opens offline.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from components.config import P_VALUE_METHODS
from pipelines.monitoring.baseline import Baseline, CategoricalBaseline, NumericBaseline
from pipelines.monitoring.drift import DriftResult, FeatureResult
from pipelines.monitoring.profile import Profile
from pipelines.monitoring.summaries import OTHER, CategoricalSummary, NumericSummary

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NUMERIC_BINS = 20
TOP_CATEGORIES = 20
"""Categories charted (by baseline share); the rest are one ``(other)`` bar."""
LABEL_CHARS = 18
"""Category labels longer than this are cut (with …) under the chart."""
MESSAGES_SHOWN = 5

BASELINE_COLOUR = "#4c72b0"
CURRENT_COLOUR = "#dd8452"

METHOD_LABEL = {
    "wasserstein": "Wasserstein distance (÷ baseline std)",
    "psi": "PSI",
    "ks": "KS test p-value",
    "jensen_shannon": "Jensen-Shannon distance",
    "chi_square": "chi-square test p-value",
}

_RC: Any = {  # Any: matplotlib types rc_context's keys as a Literal of every rcParam
    "svg.fonttype": "none",
    "svg.hashsalt": "mlops-drift-report",
    "text.parse_math": False,
    "text.usetex": False,
    "font.size": 9,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
}
"""``svg.fonttype: none``: text as text (small, selectable); names and values from data are
never read as mathtext or TeX."""


def write_report(
    result: DriftResult,
    baseline: Baseline,
    profile: Profile,
    *,
    title: str,
    window: str | None = None,
) -> str:
    """The report of ``result`` (``profile`` against ``baseline``) as one HTML document."""
    import matplotlib

    features = result.sorted_features()
    anchors = {f.name: f"feature-{i}" for i, f in enumerate(features)}
    with matplotlib.rc_context(_RC):
        charts = [
            _chart_section(f, anchors[f.name], i, baseline, profile) for i, f in enumerate(features)
        ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        _header(result, baseline, title, window, anchors),
        _summary(features, anchors),
        _quality(result),
        '<section id="charts">',
        "<h2>Distributions</h2>",
        '<p class="note">Shares of each sample (not counts), so windows of any size compare '
        "with the baseline. "
        f'<span class="swatch" style="background:{BASELINE_COLOUR}"></span> baseline '
        f'<span class="swatch" style="background:{CURRENT_COLOUR}"></span> current window</p>',
        *charts,
        "</section>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------------------- html


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if not math.isfinite(value):
        return "∞" if value > 0 else "−∞" if value < 0 else "NaN"
    if value == 0:
        return "0"
    return f"{value:.4g}"


def _condition(f: FeatureResult) -> str:
    """When the feature counts as drifted, e.g. ``p < 0.05`` or ``≥ 0.1``."""
    if f.method in P_VALUE_METHODS:
        return f"p < {_number(f.threshold)}"
    return f"≥ {_number(f.threshold)}"


def _method(f: FeatureResult) -> str:
    return METHOD_LABEL.get(str(f.method), str(f.method))


def _status_class(status: str) -> str:
    return {
        "drifted": "drift",
        "ok": "ok",
        "insufficient data": "insufficient",
        "no data": "insufficient",
        "disabled": "disabled",
    }.get(status, "insufficient")


def _verdict_class(verdict: str) -> str:
    return {"drift": "drift", "no drift": "ok"}.get(verdict, "insufficient")


def _header(
    result: DriftResult,
    baseline: Baseline,
    title: str,
    window: str | None,
    anchors: dict[str, str],
) -> str:
    verdict = result.verdict
    drifted = result.drifted
    if drifted:
        names = ", ".join(f'<a href="#{anchors[n]}">{_e(n)}</a>' for n in drifted)
        drift_line = f"{len(drifted)} of {len(result.features)} features drifted: {names}"
    else:
        drift_line = f"No feature of {len(result.features)} drifted."
    rows = [
        ("Window", _e(window) if window else "—"),
        (
            "Samples",
            f"{result.samples:,} rows in the window · {result.baseline_samples:,} in the baseline",
        ),
    ]
    if baseline.source:
        rows.append(("Baseline", _e(baseline.source)))
    facts = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    why = ""
    if result.insufficient:
        why = (
            '<p class="note">Too few rows in the window for a verdict: no feature counts as '
            "drifted.</p>"
        )
    return (
        "<header>"
        f"<h1>{_e(title)}</h1>"
        f'<p class="verdict"><span class="badge {_verdict_class(verdict)}">'
        f"{_e(verdict.upper())}</span> {drift_line}</p>"
        f"{why}"
        f'<table class="facts">{facts}</table>'
        "</header>"
    )


def _summary(features: Sequence[FeatureResult], anchors: dict[str, str]) -> str:
    rows = []
    for f in features:
        role = "prediction (output)" if f.role == "output" else "input"
        rows.append(
            f'<tr class="{_status_class(f.status)}">'
            f'<td><a href="#{anchors[f.name]}">{_e(f.name)}</a></td>'
            f"<td>{_e(f.kind)}</td>"
            f"<td>{_e(role)}</td>"
            f"<td>{_e(_method(f))}</td>"
            f'<td class="num">{_e(_number(f.value))}</td>'
            f'<td class="num">{_e(_condition(f))}</td>'
            f'<td class="num">{f.samples:,} / {f.baseline_samples:,}</td>'
            f'<td><span class="badge {_status_class(f.status)}">{_e(f.status)}</span></td>'
            "</tr>"
        )
    return (
        '<section id="summary"><h2>Features</h2>'
        '<table class="grid"><thead><tr><th>Feature</th><th>Kind</th><th>Role</th>'
        "<th>Method</th><th>Value</th><th>Drift when</th><th>Values (window / baseline)</th>"
        "<th>Status</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _quality(result: DriftResult) -> str:
    out = ['<section id="quality"><h2>Data quality</h2>']
    if result.violations:
        rows = "".join(
            f"<tr><td>{_e(v.feature_name) if v.feature_name else '—'}</td>"
            f"<td>{_e(v.constraint_check_type)}</td><td>{_e(v.description)}</td></tr>"
            for v in result.violations
        )
        out.append(
            f"<h3>Constraint violations ({len(result.violations)})</h3>"
            '<table class="grid"><thead><tr><th>Feature</th><th>Check</th><th>Description</th>'
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        out.append("<p>No constraint violations.</p>")
    if result.problems:
        rows_html = []
        for kind, entry in sorted(result.problems.items()):
            count = entry.get("count", 0) if isinstance(entry, dict) else entry
            first = entry.get("first", []) if isinstance(entry, dict) else []
            messages = "".join(f"<li><code>{_e(m)}</code></li>" for m in first[:MESSAGES_SHOWN])
            more = int(count) - min(len(first), MESSAGES_SHOWN)
            if messages and more > 0:
                messages += f'<li class="more">… and {more:,} more</li>'
            rows_html.append(
                f'<tr><td>{_e(kind)}</td><td class="num">{int(count):,}</td>'
                f'<td><ul class="messages">{messages}</ul></td></tr>'
            )
        out.append(
            "<h3>Rows skipped or values unreadable</h3>"
            '<table class="grid"><thead><tr><th>Problem</th><th>Count</th>'
            f"<th>First occurrences (file:line)</th></tr></thead><tbody>{''.join(rows_html)}"
            "</tbody></table>"
        )
    else:
        out.append("<p>No rows skipped and no unreadable values.</p>")
    out.append("</section>")
    return "".join(out)


def _chart_section(
    f: FeatureResult, anchor: str, index: int, baseline: Baseline, profile: Profile
) -> str:
    svg = _chart(f, baseline, profile)
    status = _status_class(f.status)
    return (
        f'<figure id="{anchor}" class="chart {status}">'
        f'<figcaption><span class="badge {status}">{_e(f.status)}</span> '
        f"<strong>{_e(f.name)}</strong> · {_e(f.kind)}"
        f"{' · prediction (model output)' if f.role == 'output' else ''}"
        f" · {f.samples:,} values in the window, {f.baseline_samples:,} in the baseline"
        "</figcaption>"
        f"{_inline_svg(svg, f'c{index}-')}"
        "</figure>"
    )


# ----------------------------------------------------------------------------- charts


def _chart(f: FeatureResult, baseline: Baseline, profile: Profile) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.4, 2.7), layout="constrained")
    ax = fig.subplots()
    ax.set_title(f"{_method(f)} = {_number(f.value)}   (drift when {_condition(f)})", loc="left")
    ax.set_ylabel("share")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ref_num = baseline.numeric.get(f.name)
    ref_cat = baseline.categorical.get(f.name)
    if ref_num is not None:
        _numeric_chart(ax, ref_num, profile.numeric.get(f.name))
    elif ref_cat is not None:
        _categorical_chart(ax, ref_cat, profile.categorical.get(f.name))
    return _svg(fig)


def _numeric_chart(ax: Any, ref: NumericBaseline, cur: NumericSummary | None) -> None:
    values, weights = cur.weighted_sample() if cur is not None else (np.empty(0), np.empty(0))
    bounds = [ref.minimum, ref.maximum]
    if cur is not None and cur.present:
        bounds += [cur.minimum, cur.maximum]
    for sample in (ref.values, values):
        if sample.size:
            bounds += [float(sample.min()), float(sample.max())]
    finite = [b for b in bounds if b is not None and math.isfinite(b)]
    if not finite:
        _empty(ax, "no values in the baseline or the window")
        return
    low, high = min(finite), max(finite)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, NUMERIC_BINS + 1)
    drawn = False
    for label, sample, w, colour in (
        ("baseline", ref.values, ref.weights, BASELINE_COLOUR),
        ("current", values, weights, CURRENT_COLOUR),
    ):
        if not sample.size:
            continue
        counts, _ = np.histogram(sample, bins=edges, weights=w)
        total = counts.sum()
        shares = counts / total if total else counts
        ax.stairs(shares, edges, fill=True, alpha=0.45, color=colour, label=label)
        ax.stairs(shares, edges, color=colour, linewidth=1.2)
        drawn = True
    if not values.size:
        _note_no_window_values(ax)
    if drawn:
        ax.set_ylim(bottom=0)
        _legend(ax)


def _categorical_chart(ax: Any, ref: CategoricalBaseline, cur: CategoricalSummary | None) -> None:
    ranked = sorted(
        ((v, n) for v, n in ref.counts.items() if v != OTHER), key=lambda kv: (-kv[1], kv[0])
    )
    shown = [v for v, _ in ranked[:TOP_CATEGORIES]]
    current = cur.counts if cur is not None else {}
    ref_other = sum(n for v, n in ref.counts.items() if v not in shown)
    cur_other = sum(n for v, n in current.items() if v not in shown)
    labels = [_cut(v) for v in shown]
    ref_counts = [ref.counts[v] for v in shown]
    cur_counts = [current.get(v, 0) for v in shown]
    if ref_other or cur_other:
        labels.append("(other)")
        ref_counts.append(ref_other)
        cur_counts.append(cur_other)
    if not labels:
        _empty(ax, "no values in the baseline or the window")
        return
    x = np.arange(len(labels))
    width = 0.4
    for offset, label, counts, colour in (
        (-width / 2, "baseline", ref_counts, BASELINE_COLOUR),
        (width / 2, "current", cur_counts, CURRENT_COLOUR),
    ):
        total = sum(counts)
        shares = [c / total for c in counts] if total else [0.0] * len(counts)
        ax.bar(x + offset, shares, width, color=colour, label=label)
    if not current:
        _note_no_window_values(ax)
    ax.set_xticks(
        x,
        labels,
        rotation=35 if len(labels) > 6 else 0,
        ha="right" if len(labels) > 6 else "center",
    )
    _legend(ax)


def _legend(ax: Any) -> None:
    """Above the plot, right of the title: never over the bars."""
    ax.legend(
        loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False, borderaxespad=0.2
    )


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _note_no_window_values(ax: Any) -> None:
    ax.text(
        0.99,
        0.95,
        "no values in the window",
        transform=ax.transAxes,
        ha="right",
        va="top",
        color="#666666",
    )


def _empty(ax: Any, message: str) -> None:
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", color="#666666")
    ax.set_xticks([])
    ax.set_yticks([])


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(
        buffer,
        format="svg",
        metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
    )
    fig.clear()
    return buffer.getvalue()


_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]+)')


def _inline_svg(svg: str, prefix: str) -> str:
    """An SVG file as an element of the page: no XML prolog or doctype, and ids made unique
    to the chart (matplotlib numbers them per figure: ``patch_1``, ``axes_1``, …)."""
    start = svg.find("<svg")
    body = svg[start:].strip()
    body = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', body)
    body = _REF.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", body)
    return body.replace("<svg ", '<svg role="img" ', 1)


_CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial,
  sans-serif; color: #1d2327; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 24px; margin: 0 0 8px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #dde1e4; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
a { color: #1f5fa8; }
.note { color: #555; }
.verdict { font-size: 16px; margin: 8px 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  font-weight: 600; white-space: nowrap; border: 1px solid transparent; }
.verdict .badge { font-size: 15px; padding: 3px 12px; margin-right: 6px; }
.badge.drift { background: #c62828; color: #fff; }
.badge.ok { background: #2e7d32; color: #fff; }
.badge.insufficient { background: #f2c037; color: #3a2d00; }
.badge.disabled { background: #e0e0e0; color: #444; }
table { border-collapse: collapse; }
.facts th { text-align: left; padding: 2px 16px 2px 0; color: #555; font-weight: 600; }
.facts td { padding: 2px 0; }
.grid { width: 100%; font-size: 13px; }
.grid th, .grid td { border: 1px solid #dde1e4; padding: 4px 8px; text-align: left;
  vertical-align: top; }
.grid thead th { background: #f3f5f7; }
.grid td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.grid tr.drift td { background: #fdecea; }
.grid tr.drift td:first-child { border-left: 4px solid #c62828; font-weight: 600; }
.grid tr.disabled td { color: #777; }
.messages { margin: 0; padding-left: 18px; }
.messages code { font-size: 12px; word-break: break-all; }
.messages .more { color: #666; list-style: none; }
.swatch { display: inline-block; width: 12px; height: 12px; vertical-align: -1px;
  border-radius: 2px; }
figure.chart { margin: 16px 0; padding: 8px 12px; border: 1px solid #dde1e4;
  border-radius: 6px; }
figure.chart.drift { border-left: 4px solid #c62828; }
figure.chart figcaption { margin-bottom: 4px; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
"""
