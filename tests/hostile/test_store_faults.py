"""PostgreSQL out of space or connections: the operation fails with ServiceUnavailable (503),
as an unreachable PostgreSQL does. (The shared test PostgreSQL is not filled up for real; the
store is given a connection whose statements fail as PostgreSQL's do.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from postroom.errors import ServiceUnavailable
from postroom.store.postgres.store import PostgresStore


class _Acquired:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def __aenter__(self) -> Any:
        return self.conn

    async def __aexit__(self, *exc: object) -> None:
        return None


class _Conn:
    def transaction(self) -> _Acquired:
        return _Acquired(None)


class _Pool:
    def acquire(self) -> _Acquired:
        return _Acquired(_Conn())


@pytest.mark.parametrize("error", [asyncpg.exceptions.DiskFullError, asyncpg.exceptions.TooManyConnectionsError,
                                   asyncpg.exceptions.OutOfMemoryError])
async def test_postgres_out_of_resources_is_service_unavailable(error: Callable[[str], Exception]) -> None:
    store = PostgresStore("postgresql://postroom@localhost/none", _Pool(), {})

    async def op(conn: Any) -> None:
        raise error("could not extend file: No space left on device")

    with pytest.raises(ServiceUnavailable):
        await store._tx(op)
    with pytest.raises(ServiceUnavailable):
        await store._tx(op, transaction=False)
