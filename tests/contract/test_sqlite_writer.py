"""The SQLite writer thread under faults: an operation that dies with a BaseException (not
an ordinary error) must not take the thread down with its transaction open — before the
fix, every later caller hung for ever. Now the group is rolled back, its callers get
ServiceUnavailable (503, retriable), and the writer goes on serving."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from postroom.errors import ServiceUnavailable
from postroom.store.sqlite.store import open_connection
from postroom.store.sqlite.writer import Writer, after_commit


class Fatal(BaseException):
    """Stands for SystemExit/KeyboardInterrupt-like failures raised from inside a driver."""


def _writer(tmp_path: Path) -> Writer:
    conn = open_connection(tmp_path / "w.db")
    conn.execute("CREATE TABLE t (x INTEGER)")
    return Writer(conn)


async def test_a_base_exception_fails_its_group_and_the_writer_carries_on(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    try:
        def insert_then_die(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO t VALUES (1)")
            raise Fatal("boom")

        with pytest.raises(ServiceUnavailable):
            await asyncio.wait_for(writer.call(insert_then_die), 5)
        await asyncio.wait_for(writer.call(lambda conn: conn.execute("INSERT INTO t VALUES (2)")), 5)
        rows = await asyncio.wait_for(writer.call(lambda conn: conn.execute("SELECT x FROM t").fetchall()), 5)
        assert [r[0] for r in rows] == [2], "the failed group's write was rolled back; later ones commit"
    finally:
        writer.close()


async def test_operations_grouped_with_a_dying_one_fail_cleanly(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    try:
        def slow(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO t VALUES (10)")

        def die(conn: sqlite3.Connection) -> None:
            raise Fatal("boom")

        results = await asyncio.wait_for(asyncio.gather(*(writer.call(slow) for _ in range(20)), writer.call(die),
                                                        return_exceptions=True), 10)
        assert all(r is None or isinstance(r, ServiceUnavailable) for r in results), results
        committed = len([r for r in results[:20] if r is None])
        count = await writer.call(lambda conn: conn.execute("SELECT COUNT(*) FROM t").fetchone()[0])
        assert count == committed, "every caller told 'done' is on disk, nobody else"
    finally:
        writer.close()


async def test_commit_hooks_run_only_for_committed_operations(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    ran: list[str] = []
    try:
        def good(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO t VALUES (1)")
            after_commit(lambda: ran.append("good"))

        def bad(conn: sqlite3.Connection) -> None:
            after_commit(lambda: ran.append("bad"))
            raise ValueError("refused")

        results = await asyncio.gather(writer.call(good), writer.call(bad), return_exceptions=True)
        assert results[0] is None and isinstance(results[1], ValueError)
        assert ran == ["good"]
        with pytest.raises(RuntimeError):
            after_commit(lambda: None)
    finally:
        writer.close()
