"""``postroom.core`` stays pure: no I/O, no clocks, no randomness, no outer layers."""

from __future__ import annotations

import ast
from pathlib import Path

import postroom.core

CORE = Path(postroom.core.__file__).parent
FORBIDDEN_MODULES = {"asyncio", "sqlite3", "botocore", "uuid", "time", "random", "os", "socket", "threading"}
ALLOWED_POSTROOM = ("postroom.errors", "postroom.clock", "postroom.core")


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_core_imports_only_pure_modules() -> None:
    for path in sorted(CORE.rglob("*.py")):
        for name in _imports(path):
            root = name.split(".")[0]
            assert root not in FORBIDDEN_MODULES, f"{path.name} imports {name}"
            if root == "postroom":
                assert name.startswith(ALLOWED_POSTROOM), f"{path.name} imports {name}"
