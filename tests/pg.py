"""PostgreSQL for tests: ``POSTROOM_TEST_PG_DSN`` (default the machine's local server).
Each test gets its own schema, dropped afterwards. Without PostgreSQL the tests skip,
except under CI (``CI=true``), where they fail: CI must never pass by skipping them."""

from __future__ import annotations

import os
import uuid

import pytest

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def pg_dsn() -> str:
    return os.environ.get("POSTROOM_TEST_PG_DSN", DEFAULT_DSN)


def require_pg() -> str:
    import psycopg

    dsn = pg_dsn()
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {dsn} is required under CI and is not reachable: {exc}")
        pytest.skip(f"PostgreSQL at {dsn} is not reachable: {exc}")
    return dsn


def new_schema() -> str:
    return "postroom_test_" + uuid.uuid4().hex[:12]


def drop_schema(dsn: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def with_schema(dsn: str, schema: str) -> str:
    return f"{dsn}{'&' if '?' in dsn else '?'}schema={schema}"
