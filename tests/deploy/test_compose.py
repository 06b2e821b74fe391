"""docker-compose.yml: valid against the Compose specification, and wired as the README says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
Tool = Callable[..., CompletedProcess[str]]
LONG_RUNNING = ("kafka", "postgres", "api", "worker", "prometheus", "grafana")
# Started only with `docker compose --profile connectors up -d`.
CONNECTORS = ("connector-tickets",)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def validate(tool: Tool, path: Path) -> CompletedProcess[str]:
    return tool("check-jsonschema", "--builtin-schema", "vendor.compose-spec", path)


def test_compose_file_matches_the_compose_specification(tool: Tool) -> None:
    result = validate(tool, COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_does_reject_a_broken_file(tool: Tool, compose: dict[str, Any], tmp_path: Path) -> None:
    """Guards the guard: a misspelt key must fail, or the check above proves nothing."""
    broken = dict(compose)
    broken["services"] = dict(compose["services"])
    broken["services"]["api"] = {**compose["services"]["api"], "helthcheck": {"test": ["CMD", "true"]}}
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken, allow_unicode=True))
    result = validate(tool, path)
    assert result.returncode != 0 and "helthcheck" in result.stdout + result.stderr


def test_services_and_images(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"kafka", "postgres", "migrate", "api", "worker", "prometheus", "grafana", *CONNECTORS}
    assert services["kafka"]["image"].startswith("apache/kafka:3.")
    assert services["postgres"]["image"] == "postgres:16"
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    assert services["grafana"]["image"].startswith("grafana/grafana:")
    for name in ("migrate", "api", "worker", *CONNECTORS):
        assert services[name]["build"]["context"] == "."
        assert services[name]["image"] == "hypercare:local"
    assert services["migrate"]["command"] == ["hypercare", "db", "upgrade"]
    assert services["api"]["command"] == ["hypercare", "api"]
    assert services["worker"]["command"] == ["hypercare", "worker"]
    for name in services:
        assert ":latest" not in services[name]["image"], f"{name}: pin the image version"


def test_published_ports(compose: dict[str, Any]) -> None:
    published = {name: service.get("ports", []) for name, service in compose["services"].items()}
    assert published == {
        "kafka": [],
        "postgres": [],
        "migrate": [],
        "worker": [],
        "connector-tickets": [],
        "api": ["8000:8000"],
        "prometheus": ["9090:9090"],
        "grafana": ["3000:3000"],
    }


def test_kafka_is_a_single_kraft_node_reachable_as_kafka_9092(compose: dict[str, Any]) -> None:
    env = compose["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "PLAINTEXT://:9092" in env["KAFKA_LISTENERS"] and "CONTROLLER://:9093" in env["KAFKA_LISTENERS"]
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 1


def test_hypercare_settings(compose: dict[str, Any]) -> None:
    for name in ("migrate", "api", "worker"):
        env = compose["services"][name]["environment"]
        assert env["HYPERCARE_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["HYPERCARE_DATABASE_URL"].startswith("postgresql+asyncpg://hypercare:")
        assert env["HYPERCARE_DATABASE_URL"].endswith("@postgres:5432/hypercare")
        assert env["HYPERCARE_TOPIC_REPLICATION"] == "1"  # one broker
    partitions = int(compose["services"]["worker"]["environment"]["HYPERCARE_TOPIC_PARTITIONS"])
    assert 1 <= compose["services"]["worker"]["deploy"]["replicas"] <= partitions
    assert compose["services"]["worker"]["deploy"]["replicas"] == 2


def test_sign_in_with_the_identity_provider_comes_from_the_environment(compose: dict[str, Any]) -> None:
    """The API reads the OIDC settings from the environment or .env (empty issuer: sign-in by token); the client
    secret is never written in the file."""
    env = compose["services"]["api"]["environment"]
    for name in ("HYPERCARE_OIDC_ISSUER", "HYPERCARE_OIDC_CLIENT_ID", "HYPERCARE_OIDC_CLIENT_SECRET"):
        assert env[name] == f"${{{name}:-}}", name
    assert env["HYPERCARE_PUBLIC_URL"] == "${HYPERCARE_PUBLIC_URL:-http://localhost:8000}"
    for other in ("migrate", "worker"):
        assert "HYPERCARE_OIDC_CLIENT_SECRET" not in compose["services"][other]["environment"]


def test_healthchecks_on_every_long_running_service(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in LONG_RUNNING:
        check = services[name]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert {"interval", "timeout", "retries"} <= set(check), name
        assert services[name]["restart"] == "unless-stopped", name
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"][1]
    # The live picture's readiness (broker, situation store), not /readyz/records: a database outage keeps it up.
    assert any("/readyz'" in part for part in services["api"]["healthcheck"]["test"])
    assert any("6066/healthz" in part for part in services["worker"]["healthcheck"]["test"])
    assert "healthcheck" not in services["migrate"] and services["migrate"]["restart"] == "no"


def test_start_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    expected = {
        "kafka": "service_healthy",
        "postgres": "service_healthy",
        "migrate": "service_completed_successfully",
    }
    for name in ("api", "worker"):
        depends = {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}
        assert depends == expected, name
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["grafana"]["depends_on"] == {"prometheus": {"condition": "service_healthy"}}


def test_monitoring_mounts_exist(compose: dict[str, Any]) -> None:
    for name in ("prometheus", "grafana"):
        for volume in compose["services"][name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"
    prometheus = compose["services"]["prometheus"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    mounted = {volume.split(":")[1] for volume in prometheus["volumes"]}
    assert {"/etc/prometheus/prometheus.yml", "/etc/prometheus/alerts.yml"} <= mounted
    for volume in compose["volumes"]:
        assert any(volume in str(v) for s in compose["services"].values() for v in s.get("volumes", []))


def test_the_ticket_connector_runs_only_with_its_profile_and_reads_its_secrets_from_the_environment(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    connector = services["connector-tickets"]
    assert connector["profiles"] == ["connectors"]
    for name in set(services) - set(CONNECTORS):  # `docker compose up -d` without the profile starts no connector
        assert "profiles" not in services[name], name
    assert connector["command"] == ["hypercare", "connector", "run", "tickets"]
    assert "deploy" not in connector  # one replica: one cursor per source
    env = connector["environment"]
    # To the API by its service name and port; no database, no broker: the cursor is kept through the API.
    api_port = services["api"]["ports"][0].rsplit(":", 1)[1]
    assert env["HYPERCARE_CONNECTOR_API_URL"] == f"http://api:{api_port}"
    assert not {"HYPERCARE_DATABASE_URL", "HYPERCARE_KAFKA_BOOTSTRAP"} & set(env)
    for name in (
        "HYPERCARE_CONNECTOR_TOKEN",
        "HYPERCARE_SERVICENOW_URL",
        "HYPERCARE_SERVICENOW_USER",
        "HYPERCARE_SERVICENOW_PASSWORD",
        "HYPERCARE_SERVICENOW_CLIENT_ID",
        "HYPERCARE_SERVICENOW_CLIENT_SECRET",
    ):
        assert env[name] == f"${{{name}:-}}", name  # never written in the file
    assert connector["depends_on"] == {"api": {"condition": "service_healthy"}}
    assert connector["restart"] == "unless-stopped"
    assert connector["healthcheck"] == {"disable": True}  # the image's HEALTHCHECK probes the API's port
    # The API has the mapping in force and its pseudonym key from the environment too.
    api = services["api"]["environment"]
    for name in ("HYPERCARE_SOURCE_MAPPINGS", "HYPERCARE_PSEUDONYM_KEY"):
        assert api[name] == f"${{{name}:-}}", name
    for other in ("migrate", "worker", "api"):
        assert "HYPERCARE_SERVICENOW_PASSWORD" not in services[other]["environment"]
