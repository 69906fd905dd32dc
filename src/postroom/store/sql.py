"""Named SQL queries kept as data: ``-- name: x`` blocks in a package's ``queries.sql``."""

from __future__ import annotations

from importlib import resources


def load_queries(package: str) -> dict[str, str]:
    text = (resources.files(package) / "queries.sql").read_text()
    out: dict[str, str] = {}
    name = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("-- name:"):
            if name:
                out[name] = "\n".join(lines).strip().rstrip(";")
            name, lines = line.split(":", 1)[1].strip(), []
        elif not line.startswith("--"):
            lines.append(line)
    if name:
        out[name] = "\n".join(lines).strip().rstrip(";")
    return out
