"""Named SQL queries, loaded once from ``queries.sql`` (``-- name: x`` blocks)."""

from __future__ import annotations

from importlib import resources


def _load() -> dict[str, str]:
    text = (resources.files("postroom.store.sqlite") / "queries.sql").read_text()
    out: dict[str, str] = {}
    name = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("-- name:"):
            if name:
                out[name] = "\n".join(lines).strip()
            name, lines = line.split(":", 1)[1].strip(), []
        elif not line.startswith("--"):
            lines.append(line)
    if name:
        out[name] = "\n".join(lines).strip()
    return out


Q = _load()
