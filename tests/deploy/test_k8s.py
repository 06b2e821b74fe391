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

from hypercare.org.registry import load_org
from hypercare.settings import Settings
from hypercare.sources.config import load_translators
from services.notifications.config import load_notifications

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


CORE = ("hypercare-api", "hypercare-worker")
CONNECTORS = {"hypercare-connector-tickets": "tickets", "hypercare-connector-signins": "signins"}


def pod_specs(objects: Objects) -> dict[str, dict[str, Any]]:
    """The API's and the workers' pod specs (the connectors: :func:`connector_specs`)."""
    return {
        o["metadata"]["name"]: o["spec"]["template"]["spec"]
        for o in objects
        if o["kind"] == "Deployment" and o["metadata"]["name"] in CORE
    }


def connector_specs(objects: Objects) -> dict[str, dict[str, Any]]:
    return {
        o["metadata"]["name"]: o["spec"]["template"]["spec"]
        for o in objects
        if o["kind"] == "Deployment" and o["metadata"]["name"] not in CORE
    }


def assert_restricted(name: str, spec: dict[str, Any], containers: list[dict[str, Any]]) -> None:
    """The pod and its containers meet the restricted Pod Security Standard, with resources and a pinned tag."""
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert spec["automountServiceAccountToken"] is False
    for container in containers:
        where = f"{name}/{container['name']}"
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), where
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, where
        assert security["allowPrivilegeEscalation"] is False, where
        assert security["capabilities"]["drop"] == ["ALL"], where
        assert ":" in container["image"].rsplit("/", 1)[-1], f"{where}: image without a tag"
        assert "/tmp" in {mount["mountPath"] for mount in container["volumeMounts"]}, where


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


