"""Kubernetes manifests: every overlay renders with kustomize, validates strictly against the
Kubernetes schemas (offline, kubernetes-validate), and carries the settings the design asks for."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
import yaml

from hypercare.settings import Settings

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
OVERLAYS = sorted(path.name for path in (K8S / "overlays").iterdir() if (path / "kustomization.yaml").exists())
KUBERNETES_VERSION = "1.32.0"  # the oldest minor we support; the schemas ship with kubernetes-validate
Tool = Callable[..., CompletedProcess[str]]
Objects = list[dict[str, Any]]

_rendered: dict[str, str] = {}


def render(tool: Tool, target: str) -> str:
    if target not in _rendered:
        result = tool("kubectl", "kustomize", K8S / target)
        assert result.returncode == 0, result.stderr
        _rendered[target] = result.stdout
    return _rendered[target]


def objects_of(tool: Tool, target: str) -> Objects:
    return [doc for doc in yaml.safe_load_all(render(tool, target)) if doc]


def find(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def config(objects: Objects) -> dict[str, str]:
    maps = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("hypercare-config-")]
    assert len(maps) == 1
    return maps[0]["data"]


def pod_specs(objects: Objects) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o["spec"]["template"]["spec"] for o in objects if o["kind"] == "Deployment"}


def test_there_are_dev_and_prod_overlays() -> None:
    assert {"dev", "prod"} <= set(OVERLAYS)


@pytest.mark.parametrize("target", ["base", *(f"overlays/{name}" for name in OVERLAYS)])
def test_renders_and_validates_strictly(tool: Tool, target: str, tmp_path: Path) -> None:
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(render(tool, target))
    count = len(objects_of(tool, target))
    result = tool("kubernetes-validate", "--strict", "-k", KUBERNETES_VERSION, rendered)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # A kind without a schema (a CRD, a typo in apiVersion) only warns: treat it as a failure.
    assert "WARN" not in output and "ERROR" not in output, output
    assert output.count(" passed for resource ") == count, output


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_lands_in_the_overlay_namespace(tool: Tool, overlay: str) -> None:
    objects = objects_of(tool, f"overlays/{overlay}")
    (namespace,) = [o for o in objects if o["kind"] == "Namespace"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == namespace["metadata"]["name"], obj["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_resources_and_security_on_every_container(tool: Tool, overlay: str) -> None:
    objects = objects_of(tool, f"overlays/{overlay}")
    settings = config(objects)
    ports = {
        "hypercare-api": int(settings["HYPERCARE_PORT"]),
        "hypercare-worker": int(settings["HYPERCARE_WORKER_WEB_PORT"]),
    }
    specs = pod_specs(objects)
    assert set(specs) == set(ports)
    for name, spec in specs.items():
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] != 0
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert spec["automountServiceAccountToken"] is False
        for container in spec["containers"]:
            where = f"{name}/{container['name']}"
            (port,) = container["ports"]
            assert port["containerPort"] == ports[name], where
            probes = {kind: container[kind]["httpGet"] for kind in ("livenessProbe", "readinessProbe", "startupProbe")}
            assert probes["livenessProbe"]["path"] == "/healthz", where
            assert probes["startupProbe"]["path"] == "/healthz", where
            assert probes["readinessProbe"]["path"] == "/readyz", where
            assert {probe["port"] for probe in probes.values()} == {port["name"]}, where
        for container in spec["containers"] + spec.get("initContainers", []):
            where = f"{name}/{container['name']}"
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind]), where
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert ":" in container["image"].rsplit("/", 1)[-1], f"{where}: image without a tag"
            mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
            assert {"/tmp", settings["HYPERCARE_DATA_DIR"]} <= mounts, where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migrations_run_before_each_process_and_secrets_stay_out(tool: Tool, overlay: str) -> None:
    objects = objects_of(tool, f"overlays/{overlay}")
    assert not [o for o in objects if o["kind"] == "Secret"], "credentials belong in a Secret created outside git"
    settings = config(objects)
    assert "HYPERCARE_DATABASE_URL" not in settings
    assert not any("password" in value.lower() or "@" in value for value in settings.values())
    assert settings["HYPERCARE_HOST"] == "0.0.0.0"
    for name, spec in pod_specs(objects).items():
        (migrate,) = spec["initContainers"]
        assert migrate["command"] == ["hypercare", "db", "upgrade"], name
        assert migrate["image"] == spec["containers"][0]["image"], name
        for container in spec["containers"] + spec["initContainers"]:
            env = {item["name"]: item for item in container["env"]}
            ref = env["HYPERCARE_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": "hypercare-secrets", "key": "HYPERCARE_DATABASE_URL"}, name
            (source,) = container["envFrom"]
            assert source["configMapRef"]["name"].startswith("hypercare-config-")
    commands = {name: spec["containers"][0]["command"] for name, spec in pod_specs(objects).items()}
    assert commands == {"hypercare-api": ["hypercare", "api"], "hypercare-worker": ["hypercare", "worker"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_scaling_respects_the_partition_count(tool: Tool, overlay: str) -> None:
    objects = objects_of(tool, f"overlays/{overlay}")
    partitions = int(config(objects)["HYPERCARE_TOPIC_PARTITIONS"])
    for component in ("api", "worker"):
        name = f"hypercare-{component}"
        hpa = find(objects, "HorizontalPodAutoscaler", name)
        deployment = find(objects, "Deployment", name)
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        assert deployment["spec"]["replicas"] == hpa["spec"]["minReplicas"], name
        pdb = find(objects, "PodDisruptionBudget", name)
        assert pdb["spec"]["selector"] == deployment["spec"]["selector"]
        assert pdb["spec"]["maxUnavailable"] == 1
    worker_hpa = find(objects, "HorizontalPodAutoscaler", "hypercare-worker")
    # A worker beyond the partition count would get no partition: the cap is exactly the count.
    assert worker_hpa["spec"]["maxReplicas"] == partitions
    rollout = find(objects, "Deployment", "hypercare-worker")["spec"]["strategy"]["rollingUpdate"]
    assert rollout["maxSurge"] == 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_and_network_policies(tool: Tool, overlay: str) -> None:
    objects = objects_of(tool, f"overlays/{overlay}")
    api = find(objects, "Service", "hypercare-api")["spec"]
    assert api["ports"] == [{"name": "http", "port": 8000, "targetPort": "http", "protocol": "TCP"}]
    worker = find(objects, "Service", "hypercare-worker")["spec"]
    assert worker["clusterIP"] == "None"
    assert worker["ports"][0]["port"] == 6066
    for name, service in (("hypercare-api", api), ("hypercare-worker", worker)):
        template_labels = find(objects, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert service["selector"].items() <= template_labels.items()

    api_policy = find(objects, "NetworkPolicy", "hypercare-api")["spec"]
    assert [port["port"] for rule in api_policy["ingress"] for port in rule["ports"]] == [8000]
    worker_policy = find(objects, "NetworkPolicy", "hypercare-worker")["spec"]
    (scrape,) = worker_policy["ingress"]
    assert scrape["ports"] == [{"protocol": "TCP", "port": 6066}]
    assert scrape["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    bootstrap_port = int(config(objects)["HYPERCARE_KAFKA_BOOTSTRAP"].split(",")[0].rsplit(":", 1)[1])
    for policy in (api_policy, worker_policy):
        assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
        egress = {(port["protocol"], port["port"]) for rule in policy["egress"] for port in rule["ports"]}
        assert {("UDP", 53), ("TCP", 53), ("TCP", bootstrap_port), ("TCP", 5432)} <= egress
    # Only the API sends alert notifications: webhooks and Teams over HTTPS, e-mail to the SMTP port it is configured
    # with (the settings' default unless the overlay sets HYPERCARE_SMTP_PORT).
    smtp_port = int(config(objects).get("HYPERCARE_SMTP_PORT", Settings.model_fields["smtp_port"].default))
    api_egress = {(port["protocol"], port["port"]) for rule in api_policy["egress"] for port in rule["ports"]}
    worker_egress = {(port["protocol"], port["port"]) for rule in worker_policy["egress"] for port in rule["ports"]}
    assert {("TCP", 443), ("TCP", smtp_port)} <= api_egress
    assert not {("TCP", 443), ("TCP", smtp_port)} & worker_egress
    api_env = {item["name"]: item for item in pod_specs(objects)["hypercare-api"]["containers"][0]["env"]}
    for secret in ("HYPERCARE_SMTP_PASSWORD", "HYPERCARE_ALERT_WEBHOOK_SECRET"):
        ref = api_env[secret]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "hypercare-secrets", "key": secret, "optional": True}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_grafana_dashboards_ship_as_sidecar_configmaps(tool: Tool, overlay: str) -> None:
    objects = objects_of(tool, f"overlays/{overlay}")
    dashboards = [
        o
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    ]
    shipped = {key: json.loads(value) for o in dashboards for key, value in o["data"].items()}
    on_disk = {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in (REPO / "dashboards" / "grafana" / "dashboards").glob("*.json")
    }
    assert shipped == on_disk


def test_overlays_differ_where_they_should(tool: Tool) -> None:
    dev, prod = objects_of(tool, "overlays/dev"), objects_of(tool, "overlays/prod")
    dev_config, prod_config = config(dev), config(prod)
    for key in ("HYPERCARE_KAFKA_BOOTSTRAP", "HYPERCARE_TOPIC_PARTITIONS", "HYPERCARE_TOPIC_PREFIX"):
        assert dev_config[key] != prod_config[key], key
    assert prod_config["HYPERCARE_KAFKA_BOOTSTRAP"] == "my-cluster-kafka-bootstrap.kafka.svc:9092"
    assert int(prod_config["HYPERCARE_TOPIC_REPLICATION"]) == 3

    def replicas(objects: Objects) -> dict[str, int]:
        return {o["metadata"]["name"]: o["spec"]["replicas"] for o in objects if o["kind"] == "Deployment"}

    assert replicas(dev) == {"hypercare-api": 1, "hypercare-worker": 1}
    assert replicas(prod) == {"hypercare-api": 3, "hypercare-worker": 4}

    def images(objects: Objects) -> set[str]:
        return {c["image"] for spec in pod_specs(objects).values() for c in spec["containers"] + spec["initContainers"]}

    (prod_image,) = images(prod)
    (dev_image,) = images(dev)
    assert prod_image != dev_image
    assert not prod_image.endswith((":latest", ":dev")) and ":" in prod_image.rsplit("/", 1)[-1]

    def worker_memory(objects: Objects) -> str:
        return pod_specs(objects)["hypercare-worker"]["containers"][0]["resources"]["limits"]["memory"]

    assert worker_memory(dev) != worker_memory(prod)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_sign_in_with_the_identity_provider_is_configured_and_its_secret_comes_from_the_secret(
    tool: Tool, overlay: str
) -> None:
    objects = objects_of(tool, f"overlays/{overlay}")
    settings = config(objects)
    assert "HYPERCARE_OIDC_CLIENT_SECRET" not in settings  # never in a ConfigMap
    assert settings["HYPERCARE_OIDC_ISSUER"].startswith("https://")
    assert settings["HYPERCARE_OIDC_CLIENT_ID"]
    assert settings["HYPERCARE_PUBLIC_URL"].startswith("https://")  # Secure cookies, HSTS
    # The overlay's values pass the API's own settings checks (an issuer needs a client id and a public URL).
    checked = Settings(
        oidc_issuer=settings["HYPERCARE_OIDC_ISSUER"],
        oidc_client_id=settings["HYPERCARE_OIDC_CLIENT_ID"],
        oidc_client_secret="from-the-secret",
        public_url=settings["HYPERCARE_PUBLIC_URL"],
    )
    assert checked.oidc_issuer == settings["HYPERCARE_OIDC_ISSUER"]
    specs = pod_specs(objects)
    (api,) = specs["hypercare-api"]["containers"]
    env = {item["name"]: item for item in api["env"]}
    assert env["HYPERCARE_OIDC_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"] == {
        "name": "hypercare-secrets",
        "key": "HYPERCARE_OIDC_CLIENT_SECRET",
        "optional": True,
    }
    for container in specs["hypercare-worker"]["containers"]:  # the worker signs nobody in
        assert "HYPERCARE_OIDC_CLIENT_SECRET" not in {item["name"] for item in container["env"]}
    # The API may reach the provider (discovery, token, JWKS, userinfo, end-session) on 443.
    policy = find(objects, "NetworkPolicy", "hypercare-api")
    ports = {port["port"] for rule in policy["spec"]["egress"] for port in rule.get("ports", [])}
    assert 443 in ports
