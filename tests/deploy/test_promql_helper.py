"""The PromQL metric-name extraction in tests/_support/promql.py, on the awkward cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from promql import (
    catalogue_series_names,
    metric_names_in_dashboards,
    metric_names_in_expr,
    metric_names_in_template_query,
)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("up", {"up"}),
        ('up{job="hypercare-api"} == 0', {"up"}),
        ("sum by (administration) (hypercare_open_tickets)", {"hypercare_open_tickets"}),
        ("sum(hypercare_open_tickets) by (administration, priority)", {"hypercare_open_tickets"}),
        ("max without (instance, job) (hypercare_logins_15m)", {"hypercare_logins_15m"}),
        (
            "histogram_quantile(0.99, sum by (le) (rate(hypercare_produce_latency_seconds_bucket[$__rate_interval])))",
            {"hypercare_produce_latency_seconds_bucket"},
        ),
        # Label names and values, including ones that look like metrics or contain braces.
        (
            'hypercare_open_tickets{administration=~"Södra Älvsborgs Sjukhus|x{1}", priority!="1", le="0.5"}',
            {"hypercare_open_tickets"},
        ),
        # Vector matching clauses hold label lists.
        (
            "a_metric / on (instance) group_left (administration, priority) b_metric",
            {"a_metric", "b_metric"},
        ),
        ("a_metric * ignoring(status) group_right() b_metric", {"a_metric", "b_metric"}),
        # Keywords, bool modifier, set operators, numbers and durations.
        (
            "a_metric > bool 0.5 and b_metric unless c_metric or d_metric",
            {"a_metric", "b_metric", "c_metric", "d_metric"},
        ),
        ("rate(x_total[5m] offset 1h30m) > Inf", {"x_total"}),
        ("x_total @ start() - x_total offset -5m", {"x_total"}),
        ("1e3 * 0x1F + .5 - NaN", set()),
        # Subqueries, Grafana variables of every form.
        ("max_over_time(rate(x_total[1m])[1h:5m])", {"x_total"}),
        ("increase(x_total[$__range]) / ${factor} + [[legacy]] * $var", {"x_total"}),
        # Strings in function arguments, comments, __name__ selectors.
        ('label_replace(x_metric, "dst", "$1", "src_metric", "(.*)")', {"x_metric"}),
        ('count_values("version", build_info)', {"build_info"}),
        ("topk(5, x_metric) # not_a_metric here\n + y_metric", {"x_metric", "y_metric"}),
        ('{__name__="hypercare_active_diversions", job="hypercare-api"}', {"hypercare_active_diversions"}),
        ('{__name__=~"hypercare_.*"}', set()),
        ('absent(up{job="hypercare-worker"} == 1)', {"up"}),
        # Recording-rule style names with colons.
        ("job:hypercare_events:rate5m", {"job:hypercare_events:rate5m"}),
        # An aggregation name used with "by" first is not a metric.
        ("count by (status) (hypercare_units_by_health)", {"hypercare_units_by_health"}),
    ],
)
def test_metric_names_in_expr(expr: str, expected: set[str]) -> None:
    assert metric_names_in_expr(expr) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("label_values(hypercare_open_tickets, administration)", {"hypercare_open_tickets"}),
        ('label_values(hypercare_open_tickets{priority="1"}, administration)', {"hypercare_open_tickets"}),
        ("label_values(administration)", set()),
        ("query_result(topk(3, hypercare_logins_15m))", {"hypercare_logins_15m"}),
        ("label_names()", set()),
        ("metrics(hypercare_.*)", set()),
    ],
)
def test_metric_names_in_template_query(query: str, expected: set[str]) -> None:
    assert metric_names_in_template_query(query) == expected


def test_metric_names_in_dashboards_reads_panels_rows_variables_and_rules(tmp_path: Path) -> None:
    boards = tmp_path / "dashboards" / "grafana" / "dashboards"
    rules = tmp_path / "dashboards" / "prometheus"
    boards.mkdir(parents=True)
    rules.mkdir(parents=True)
    (boards / "a.json").write_text(
        json.dumps(
            {
                "panels": [
                    {"type": "timeseries", "targets": [{"expr": "rate(a_total[5m])"}, {"expr": ""}]},
                    {"type": "row", "collapsed": True, "panels": [{"targets": [{"expr": "b_gauge"}]}]},
                    {"type": "text"},
                ],
                "templating": {
                    "list": [
                        {"type": "query", "query": {"query": "label_values(c_gauge, administration)"}},
                        {"type": "datasource", "query": "prometheus"},
                    ]
                },
            }
        )
    )
    (rules / "alerts.yml").write_text("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: d_gauge > 1\n")
    (rules / "prometheus.yml").write_text("scrape_configs: []\n")
    assert metric_names_in_dashboards(tmp_path) == {
        "dashboards/grafana/dashboards/a.json": {"a_total", "b_gauge", "c_gauge"},
        "dashboards/prometheus/alerts.yml": {"d_gauge"},
    }


def test_catalogue_series_names_expands_counters_and_histograms() -> None:
    import types

    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

    registry = CollectorRegistry()
    module = types.ModuleType("fake_metrics")
    module.C = Counter("fake_things_total", "c", ["kind"], registry=registry)  # type: ignore[attr-defined]
    module.G = Gauge("fake_level", "g", registry=registry)  # type: ignore[attr-defined]
    module.H = Histogram("fake_seconds", "h", registry=registry)  # type: ignore[attr-defined]
    module.NOT_A_METRIC = "fake_other"  # type: ignore[attr-defined]
    assert catalogue_series_names(module) == {
        "fake_things_total",
        "fake_level",
        "fake_seconds_bucket",
        "fake_seconds_sum",
        "fake_seconds_count",
    }
