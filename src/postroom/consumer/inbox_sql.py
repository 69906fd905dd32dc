"""Transactions on the application's own database, whatever it is reached through.

Three kinds of handle are accepted, each used the way its library intends:

* ``sqlite3.Connection``: ``BEGIN IMMEDIATE`` takes SQLite's write lock at the start, so two consumer
  processes sharing one database file check and record a key one after the other; ``commit()`` /
  ``rollback()`` end it. Open it with ``check_same_thread=False`` when the consumer runs handlers on
  several threads, and give it a ``timeout`` (busy wait) when several processes share the file.
* a DB-API connection (psycopg 3, or any driver with ``%s`` / ``?`` parameters): the driver's implicit
  transaction, ended by ``commit()`` / ``rollback()``; psycopg connections in autocommit mode get an
  explicit ``conn.transaction()``.
* SQLAlchemy: an ``Engine`` (each message gets its own pooled connection via ``engine.begin()``, so
  handlers run truly concurrently) or a ``Connection``.

A single connection is not safe for two transactions at once, so every handle except an ``Engine`` is
used under a lock: handlers sharing one connection commit one at a time.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol


class Transaction(Protocol):
    """One open transaction: ``connection`` is what the handler gets to run its own statements on."""

    connection: Any

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run ``sql`` (``?`` placeholders); return the row count."""
        ...

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run a query; return the first column of its first row (None without rows)."""
        ...


class Backend(Protocol):
    def transaction(self) -> contextlib.AbstractContextManager[Transaction]: ...


class _DbapiTransaction:
    def __init__(self, connection: Any, placeholder: str) -> None:
        self.connection = connection
        self._placeholder = placeholder

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        if self._placeholder != "?":
            sql = sql.replace("?", self._placeholder)
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, tuple(params))
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self._placeholder != "?":
            sql = sql.replace("?", self._placeholder)
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, tuple(params))
            row = cursor.fetchone()
            return None if row is None else row[0]
        finally:
            cursor.close()


class SqliteBackend:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._lock = threading.RLock()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        conn = self._connection
        with self._lock:
            if not conn.in_transaction:
                conn.execute("BEGIN IMMEDIATE")
            try:
                yield _DbapiTransaction(conn, "?")
            except BaseException:
                conn.rollback()
                raise
            conn.commit()


class DbapiBackend:
    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._lock = threading.RLock()
        module = sys.modules.get(type(connection).__module__.split(".")[0])
        style = getattr(module, "paramstyle", "format")
        self._placeholder = "?" if style == "qmark" else "%s"
        self._psycopg = type(connection).__module__.startswith("psycopg")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        conn = self._connection
        with self._lock:
            if self._psycopg and conn.autocommit:
                with conn.transaction():
                    yield _DbapiTransaction(conn, self._placeholder)
                return
            try:
                yield _DbapiTransaction(conn, self._placeholder)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()


class _SqlAlchemyTransaction:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def _run(self, sql: str, params: Sequence[Any]) -> Any:
        from sqlalchemy import text

        parts = sql.split("?")
        named = parts[0] + "".join(f":p{i}{part}" for i, part in enumerate(parts[1:]))
        return self.connection.execute(text(named), {f"p{i}": value for i, value in enumerate(params)})

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self._run(sql, params).rowcount)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._run(sql, params).scalar()


class SqlAlchemyBackend:
    """SQLAlchemy is imported only when such a handle is given (it is not a runtime dependency)."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self._is_engine = hasattr(handle, "connect") and not hasattr(handle, "in_transaction")
        self._lock = threading.RLock()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        if self._is_engine:
            with self._handle.begin() as conn:
                yield _SqlAlchemyTransaction(conn)
            return
        conn = self._handle
        with self._lock:
            if conn.in_transaction():
                try:
                    yield _SqlAlchemyTransaction(conn)
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
            else:
                with conn.begin():
                    yield _SqlAlchemyTransaction(conn)


def backend_for(handle: Any) -> Backend:
    """The backend for a sqlite3 connection, a SQLAlchemy Engine/Connection, or a DB-API connection."""
    if isinstance(handle, sqlite3.Connection):
        return SqliteBackend(handle)
    if type(handle).__module__.startswith("sqlalchemy"):
        return SqlAlchemyBackend(handle)
    if hasattr(handle, "cursor") and hasattr(handle, "commit"):
        return DbapiBackend(handle)
    raise TypeError(f"Inbox needs a DB-API connection or a SQLAlchemy Engine/Connection, not {type(handle).__name__}")
