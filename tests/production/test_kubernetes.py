"""deploy/kubernetes: the Helm values for RasaHQ's chart and our manifests, checked as files.

App environment. There is no cluster here (docs/deploy/kubernetes.md says so): the files
are parsed and checked for what an operator relies on, the way test_compose.py checks
docker-compose.yml, not applied to a Kubernetes API server.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import NAMES

REPO = Path(__file__).resolve().parents[2]
KUBERNETES = REPO / "deploy" / "kubernetes"
VALUES = KUBERNETES / "rasa-values.yaml"
GUIDE = REPO / "docs" / "deploy" / "kubernetes.md"
MANIFESTS = sorted(set(KUBERNETES.glob("*.yaml")) - {VALUES})
# What the internet may reach (docker/nginx.conf publishes the same).
PUBLIC_PATHS = [
    ("/", "Exact"),
    ("/widget.js", "Exact"),
    ("/channels/widget", "Prefix"),
    ("/webhooks/whatsapp", "Exact"),
    ("/console", "Prefix"),
    ("/api", "Prefix"),
]


def documents() -> list[dict[str, Any]]:
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in documents() if doc["kind"] == kind]


def values() -> dict[str, Any]:
    return yaml.safe_load(VALUES.read_text())


def pod_specs() -> list[dict[str, Any]]:
    return [deployment["spec"]["template"]["spec"] for deployment in of_kind("Deployment")]


def containers() -> list[dict[str, Any]]:
    return [c for spec in pod_specs() for c in spec.get("initContainers", []) + spec["containers"]]


@pytest.mark.parametrize("path", [VALUES, *MANIFESTS], ids=lambda path: path.name)
def test_every_file_parses_and_every_manifest_names_its_kind(path):
    for document in yaml.safe_load_all(path.read_text()):
        if path != VALUES:
            assert document["apiVersion"] and document["kind"] and document["metadata"]["name"]


def test_the_chart_gets_our_endpoints_and_channels_as_the_repository_has_them():
    # The chart writes its own endpoints.yml and credentials.yml over the image's.
    settings = values()["applicationSettings"]
    endpoints = yaml.safe_load((REPO / "endpoints.yml").read_text())
    credentials = yaml.safe_load((REPO / "credentials.yml").read_text())
    assert settings["endpoints"]["additionalEndpoints"] == endpoints
    assert settings["credentials"]["additionalChannelCredentials"] == credentials
    for store in ("trackerStore", "lockStore"):
        assert settings["endpoints"][store]["enabled"] is False  # would add a second entry


def test_rasa_requires_the_token_and_answers_no_web_page():
    args = values()["args"]
    assert args[args.index("--auth-token") + 1] == "$(RASA_AUTH_TOKEN)"
    assert "--cors" not in args
    env = {item["name"]: item for item in values()["extraEnv"]}
    assert env["RASA_AUTH_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "welcome-desk-secrets"
    assert values()["ingress"]["enabled"] is False
    assert values()["service"]["type"] == "ClusterIP"


def test_rasa_runs_two_replicas_of_our_image_with_the_model_inside():
    assert values()["replicaCount"] >= 2
    assert values()["applicationSettings"]["initialModel"] == ""
    assert values()["applicationSettings"]["trainInitialModel"] is False
    (actions,) = [d for d in of_kind("Deployment") if d["metadata"]["name"].endswith("actions")]
    assert actions["spec"]["replicas"] >= 2


def test_the_ingress_publishes_the_public_paths_only():
    (ingress,) = of_kind("Ingress")
    paths = [
        (path["path"], path["pathType"])
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert paths == PUBLIC_PATHS

    def published(url: str) -> bool:
        return any(
            url == path or (kind == "Prefix" and url.startswith(path.rstrip("/") + "/"))
            for path, kind in paths
        )

    internal_paths = ("/nlg", "/healthz", "/readyz", "/metrics", "/webhooks/rest/webhook")
    for internal in internal_paths:
        assert not published(internal), internal


THREAD_LIMITS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def test_every_variable_is_a_setting_welcome_desk_knows():
    names = [item["name"] for item in values()["extraEnv"]]
    names += [item["name"] for container in containers() for item in container.get("env", [])]
    (config_map,) = of_kind("ConfigMap")
    names += list(config_map["data"])
    # Besides ours: the numeric libraries' thread counts (docs/decisions/0014).
    assert names and set(names) <= set(NAMES) | set(THREAD_LIMITS)


def test_the_guide_makes_the_secret_with_every_key_the_pods_read():
    refs = [item.get("valueFrom", {}) for item in values()["extraEnv"]]
    for container in containers():
        refs += [item.get("valueFrom", {}) for item in container.get("env", [])]
    keys = {ref["secretKeyRef"]["key"] for ref in refs if "secretKeyRef" in ref}
    made = set(re.findall(r"--from-literal=(\w+)=", GUIDE.read_text()))
    assert keys and keys <= made <= set(NAMES)


def test_every_pod_runs_as_a_user_that_is_not_root():
    for spec in [*pod_specs(), values()["podSecurityContext"]]:
        context = spec.get("securityContext", spec)
        assert context["runAsNonRoot"] is True and context["runAsUser"] != 0
