"""Prometheus configuration and alerting rules, checked by promtool (Debian package `prometheus`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import yaml
from promql import all_exprs

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "dashboards" / "prometheus"
Tool = Callable[..., CompletedProcess[str]]


def ok(result: CompletedProcess[str]) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def test_promtool_checks_the_scrape_config(tool: Tool) -> None:
    output = ok(tool("promtool", "check", "config", PROMETHEUS_DIR / "prometheus.yml"))
    assert "SUCCESS" in output


def test_promtool_checks_the_alerting_rules(tool: Tool) -> None:
    output = ok(tool("promtool", "check", "rules", PROMETHEUS_DIR / "alerts.yml"))
    assert "SUCCESS" in output


def test_alerting_rules_behave_as_intended(tool: Tool) -> None:
    """tests/deploy/alerts_test.yml feeds series and states which alerts fire, and when."""
    ok(tool("promtool", "test", "rules", "alerts_test.yml", cwd=Path(__file__).parent))


def test_every_dashboard_query_is_valid_promql(tool: Tool, tmp_path: Path) -> None:
    """Grafana's variables replaced by plain values, each panel query must parse as PromQL."""
    rules = []
    for source, exprs in all_exprs(REPO).items():
        if not source.endswith(".json"):
            continue
        for index, expr in enumerate(exprs):
            plain = re.sub(r"\$__(rate_interval|interval|range)\b", "5m", expr)
            plain = re.sub(r"\$\{[^}]*\}|\[\[[^\]]*\]\]|\$[A-Za-z_]\w*", "x", plain)
            rules.append({"record": f"dashboard:{Path(source).stem.replace('-', '_')}:{index}", "expr": plain})
    assert len(rules) > 20
    path = tmp_path / "dashboard_queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, allow_unicode=True))
    ok(tool("promtool", "check", "rules", path))


def test_alert_rules_are_documented_and_labelled() -> None:
    document = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text(encoding="utf-8"))
    alerts = [rule for group in document["groups"] for rule in group["rules"]]
    names = [rule["alert"] for rule in alerts]
    assert len(names) == len(set(names))
    for rule in alerts:
        assert rule["alert"].startswith("Hypercare")
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
    # The situations the coordination group asked to be told about, and the system's own failures.
    expected = {
        "HypercareLoginFailureRateHigh",
        "HypercarePriorityOneTicketsOpen",
        "HypercareEdDiversionActive",
        "HypercareUnitRed",
        "HypercareDeadLetters",
        "HypercareConsumerLagHigh",
        "HypercareApiDown",
        "HypercareNoApiUp",
        "HypercareWorkerDown",
        "HypercareNoWorkerUp",
    }
    assert expected <= set(names)


def test_scrape_jobs_match_the_compose_services_and_the_alerts() -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text(encoding="utf-8"))
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert config["rule_files"] == ["alerts.yml"]

    api = jobs["hypercare-api"]
    assert api["static_configs"][0]["targets"] == ["api:8000"]
    # Replicated workers: discovered through Docker's DNS, one A record per replica, on the worker port.
    (worker_sd,) = jobs["hypercare-worker"]["dns_sd_configs"]
    assert worker_sd == {"names": ["worker"], "type": "A", "port": 6066, "refresh_interval": "15s"}
    assert "worker" in compose["services"] and "api" in compose["services"]
    assert compose["x-hypercare-env"]["HYPERCARE_WORKER_WEB_PORT"] == str(worker_sd["port"])

    for source, exprs in all_exprs(REPO).items():
        for job in re.findall(r'job="([^"]+)"', " ".join(exprs)):
            assert job in jobs, f"{source} selects job {job!r}, which prometheus.yml does not scrape"
