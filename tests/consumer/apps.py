"""Handlers the tests run in consumer subprocesses (``postroom consume … --handler tests.consumer.apps:…``),
configured through the environment, and the application state they fold messages into.

The application: per message group a state string, built by appending each message's index —
``"0,1,2,…"``. Applying every message exactly once and in order per group gives exactly that string;
a lost, duplicated or reordered message changes it.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from postroom.consumer import Inbox, Message

STATE_DDL = "CREATE TABLE IF NOT EXISTS app_state (grp TEXT PRIMARY KEY, seqs TEXT NOT NULL, n INTEGER NOT NULL)"
FOLD_SQL = ("INSERT INTO app_state (grp, seqs, n) VALUES ({g}, {i}, 1) ON CONFLICT (grp) DO UPDATE "
            "SET seqs = app_state.seqs || ',' || excluded.seqs, n = app_state.n + 1")


#: The tests kill consumers, never PostgreSQL: commits need not wait for the shared disk's fsync. The
#: handler's effect and its inbox keys still commit atomically, which is what is being tested.
PG_OPTIONS = "-c synchronous_commit=off"


class InjectedFailure(Exception):
    """A deterministic handler failure."""


def fails_first(body: str) -> bool:
    """Every message whose SHA-256 mod 37 is 0 fails on its first attempt in each process."""
    return int(hashlib.sha256(body.encode()).hexdigest(), 16) % 37 == 0


class FoldApp:
    """Folds "group:index" bodies into app_state through an Inbox, with injected failures.

    ``kill_after``: after that many messages applied (committed), the process SIGKILLs itself — before
    the consumer deletes the message, so it and the rest of its batch come back to someone else.
    """

    def __init__(self, conn: Any, placeholder: str, kill_after: int | None = None) -> None:
        self.inbox = Inbox(conn, scope="fold")
        self.sql = FOLD_SQL.format(g=placeholder, i=placeholder)
        self.kill_after = kill_after
        self.applied = 0
        self.failed_once: set[str] = set()
        self.lock = threading.Lock()
        self.injected = 0
        self.last_applied: dict[str, int] = {}
        self.order_violations: list[str] = []

    def apply(self, message: Message, db: Any) -> None:
        group, index = message.body.split(":")
        if fails_first(message.body):
            with self.lock:
                first = message.body not in self.failed_once
                self.failed_once.add(message.body)
            if first:
                self.injected += 1
                raise InjectedFailure(message.body)
        if hasattr(db, "cursor"):
            cur = db.cursor()
            cur.execute(self.sql, (group, index))
            cur.close()
        else:  # SQLAlchemy Connection
            from sqlalchemy import text

            db.execute(text(FOLD_SQL.format(g=":g", i=":i")), {"g": group, "i": index})

    def __call__(self, message: Message) -> None:
        if not self.inbox.process(message, self.apply):
            return
        group, index = message.body.split(":")
        with self.lock:
            # what this process applies may skip indexes (the other process had them), never go back
            if int(index) <= self.last_applied.get(group, -1):
                self.order_violations.append(message.body)
            self.last_applied[group] = int(index)
            self.applied += 1
            if self.applied == self.kill_after:
                os.kill(os.getpid(), signal.SIGKILL)


def sqlite_connect(path: str | Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(STATE_DDL)
    conn.commit()
    return conn


_apps: dict[str, Any] = {}
_apps_lock = threading.Lock()


def _kill_after() -> int | None:
    value = os.environ.get("CONSUMER_KILL_AFTER")
    return int(value) if value else None


def sqlite_fold(message: Message) -> None:
    """Handler: FoldApp on the SQLite file $CONSUMER_SQLITE."""
    with _apps_lock:
        if "sqlite" not in _apps:
            _apps["sqlite"] = FoldApp(sqlite_connect(os.environ["CONSUMER_SQLITE"]), "?", _kill_after())
    _apps["sqlite"](message)


def pg_fold(message: Message) -> None:
    """Handler: FoldApp on PostgreSQL $CONSUMER_PG_DSN, schema $CONSUMER_PG_SCHEMA (psycopg 3)."""
    import psycopg

    with _apps_lock:
        if "pg" not in _apps:
            conn = psycopg.connect(os.environ["CONSUMER_PG_DSN"],
                                   options=f"-c search_path={os.environ['CONSUMER_PG_SCHEMA']} {PG_OPTIONS}")
            _apps["pg"] = FoldApp(conn, "%s", _kill_after())
    _apps["pg"](message)


def slow_record(message: Message) -> None:
    """Handler: appends "start <body>" to $CONSUMER_LOG, sleeps $CONSUMER_SLEEP s, appends "done <body>"."""
    path = Path(os.environ["CONSUMER_LOG"])
    with path.open("a") as f:
        f.write(f"start {message.body}\n")
    time.sleep(float(os.environ.get("CONSUMER_SLEEP", "1")))
    with path.open("a") as f:
        f.write(f"done {message.body}\n")
