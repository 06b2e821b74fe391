"""Grafana dashboards and provisioning: plain JSON Grafana can load, and only metrics Hypercare exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from promql import catalogue_series_names, metric_names_in_dashboards

import hypercare.observability.metrics as metrics_module

REPO = Path(__file__).resolve().parents[2]
BOARDS = REPO / "dashboards" / "grafana" / "dashboards"
PROVISIONING = REPO / "dashboards" / "grafana" / "provisioning"
EXPECTED_BOARDS = {"golive-overview.json", "system-health.json"}
ALLOWED_EXTRA = {"up"}  # Prometheus' own scrape health series


def load(name: str) -> dict[str, Any]:
    return json.loads((BOARDS / name).read_text(encoding="utf-8"))


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    stack = list(board.get("panels", []))
    while stack:
        panel = stack.pop(0)
        found.append(panel)
        stack.extend(panel.get("panels", []))
    return found


def test_the_two_dashboards_exist() -> None:
    assert {path.name for path in BOARDS.glob("*.json")} == EXPECTED_BOARDS


def test_every_metric_on_a_dashboard_or_in_an_alert_is_in_the_catalogue() -> None:
    exported = catalogue_series_names(metrics_module) | ALLOWED_EXTRA
    referenced = metric_names_in_dashboards(REPO)
    assert set(referenced) >= {
        "dashboards/grafana/dashboards/golive-overview.json",
        "dashboards/grafana/dashboards/system-health.json",
        "dashboards/prometheus/alerts.yml",
    }
    unknown = {source: sorted(names - exported) for source, names in referenced.items() if names - exported}
    assert not unknown, f"metrics not defined in hypercare/observability/metrics.py: {unknown}"
    for source, names in referenced.items():
        assert names, f"{source}: no metric found (extraction broken?)"


def test_every_catalogue_metric_is_shown_somewhere() -> None:
    """A metric nobody can see is dead weight; add a panel (or drop the metric) when this fails."""
    exported_bases = set()
    for value in vars(metrics_module).values():
        name = getattr(value, "_name", None)
        kind = getattr(value, "_type", None)
        if isinstance(name, str) and kind:
            exported_bases.add((name, kind))
    shown = set().union(*metric_names_in_dashboards(REPO).values())
    missing = []
    for name, kind in sorted(exported_bases):
        series = {"counter": [f"{name}_total"], "histogram": [f"{name}_bucket", f"{name}_sum", f"{name}_count"]}
        if not any(candidate in shown for candidate in series.get(kind, [name])):
            missing.append(name)
    assert not missing, f"metrics on no dashboard and in no alert: {missing}"


@pytest.mark.parametrize("name", sorted(EXPECTED_BOARDS))
def test_dashboard_is_plain_provisionable_json(name: str) -> None:
    board = load(name)
    assert board["schemaVersion"] >= 36
    assert board["uid"].startswith("hypercare-") and len(board["uid"]) <= 40
    assert board["title"].startswith("Hypercare")
    assert board.get("id") is None, "provisioned dashboards must not carry a database id"
    assert "__inputs" not in board and "__requires" not in board, (
        "an export 'for sharing' needs import, not provisioning"
    )
    assert board["timezone"] == "Europe/Stockholm"
    variables = {variable["name"]: variable for variable in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"

    ids = [panel["id"] for panel in panels(board)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels(board):
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        assert panel["title"].strip()
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], f"{panel['title']}: no query"
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip()
            assert target["datasource"] == panel["datasource"]


def test_dashboards_have_distinct_uids() -> None:
    uids = [load(name)["uid"] for name in EXPECTED_BOARDS]
    assert len(set(uids)) == len(uids)


def test_go_live_overview_shows_what_the_viewers_need() -> None:
    exprs = " ".join(
        target["expr"] for panel in panels(load("golive-overview.json")) for target in panel.get("targets", [])
    )
    for metric in (
        "hypercare_open_tickets",
        "hypercare_login_failure_rate",
        "hypercare_floorwalkers_on_duty",
        "hypercare_active_diversions",
        "hypercare_units_by_health",
        "hypercare_events_ingested_total",
    ):
        assert metric in exprs, metric
    # The go-live gauges are the same on every API replica: never summed across instances directly.
    for panel in panels(load("golive-overview.json")):
        for target in panel.get("targets", []):
            expr = target["expr"]
            if "hypercare_events_ingested_total" not in expr:
                assert expr.startswith(("max", "sum(max", "sum by (administration) (max")), expr


def test_grafana_provisioning_matches_the_compose_mounts() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    volumes = compose["services"]["grafana"]["volumes"]
    mounts = {volume.split(":")[0]: volume.split(":")[1] for volume in volumes if volume.startswith("./")}
    assert mounts["./dashboards/grafana/provisioning"] == "/etc/grafana/provisioning"
    dashboards_mount = mounts["./dashboards/grafana/dashboards"]

    provider = yaml.safe_load((PROVISIONING / "dashboards" / "hypercare.yml").read_text(encoding="utf-8"))
    assert provider["apiVersion"] == 1
    (only,) = provider["providers"]
    assert only["type"] == "file" and only["options"]["path"] == dashboards_mount

    home = compose["services"]["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{dashboards_mount}/golive-overview.json"

    datasources = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text(encoding="utf-8"))
    (prometheus,) = datasources["datasources"]
    assert prometheus["type"] == "prometheus" and prometheus["uid"] == "prometheus"
    assert prometheus["url"] == "http://prometheus:9090" and prometheus["isDefault"] is True
    for name in EXPECTED_BOARDS:
        current = next(v for v in load(name)["templating"]["list"] if v["name"] == "datasource")["current"]
        assert current["value"] == prometheus["uid"]
