"""``postroom db``: schema management for the shared PostgreSQL store."""

from __future__ import annotations

import asyncio

import click


@click.group()
def db() -> None:
    """Manage the store's schema."""


@db.command()
@click.option("--store", "store_url", required=True, help="postgresql://user@host:port/db[?schema=name]")
def upgrade(store_url: str) -> None:
    """Apply every migration the database lacks (also done on a node's first start)."""
    import asyncpg

    from postroom.store.postgres.migrate import upgrade as run_upgrade
    from postroom.store.postgres.store import split_dsn

    async def go() -> list[int]:
        dsn, settings = split_dsn(store_url)
        if "search_path" in settings:
            conn = await asyncpg.connect(dsn)
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{settings["search_path"]}"')
            await conn.close()
        conn = await asyncpg.connect(dsn, server_settings=settings)
        try:
            return await run_upgrade(conn)
        finally:
            await conn.close()

    applied = asyncio.run(go())
    click.echo(f"applied migrations: {', '.join(map(str, applied))}" if applied else "schema is up to date")
