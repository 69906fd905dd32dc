"""The idempotent inbox on real databases — SQLite files (sqlite3 and SQLAlchemy) and PostgreSQL
(psycopg 3, a private schema) — and the key precedence that makes redelivered, replayed and recovered
messages count as the same message."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from postroom.consumer import RECOVERY_ID_ATTRIBUTE, Inbox, Message, from_sqs, identity, message_keys
from postroom.recovery.model import Recovered
from postroom.recovery.plan import identity_key, recovery_id
from tests.pg import drop_schema, new_schema, require_pg


def msg(message_id: str, body: str = "b", *, dedup: str | None = None, group: str | None = None,
        recovery: str | None = None, sns_id: str | None = None, original: str | None = None) -> Message:
    attributes: dict[str, str] = {"ApproximateReceiveCount": "1"}
    if dedup:
        attributes["MessageDeduplicationId"] = dedup
    if group:
        attributes["MessageGroupId"] = group
    mattrs = {}
    if recovery:
        mattrs[RECOVERY_ID_ATTRIBUTE] = {"DataType": "String", "StringValue": recovery}
    if original:
        mattrs["postroom-original-message-id"] = {"DataType": "String", "StringValue": original}
    raw_body = body
    if sns_id:
        raw_body = json.dumps({"Type": "Notification", "MessageId": sns_id, "TopicArn": "arn:aws:sns:r:1:t",
                               "Message": body})
    return from_sqs("q", {"MessageId": message_id, "ReceiptHandle": "rh", "Body": raw_body,
                          "Attributes": attributes, "MessageAttributes": mattrs})


# -- the databases ---------------------------------------------------------------------------------

class Db:
    """One application database: an Inbox over it, a way to change state inside the handler's
    transaction, and a way to read the state back from a separate connection."""

    def __init__(self, handle: Any, apply: Callable[[Message, Any], None], total: Callable[[], int],
                 keys: Callable[[], int]) -> None:
        self.handle, self.apply, self.total, self.keys = handle, apply, total, keys


def _sqlite_db(path: Path) -> Db:
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
    conn.execute("INSERT INTO counter VALUES (0)")
    conn.commit()

    def apply(m: Message, db: sqlite3.Connection) -> None:
        db.execute("UPDATE counter SET n = n + 1")

    def read(sql: str) -> int:
        with sqlite3.connect(path) as c:
            return int(c.execute(sql).fetchone()[0])

    return Db(conn, apply, lambda: read("SELECT n FROM counter"),
              lambda: read("SELECT count(*) FROM postroom_inbox"))


def _sqlalchemy_db(path: Path, engine_or_connection: str) -> Db:
    import sqlalchemy

    base = _sqlite_db(path)
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    handle = engine if engine_or_connection == "engine" else engine.connect()

    def apply(m: Message, conn: Any) -> None:
        conn.execute(sqlalchemy.text("UPDATE counter SET n = n + 1"))

    return Db(handle, apply, base.total, base.keys)


@pytest.fixture(params=["sqlite3", "sqlalchemy-engine", "sqlalchemy-connection", "psycopg", "psycopg-autocommit"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    kind = request.param
    if kind == "sqlite3":
        yield _sqlite_db(tmp_path / "a.db")
        return
    if kind.startswith("sqlalchemy"):
        yield _sqlalchemy_db(tmp_path / "a.db", kind.split("-")[1])
        return
    import psycopg

    dsn = require_pg()
    schema = new_schema()
    options = f"-c search_path={schema}"
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
        c.execute(f'CREATE TABLE "{schema}".counter (n INTEGER NOT NULL)')
        c.execute(f'INSERT INTO "{schema}".counter VALUES (0)')
    conn = psycopg.connect(dsn, options=options, autocommit=kind.endswith("autocommit"))

    def apply(m: Message, db: Any) -> None:
        db.execute("UPDATE counter SET n = n + 1")

    def read(sql: str) -> int:
        with psycopg.connect(dsn, options=options) as c:
            row = c.execute(sql).fetchone()
            return int(row[0]) if row else -1

    try:
        yield Db(conn, apply, lambda: read("SELECT n FROM counter"),
                 lambda: read("SELECT count(*) FROM postroom_inbox"))
    finally:
        conn.close()
        drop_schema(dsn, schema)


def test_second_delivery_has_no_effect(db: Db) -> None:
    inbox = Inbox(db.handle)
    first = msg("m-1", dedup="d-1", group="g")
    assert inbox.process(first, db.apply) is True
    assert inbox.process(first, db.apply) is False  # redelivery: same MessageId
    assert inbox.process(msg("m-2", dedup="d-1", group="g"), db.apply) is False  # same dedup id, new MessageId
    assert inbox.process(msg("m-3", dedup="d-3", group="g"), db.apply) is True
    assert db.total() == 2
    assert db.keys() == 4
    assert inbox.seen(first) and not inbox.seen(msg("m-9"))
    assert inbox.stats == {"applied": 2, "duplicates": 2, "rolled_back": 0}


def test_failure_rolls_back_state_and_key(db: Db) -> None:
    inbox = Inbox(db.handle)

    def apply_then_fail(m: Message, conn: Any) -> None:
        db.apply(m, conn)
        raise RuntimeError("after the state change")

    with pytest.raises(RuntimeError):
        inbox.process(msg("m-1"), apply_then_fail)
    assert db.total() == 0 and db.keys() == 0
    assert inbox.process(msg("m-1"), db.apply) is True  # the retry applies it, once
    assert db.total() == 1


def test_prune_forgets_old_keys_only(db: Db) -> None:
    inbox = Inbox(db.handle, scope="orders")
    other = Inbox(db.handle, scope="billing")
    for i in range(3):
        inbox.process(msg(f"m-{i}"), db.apply)
    other.process(msg("m-0"), db.apply)  # scopes are separate: the same message counts again there
    assert db.total() == 4
    assert inbox.prune(older_than=3600) == 0
    assert inbox.prune(older_than=-1) == 3
    assert db.keys() == 1 and other.seen(msg("m-0")) and not inbox.seen(msg("m-0"))


# -- which keys --------------------------------------------------------------------------------------

def _recovered_id(*, original_id: str | None = None, dedup_id: str | None = None) -> str:
    """The id `postroom recover` (issue #6) gives a message found in a log, computed by its own code."""
    found = Recovered(body="b", group="g", original_id=original_id, dedup_id=dedup_id, time=None, sequence=None,
                      attributes={}, source=0, line=1)
    return recovery_id(identity_key(found))


def test_recovered_message_matches_the_original(tmp_path: Path) -> None:
    db = _sqlite_db(tmp_path / "k.db")
    inbox = Inbox(db.handle)
    assert inbox.process(msg("sqs-1"), db.apply)
    assert inbox.process(msg("sqs-2", dedup="dd-2", group="g"), db.apply)
    assert inbox.process(msg("sqs-3", sns_id="sns-3"), db.apply)
    # recovered from logs that recorded the SQS MessageId, the dedup id, the SNS MessageId:
    for rid in (_recovered_id(original_id="sqs-1"), _recovered_id(dedup_id="dd-2"), _recovered_id(original_id="sns-3")):
        assert inbox.process(msg("new-" + rid[:6], recovery=rid, dedup=rid, group="g"), db.apply) is False
    # recovered twice (two runs over the same logs): the second has no effect either
    rid = _recovered_id(original_id="lost-4")
    assert inbox.process(msg("r-a", recovery=rid, original="lost-4"), db.apply) is True
    assert inbox.process(msg("r-b", recovery=rid, original="lost-4"), db.apply) is False
    assert db.total() == 4


def test_replay_keeps_the_sns_message_id(tmp_path: Path) -> None:
    db = _sqlite_db(tmp_path / "r.db")
    inbox = Inbox(db.handle)
    assert inbox.process(msg("sqs-a", sns_id="sns-1"), db.apply)
    assert inbox.process(msg("sqs-b", sns_id="sns-1"), db.apply) is False  # replayed: new SQS id, same SNS id
    assert inbox.process(msg("sqs-c", sns_id="sns-2"), db.apply)
    assert db.total() == 2


def test_key_precedence_and_options() -> None:
    m = msg("sqs-1", dedup="d", group="g", recovery="r" * 64, sns_id="sns-1")
    assert message_keys(m) == ("r" * 64, identity("dedup", "d"), identity("id", "sns-1"), identity("id", "sqs-1"))
    assert message_keys(m, use_dedup_id=False) == ("r" * 64, identity("id", "sns-1"), identity("id", "sqs-1"))
    assert message_keys(m, key=lambda x: "order-" + x.body) == ("order-b",)
    # content-based dedup: identical bodies share a dedup id; without dedup keys they are two messages
    twins = [msg(f"m{i}", dedup="sha-of-body", group="g") for i in range(2)]
    assert len({message_keys(t)[0] for t in twins}) == 1
    assert len({message_keys(t, use_dedup_id=False) for t in twins}) == 2


def test_inbox_refuses_unknown_handles() -> None:
    with pytest.raises(TypeError):
        Inbox(object())
    with pytest.raises(ValueError):
        Inbox(sqlite3.connect(":memory:"), table="x; DROP TABLE y")
