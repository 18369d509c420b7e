"""Deployment files stay consistent with the code (validated statically: no Docker engine)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from audotics.app import create_app
from audotics.cli import app as cli_app
from audotics.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _cli_commands() -> set[str]:
    names = set()
    for command in cli_app.registered_commands:
        names.add(command.name or command.callback.__name__.replace("_", "-"))  # type: ignore[union-attr]
    return names


# Read before settings exist (by the migration runner), so not a Settings field.
_ENV_OUTSIDE_SETTINGS = {"AUDOTICS_MIGRATIONS_DIR"}


def _setting_env_names() -> set[str]:
    return {f"AUDOTICS_{name.upper()}" for name in Settings.model_fields} | _ENV_OUTSIDE_SETTINGS


def _check_command(command: list[str]) -> None:
    assert command[0] == "audotics", command
    assert command[1] in _cli_commands(), f"unknown CLI command {command[1]!r}"


def _check_env(names: set[str]) -> None:
    unknown = {n for n in names if n.startswith("AUDOTICS_")} - _setting_env_names()
    assert not unknown, f"deployment sets variables no setting reads: {unknown}"


def test_compose_has_every_part_and_valid_settings() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "s3", "migrate", "api", "worker"} <= services.keys()
    env = compose["x-audotics-env"]
    _check_env(set(env))
    assert env["AUDOTICS_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert env["AUDOTICS_REDIS_URL"].startswith("redis://")
    for name in ("migrate", "api", "worker"):
        _check_command(services[name]["command"])
        assert services[name]["environment"] == env
    build = services["migrate"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()


def test_dockerfile_copies_existing_paths_and_serves() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (?!--from)(\S+(?: \S+)*?) \S+$", text, flags=re.M):
        for part in source.split():
            assert (ROOT / part).exists(), f"Dockerfile copies missing {part}"
    cmd = re.search(r"^CMD \[(.*)\]$", text, flags=re.M)
    assert cmd is not None
    _check_command([p.strip().strip('"') for p in cmd.group(1).split(",")])
    _check_env({m for m in re.findall(r"(AUDOTICS_[A-Z0-9_]+)=", text)})
    # The image installs the pinned versions the suite ran with, not whatever is newest.
    installs = re.findall(r"pip install ([^\\\n]*)", text)
    assert installs and all("-c constraints.txt" in line for line in installs), installs


def test_kubernetes_manifests_reference_real_things() -> None:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for resource in kustomization["resources"]:
        path = DEPLOY / "k8s" / resource
        assert path.is_file(), resource
        docs.extend(_yaml_documents(path))
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("Deployment", "audotics-api") in kinds
    assert ("Deployment", "audotics-worker") in kinds
    routes = {getattr(r, "path", None) for r in create_app(Settings()).routes}
    for doc in docs:
        if doc["kind"] == "HorizontalPodAutoscaler":
            target = doc["spec"]["scaleTargetRef"]
            assert (target["kind"], target["name"]) in kinds
        if doc["kind"] in ("Deployment", "Job"):
            spec = doc["spec"]["template"]["spec"]
            for container in spec["containers"]:
                _check_command(container["command"])
                for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                    if probe in container:
                        assert container[probe]["httpGet"]["path"] in routes
        if doc["kind"] == "Deployment":
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items()
    config = next(d for d in docs if d["kind"] == "ConfigMap")
    _check_env(set(config["data"]))
    secret = yaml.safe_load((DEPLOY / "k8s" / "secret.example.yaml").read_text())
    _check_env(set(secret["stringData"]))


@pytest.mark.parametrize("manifest", sorted((DEPLOY / "k8s").glob("*.yaml")))
def test_every_manifest_parses(manifest: Path) -> None:
    for doc in _yaml_documents(manifest):
        assert "apiVersion" in doc and "kind" in doc
