"""Versioned migrations for the PostgreSQL store: ``migrations/NNNN_*.sql``, applied in
order, each in its own transaction, recorded in ``postroom_schema_migrations``. Nodes
starting together take an advisory lock so only one applies them."""

from __future__ import annotations

from importlib import resources

import asyncpg

MIGRATION_LOCK = 7700


def migration_scripts() -> list[tuple[int, str, str]]:
    folder = resources.files("postroom.store.postgres") / "migrations"
    scripts = [(int(e.name.split("_", 1)[0]), e.name, e.read_text()) for e in folder.iterdir()
               if e.name.endswith(".sql")]
    return sorted(scripts)


async def upgrade(conn: asyncpg.Connection) -> list[int]:
    """Apply every migration the database lacks; returns the versions applied now."""
    applied_now: list[int] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute("""CREATE TABLE IF NOT EXISTS postroom_schema_migrations (
                                  version INTEGER PRIMARY KEY, name TEXT NOT NULL,
                                  applied_at TIMESTAMPTZ NOT NULL DEFAULT now())""")
        done = {r[0] for r in await conn.fetch("SELECT version FROM postroom_schema_migrations")}
        for version, name, script in migration_scripts():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(script)
                await conn.execute("INSERT INTO postroom_schema_migrations (version, name) VALUES ($1, $2)",
                                   version, name)
            applied_now.append(version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    return applied_now
