"""The dependency rules of docs/architecture.md, checked on every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "audotics"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def _violations(module: str, imports: set[str]) -> list[str]:
    bad: list[str] = []

    def forbid(prefixes: tuple[str, ...], why: str) -> None:
        for name in imports:
            if any(name == p or name.startswith(p + ".") for p in prefixes):
                bad.append(f"{module} imports {name}: {why}")

    composition_roots = (
        "audotics.app",
        "audotics.cli",
        "audotics.__main__",
        "audotics.demo",
        "audotics.workers",
    )
    if not module.startswith(composition_roots):
        forbid(composition_roots, "only composition roots wire everything")
    if module == "audotics.config":
        forbid(("audotics",), "config knows nothing")
    if module.startswith("audotics.infra"):
        forbid(
            ("audotics.services", "audotics.gateway", "audotics.ml", "audotics.features"),
            "infra knows nothing of the domain",
        )
    if module.startswith(("audotics.ml", "audotics.features")):
        forbid(
            ("fastapi", "starlette", "sqlalchemy", "audotics.services", "audotics.gateway"),
            "ML is computation over arrays and plain records",
        )
    # The registry lists the services for the composition roots; it is wiring, not a service.
    if module.startswith("audotics.services.") and module != "audotics.services.registry":
        parts = module.split(".")
        if len(parts) >= 3:
            own = parts[2]
            for name in imports:
                if not name.startswith("audotics.services."):
                    continue
                other = name.split(".")
                if len(other) >= 4 and other[2] != own and other[3] in ("models", "repository"):
                    bad.append(f"{module} reaches into {name}: use that service's service.py")
            if not module.endswith(("api", "_api")) and parts[-1] != "__init__":
                forbid(("fastapi", "starlette", "audotics.gateway"), "HTTP stays in api.py")
    return bad


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_module_respects_dependency_rules(path: Path) -> None:
    module = _module_name(path)
    assert _violations(module, _imports(path)) == []


def test_rules_catch_a_violation() -> None:
    assert _violations("audotics.infra.db", {"audotics.services.users.models"})
    assert _violations("audotics.services.playlists.service", {"audotics.services.catalog.models"})
    assert _violations("audotics.services.users.service", {"fastapi"})
    assert _violations("audotics.ml.cf.als", {"sqlalchemy.orm"})
    assert not _violations(
        "audotics.services.playlists.service", {"audotics.services.catalog.service"}
    )
