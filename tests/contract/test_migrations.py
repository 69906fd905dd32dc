"""The numbered migrations, applied in order to an empty database, build exactly the
schema that ``schema.sql`` declares — for both stores. A migration that drifts from
the declared schema (or a schema edit without a migration) fails here."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from importlib import resources
from pathlib import Path

import asyncpg

from postroom.store.postgres.migrate import migration_scripts as pg_migration_scripts
from postroom.store.postgres.migrate import upgrade as pg_upgrade
from postroom.store.sqlite.migrate import migration_scripts as sqlite_migration_scripts
from postroom.store.sqlite.migrate import upgrade as sqlite_upgrade
from tests.pg import drop_schema, new_schema, require_pg, with_schema

CATALOG = """
SELECT 'column', table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' '
       || coalesce(column_default, '')
FROM information_schema.columns WHERE table_schema = $1 AND table_name <> 'postroom_schema_migrations'
UNION ALL
SELECT 'index', indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename <> 'postroom_schema_migrations'
UNION ALL
SELECT 'constraint', conrelid::regclass::text || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint
WHERE connamespace = $1::regnamespace AND conrelid::regclass::text NOT LIKE '%postroom_schema_migrations'
UNION ALL
SELECT 'function', pg_get_functiondef(p.oid) FROM pg_proc p WHERE p.pronamespace = $1::regnamespace
"""


async def _pg_catalog(dsn: str, schema: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(CATALOG, schema)
        return sorted((r[0], r[1].replace(f"{schema}.", "")) for r in rows)
    finally:
        await conn.close()


async def test_postgres_migrations_build_the_declared_schema() -> None:
    dsn = require_pg()
    migrated, declared = new_schema(), new_schema()
    try:
        conn = await asyncpg.connect(dsn)
        await conn.execute(f'CREATE SCHEMA "{migrated}"; CREATE SCHEMA "{declared}"')
        await conn.close()
        conn = await asyncpg.connect(dsn, server_settings={"search_path": migrated})
        assert await pg_upgrade(conn) == [v for v, _name, _sql in pg_migration_scripts()]
        assert await pg_upgrade(conn) == [], "a second upgrade applies nothing"
        await conn.close()
        conn = await asyncpg.connect(dsn, server_settings={"search_path": declared})
        await conn.execute((resources.files("postroom.store.postgres") / "schema.sql").read_text())
        await conn.close()
        got, want = await _pg_catalog(dsn, migrated), await _pg_catalog(dsn, declared)
        assert got == want
        assert len(got) > 20
    finally:
        drop_schema(dsn, migrated)
        drop_schema(dsn, declared)


def _sqlite_catalog(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    return sorted((r[0], r[1]) for r in conn.execute("SELECT type, sql FROM sqlite_master WHERE sql IS NOT NULL"))


def test_sqlite_migrations_build_the_declared_schema(tmp_path: Path) -> None:
    migrated = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    latest = max(v for v, _sql in sqlite_migration_scripts())
    assert latest >= 2
    assert sqlite_upgrade(migrated) == latest
    assert sqlite_upgrade(migrated) == latest
    declared = sqlite3.connect(tmp_path / "d.db", isolation_level=None)
    declared.executescript((resources.files("postroom.store.sqlite") / "schema.sql").read_text())
    assert _sqlite_catalog(migrated) == _sqlite_catalog(declared)


def test_db_upgrade_command(tmp_path: Path) -> None:
    dsn = require_pg()
    schema = new_schema()
    try:
        cmd = [sys.executable, "-m", "postroom", "db", "upgrade", "--store", with_schema(dsn, schema)]
        first = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert first.returncode == 0, first.stderr
        assert "applied migrations: 1" in first.stdout
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0 and "up to date" in second.stdout
    finally:
        drop_schema(dsn, schema)