def egress_of(policy: dict[str, Any]) -> set[tuple[str, int]]:
    return {(port["protocol"], port["port"]) for rule in policy["spec"]["egress"] for port in rule.get("ports", [])}


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
        assert_restricted(name, spec, spec["containers"] + spec.get("initContainers", []))
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
        return {
            o["metadata"]["name"]: o["spec"]["replicas"]
            for o in objects
            if o["kind"] == "Deployment" and o["metadata"]["name"] in CORE
        }

    assert replicas(dev) == {"hypercare-api": 1, "hypercare-worker": 1}
    assert replicas(prod) == {"hypercare-api": 3, "hypercare-worker": 4}

    def images(objects: Objects) -> set[str]:
        return {c["image"] for spec in pod_specs(objects).values() for c in spec["containers"] + spec["initContainers"]}

    def connector_images(objects: Objects) -> set[str]:
        return {c["image"] for spec in connector_specs(objects).values() for c in spec["containers"]}

    (prod_image,) = images(prod) | connector_images(prod)
    (dev_image,) = images(dev) | connector_images(dev)
    # Dev runs both connectors (signins as the example of a mounted export), prod the ServiceNow poller.
    assert set(connector_specs(dev)) == set(CONNECTORS)
    assert set(connector_specs(prod)) == {"hypercare-connector-tickets"}
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


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_connectors_run_one_poller_per_source_with_their_own_secret(tool: Tool, overlay: str) -> None:
    objects = objects_of(tool, f"overlays/{overlay}")
    settings = config(objects)
    api_service = find(objects, "Service", "hypercare-api")["spec"]
    (api_port,) = api_service["ports"]
    # The connectors post to the API Service by name, on its port.
    assert settings["HYPERCARE_CONNECTOR_API_URL"] == f"http://hypercare-api:{api_port['port']}"
    connectors = connector_specs(objects)
    assert connectors and set(connectors) <= set(CONNECTORS)
    for name, spec in connectors.items():
        deployment = find(objects, "Deployment", name)["spec"]
        # One cursor per source: never two pollers, not even during a rollout.
        assert deployment["replicas"] == 1 and deployment["strategy"] == {"type": "Recreate"}, name
        assert not [
            o
            for o in objects
            if o["kind"] in ("HorizontalPodAutoscaler", "PodDisruptionBudget") and o["metadata"]["name"] == name
        ]
        assert_restricted(name, spec, spec["containers"])
        assert "initContainers" not in spec, name  # no database: the cursor is kept through the API
        (container,) = spec["containers"]
        assert container["command"][:4] == ["hypercare", "connector", "run", CONNECTORS[name]], name
        assert "ports" not in container, name  # nothing connects to a connector
        (source,) = container["envFrom"]
        assert source["configMapRef"]["name"].startswith("hypercare-config-")
        env = env_of(container)
        assert "HYPERCARE_DATABASE_URL" not in env and "HYPERCARE_PSEUDONYM_KEY" not in env, name
        # Each connector's credentials in its own Secret: the API never holds ServiceNow's, the connector no database.
        refs = {key: item["valueFrom"]["secretKeyRef"] for key, item in env.items()}
        assert {ref["name"] for ref in refs.values()} == {name}, name
        assert refs["HYPERCARE_CONNECTOR_TOKEN"] == {"name": name, "key": "HYPERCARE_CONNECTOR_TOKEN"}, name
        for pair in (("USER", "PASSWORD"), ("CLIENT_ID", "CLIENT_SECRET")):
            for key in (f"HYPERCARE_SERVICENOW_{part}" for part in pair):
                if CONNECTORS[name] == "tickets":
                    assert refs[key] == {"name": name, "key": key, "optional": True}, key  # basic auth or OAuth
                else:
                    assert key not in env
        if CONNECTORS[name] == "signins":
            (path,) = container["command"][5:]
            assert container["command"][4] == "--path"
            (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == path]
            assert mount["readOnly"] is True
            (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
            claim = volume["persistentVolumeClaim"]
            assert claim["readOnly"] is True
            find(objects, "PersistentVolumeClaim", claim["claimName"])
    for key, value in settings.items():  # no credential of a connector in the ConfigMap
        assert not key.endswith(("_PASSWORD", "_SECRET", "_TOKEN")), key
        assert "@" not in value, key
    if "hypercare-connector-tickets" in connectors:
        assert settings["HYPERCARE_SERVICENOW_URL"].startswith("https://")
        Settings(servicenow_url=settings["HYPERCARE_SERVICENOW_URL"])  # the connector's own settings check


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_connectors_reach_only_the_api_and_the_ticket_system(tool: Tool, overlay: str) -> None:
    objects = objects_of(tool, f"overlays/{overlay}")
    api_labels = find(objects, "Deployment", "hypercare-api")["spec"]["template"]["metadata"]["labels"]
    api_port = int(config(objects)["HYPERCARE_PORT"])
    for name in connector_specs(objects):
        policy = find(objects, "NetworkPolicy", name)
        labels = find(objects, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
        assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        assert not policy["spec"]["ingress"], name  # nothing reaches a connector
        rules = policy["spec"]["egress"]
        (to_api,) = [rule for rule in rules if "to" in rule]
        (selector,) = to_api["to"]
        assert selector["podSelector"]["matchLabels"].items() <= api_labels.items()
        assert to_api["ports"] == [{"protocol": "TCP", "port": api_port}]
        allowed = {("UDP", 53), ("TCP", 53), ("TCP", api_port)}
        if name == "hypercare-connector-tickets":
            allowed.add(("TCP", 443))  # the ServiceNow instance
        assert egress_of(policy) == allowed, name
        # The API accepts them: its ingress allows its port from anywhere in the cluster.
        api_ingress = find(objects, "NetworkPolicy", "hypercare-api")["spec"]["ingress"]
        assert any(api_port in {p["port"] for p in rule["ports"]} and "from" not in rule for rule in api_ingress)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_api_mounts_its_notifications_file_source_mappings_and_unit_table_and_they_load(
    tool: Tool, overlay: str, tmp_path: Path
) -> None:
    """The files the API reads at start come from ConfigMaps mounted where the config says; written out as the pod
    sees them, they pass the API's own start-up checks (mappings against the org registry, the notifications file
    with every secret it names set from the Secret)."""
    objects = objects_of(tool, f"overlays/{overlay}")
    settings = config(objects)
    spec = pod_specs(objects)["hypercare-api"]
    (api,) = spec["containers"]
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    root = tmp_path / "pod"

    def on_disk(path: str) -> Path:
        """Where ``path`` of the pod is in ``root``, written from the ConfigMap mounted there."""
        (mount,) = [m for m in api["volumeMounts"] if path == m["mountPath"] or path.startswith(m["mountPath"] + "/")]
        assert mount["readOnly"] is True, path
        data = maps[volumes[mount["name"]]["configMap"]["name"]]["data"]
        directory = root / mount["mountPath"].lstrip("/")
        directory.mkdir(parents=True, exist_ok=True)
        for key, text in data.items():
            (directory / key).write_text(text, encoding="utf-8")
        return root / path.lstrip("/")

    notifications_file = on_disk(settings["HYPERCARE_NOTIFICATIONS_FILE"])
    sources_dir = on_disk(settings["HYPERCARE_SOURCES_DIR"])
    units_file = on_disk(settings["HYPERCARE_SOURCE_UNITS_FILE"])
    assert notifications_file.is_file() and sources_dir.is_dir() and units_file.is_file()
    env = env_of(api)
    assert env["HYPERCARE_PSEUDONYM_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "hypercare-secrets",
        "key": "HYPERCARE_PSEUDONYM_KEY",
    }  # required: the shipped mappings pseudonymise
    from_secret = {
        name
        for name, item in env.items()
        if item.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == "hypercare-secrets"
    }
    checked = Settings(
        notifications_file=notifications_file,
        source_mappings=settings["HYPERCARE_SOURCE_MAPPINGS"],
        sources_dir=sources_dir,
        source_units_file=units_file,
        pseudonym_key="k8s-test-pseudonym-key-0123456789",
        public_url=settings.get("HYPERCARE_PUBLIC_URL"),
    )
    org = load_org(None)
    translators = load_translators(checked, known_units=frozenset(org.placements))
    assert {"servicenow", "entra"} <= set(translators)
    # Every variable the file names is set from the Secret (stand-in values here), or the API would refuse to start.
    listed = yaml.safe_load(notifications_file.read_text(encoding="utf-8"))["recipients"]
    named = {value for recipient in listed for key, value in recipient.items() if key in ("url_env", "secret_env")}
    assert named <= from_secret, named - from_secret
    stand_ins = dict.fromkeys(from_secret, "https://hooks.example.org/stand-in")
    notifications = load_notifications(checked, org, environ=stand_ins)
    assert [recipient.id for recipient in notifications.recipients] == [recipient["id"] for recipient in listed]
