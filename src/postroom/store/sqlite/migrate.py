"""Numbered migrations for the SQLite store: ``migrations/NNNN_*.sql`` applied in order,
each in its own transaction, with the version kept in ``PRAGMA user_version``."""

from __future__ import annotations

import sqlite3
from importlib import resources


def migration_scripts() -> list[tuple[int, str]]:
    folder = resources.files("postroom.store.sqlite") / "migrations"
    scripts = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            scripts.append((int(entry.name.split("_", 1)[0]), entry.read_text()))
    return sorted(scripts)


def upgrade(conn: sqlite3.Connection) -> int:
    """Apply every migration newer than the database; returns the resulting version."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    for number, script in migration_scripts():
        if number <= version:
            continue
        conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        version = number
    return version
