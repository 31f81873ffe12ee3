"""Imports point inward: the pure core and the domain import nothing outer, the store no adapter (docs/design.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "teamfoned"

# For each layer, the only parts of teamfoned its modules may import.
ALLOWED: dict[str, tuple[str, ...]] = {
    "routing": ("teamfoned.routing",),
    "domain": ("teamfoned.routing", "teamfoned.domain"),
    "store": ("teamfoned.routing", "teamfoned.domain", "teamfoned.store"),
}
# The store is the only place with SQL: outside it, no statement builders and no tables
# (AsyncSession for a transaction's type and sqlalchemy.exc for error mapping are fine).
SQL_BUILDERS = frozenset({"select", "insert", "update", "delete", "text", "func", "and_", "or_",
                          "exists", "literal", "bindparam", "Table", "MetaData", "Column"})


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.name


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import; `from m import a, b` gives m.a and m.b for sqlalchemy."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[int, str]] = []
    package = ".".join(("teamfoned", *path.relative_to(PACKAGE).parent.parts))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            if module in ("teamfoned", "sqlalchemy"):
                # `from teamfoned import admin` imports the submodule admin.
                found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, module))
    return found


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def _violations() -> list[str]:
    bad = []
    for path in _modules():
        layer = _layer(path)
        for line, module in _imports(path):
            where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
            if module.startswith("teamfoned") and layer in ALLOWED:
                if not module.startswith(ALLOWED[layer]):
                    bad.append(f"{where} ({layer} may import only {', '.join(ALLOWED[layer])})")
            elif layer != "store" and (
                    module.startswith("teamfoned.store.tables")
                    or (module.startswith("sqlalchemy.") and module.split(".")[1] in SQL_BUILDERS)
                    or module.startswith("sqlalchemy.sql")):
                bad.append(f"{where} (SQL belongs to teamfoned/store)")
    return bad


def test_imports_point_inward() -> None:
    assert _violations() == []


def test_the_rule_sees_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walker itself works: a routing module importing the store is reported."""
    fake = tmp_path / "teamfoned"
    (fake / "routing").mkdir(parents=True)
    (fake / "routing" / "bad.py").write_text(
        "from teamfoned.store.tables import calls\nfrom . import model\n")
    (fake / "api.py").write_text("from sqlalchemy import select\nfrom sqlalchemy.exc import DBAPIError\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", fake)
    found = " | ".join(_violations())
    assert found.count(" imports ") == 2, found
    assert "teamfoned/routing/bad.py:1 imports teamfoned.store.tables" in found
    assert "teamfoned/api.py:1 imports sqlalchemy.select (SQL belongs" in found


def test_nothing_app_builds_imports_it_back() -> None:
    """app.py builds everything; only the console script, which runs it, imports it."""
    for path in _modules():
        if _layer(path) in ("app.py", "cli"):
            continue
        imported = {m for _, m in _imports(path)}
        assert "teamfoned.app" not in imported, f"{path.relative_to(PACKAGE.parent)} imports teamfoned.app"
