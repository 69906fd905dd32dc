"""The SQLite store's mobile push, SMS, data protection and notification outbox (mixed into
``SqliteStore``). Writes run on the writer thread (one writer: a token checked and an endpoint
inserted in one operation cannot race); reads on the read-only connection.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from postroom.core.sns import notifications as nt
from postroom.core.sns.model import Topic
from postroom.core.sns.platform import (
    PlatformApplication,
    PlatformEndpoint,
    application_not_found,
    conflict,
    endpoint_not_found,
)
from postroom.core.sns.publish_effects import CountRow, delivery_count
from postroom.store.sqlite.reader import Reader
from postroom.store.sqlite.writer import Writer

APP_COLUMNS = "arn, account, region, name, platform, attributes, credentials, created_ms"
ENDPOINT_COLUMNS = "arn, app_arn, token, attributes, created_ms"
TRIM = ("DELETE FROM notification_outbox WHERE kind = ? AND id <= (SELECT id FROM notification_outbox WHERE kind = ? "
        "ORDER BY id DESC LIMIT 1 OFFSET ?)")


def app_record(r: Any) -> PlatformApplication:
    return PlatformApplication(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), json.loads(r[6]), int(r[7]))


def endpoint_record(r: Any) -> PlatformEndpoint:
    return PlatformEndpoint(r[0], r[1], r[2], json.loads(r[3]), int(r[4]))


def _endpoint(conn: sqlite3.Connection, arn: str) -> PlatformEndpoint | None:
    row = conn.execute(f"SELECT {ENDPOINT_COLUMNS} FROM platform_endpoints WHERE arn = ?", (arn,)).fetchone()
    return endpoint_record(row) if row is not None else None


def write_notifications(conn: sqlite3.Connection, notifications: Sequence[nt.Notification],
                        now_ms: int) -> list[CountRow]:
    """Write outbox entries inside the caller's transaction (a publish's, a subscribe's); returns
    the accounting rows of the topic deliveries among them (delivered, or failed: a push to an
    endpoint that is gone or disabled)."""
    if not notifications:
        return []
    endpoints = {arn: _endpoint(conn, arn) for arn in nt.push_arns(notifications)}
    rows, outcomes = nt.resolve(notifications, endpoints, now_ms)
    conn.executemany("INSERT INTO notification_outbox (kind, destination, doc, created_ms) VALUES (?, ?, ?, ?)",
                     [(r.kind, r.destination, r.doc, r.created_ms) for r in rows])
    for kind in {r.kind for r in rows}:
        conn.execute(TRIM, (kind, kind, nt.OUTBOX_KEEP))
    return [delivery_count(topic_arn, sub_arn, now_ms, ok) for topic_arn, sub_arn, ok in outcomes]


class SqlitePlatformStore:
    _writer: Writer
    _reader: Reader

    # ---- applications -------------------------------------------------------------
    async def put_application(self, app: PlatformApplication) -> PlatformApplication:
        def op(conn: sqlite3.Connection) -> PlatformApplication:
            conn.execute(
                f"INSERT INTO platform_apps ({APP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (arn) DO "
                "UPDATE SET attributes = excluded.attributes, credentials = excluded.credentials",
                (app.arn, app.account, app.region, app.name, app.platform, json.dumps(app.attributes),
                 json.dumps(app.credentials), app.created_ms))
            return app_record(conn.execute(f"SELECT {APP_COLUMNS} FROM platform_apps WHERE arn = ?",
                                           (app.arn,)).fetchone())

        return await self._writer.call(op)

    async def get_application(self, arn: str) -> PlatformApplication | None:
        def op(conn: sqlite3.Connection) -> PlatformApplication | None:
            row = conn.execute(f"SELECT {APP_COLUMNS} FROM platform_apps WHERE arn = ?", (arn,)).fetchone()
            return app_record(row) if row is not None else None

        return await self._reader.call(op)

    async def list_applications(self, account: str, region: str, after: str | None,
                                limit: int) -> list[PlatformApplication]:
        def op(conn: sqlite3.Connection) -> list[PlatformApplication]:
            rows = conn.execute(f"SELECT {APP_COLUMNS} FROM platform_apps WHERE account = ? AND region = ? AND arn > ? "
                                "ORDER BY arn LIMIT ?", (account, region, after or "", limit)).fetchall()
            return [app_record(r) for r in rows]

        return await self._reader.call(op)

    async def update_application(self, arn: str,
                                 change: Callable[[PlatformApplication], PlatformApplication]) -> PlatformApplication:
        def op(conn: sqlite3.Connection) -> PlatformApplication:
            row = conn.execute(f"SELECT {APP_COLUMNS} FROM platform_apps WHERE arn = ?", (arn,)).fetchone()
            if row is None:
                raise application_not_found()
            updated = change(app_record(row))
            conn.execute("UPDATE platform_apps SET attributes = ?, credentials = ? WHERE arn = ?",
                         (json.dumps(updated.attributes), json.dumps(updated.credentials), arn))
            return updated

        return await self._writer.call(op)

    async def delete_application(self, arn: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM platform_apps WHERE arn = ?", (arn,))
            conn.execute("DELETE FROM platform_endpoints WHERE app_arn = ?", (arn,))

        await self._writer.call(op)

    # ---- endpoints -----------------------------------------------------------------
    async def create_endpoint(self, endpoint: PlatformEndpoint,
                              same: Callable[[PlatformEndpoint], bool]) -> PlatformEndpoint:
        def op(conn: sqlite3.Connection) -> PlatformEndpoint:
            if conn.execute("SELECT 1 FROM platform_apps WHERE arn = ?", (endpoint.app_arn,)).fetchone() is None:
                raise application_not_found()
            row = conn.execute(f"SELECT {ENDPOINT_COLUMNS} FROM platform_endpoints WHERE app_arn = ? AND token = ?",
                               (endpoint.app_arn, endpoint.token)).fetchone()
            if row is not None:
                existing = endpoint_record(row)
                if not same(existing):
                    raise conflict(existing)
                return existing
            conn.execute(f"INSERT INTO platform_endpoints ({ENDPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                         (endpoint.arn, endpoint.app_arn, endpoint.token, json.dumps(endpoint.attributes),
                          endpoint.created_ms))
            return endpoint

        return await self._writer.call(op)

    async def get_endpoint(self, arn: str) -> PlatformEndpoint | None:
        return await self._reader.call(lambda conn: _endpoint(conn, arn))

    async def list_endpoints(self, app_arn: str, after: str | None, limit: int) -> list[PlatformEndpoint]:
        def op(conn: sqlite3.Connection) -> list[PlatformEndpoint]:
            rows = conn.execute(f"SELECT {ENDPOINT_COLUMNS} FROM platform_endpoints WHERE app_arn = ? AND arn > ? "
                                "ORDER BY arn LIMIT ?", (app_arn, after or "", limit)).fetchall()
            return [endpoint_record(r) for r in rows]

        return await self._reader.call(op)

    async def update_endpoint(self, arn: str,
                              change: Callable[[PlatformEndpoint], PlatformEndpoint]) -> PlatformEndpoint:
        def op(conn: sqlite3.Connection) -> PlatformEndpoint:
            current = _endpoint(conn, arn)
            if current is None:
                raise endpoint_not_found()
            updated = change(current)
            conn.execute("UPDATE platform_endpoints SET token = ?, attributes = ? WHERE arn = ?",
                         (updated.token, json.dumps(updated.attributes), arn))
            return updated

        return await self._writer.call(op)

    async def delete_endpoint(self, arn: str) -> None:
        await self._writer.call(lambda conn: conn.execute("DELETE FROM platform_endpoints WHERE arn = ?", (arn,)))

    # ---- SMS -----------------------------------------------------------------------
    async def sms_settings(self, account: str, region: str) -> dict[str, str]:
        def op(conn: sqlite3.Connection) -> dict[str, str]:
            row = conn.execute("SELECT attributes FROM sms_settings WHERE account = ? AND region = ?",
                               (account, region)).fetchone()
            return dict(json.loads(row[0])) if row is not None else {}

        return await self._reader.call(op)

    async def update_sms_settings(self, account: str, region: str, values: dict[str, str]) -> None:
        def op(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT attributes FROM sms_settings WHERE account = ? AND region = ?",
                               (account, region)).fetchone()
            merged = {**(json.loads(row[0]) if row is not None else {}), **values}
            conn.execute("INSERT INTO sms_settings (account, region, attributes) VALUES (?, ?, ?) ON CONFLICT "
                         "(account, region) DO UPDATE SET attributes = excluded.attributes",
                         (account, region, json.dumps(merged)))

        await self._writer.call(op)

    async def sms_numbers(self, account: str, region: str, kind: str) -> list[tuple[str, str]]:
        def op(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            return [(r[0], r[1]) for r in conn.execute(
                "SELECT phone, status FROM sms_numbers WHERE account = ? AND region = ? AND kind = ? ORDER BY phone",
                (account, region, kind))]

        return await self._reader.call(op)

    async def get_sms_number(self, account: str, region: str, kind: str,
                             phone: str) -> tuple[str, str | None] | None:
        def op(conn: sqlite3.Connection) -> tuple[str, str | None] | None:
            row = conn.execute("SELECT status, secret FROM sms_numbers WHERE account = ? AND region = ? AND kind = ? "
                               "AND phone = ?", (account, region, kind, phone)).fetchone()
            return (row[0], row[1]) if row is not None else None

        return await self._reader.call(op)

    async def put_sms_number(self, account: str, region: str, kind: str, phone: str, status: str,
                             secret: str | None, now_ms: int,
                             notifications: Sequence[nt.Notification] = ()) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO sms_numbers (account, region, kind, phone, status, secret, created_ms) VALUES "
                         "(?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, kind, phone) DO UPDATE SET status = "
                         "excluded.status, secret = excluded.secret",
                         (account, region, kind, phone, status, secret, now_ms))
            write_notifications(conn, notifications, now_ms)

        await self._writer.call(op)

    async def delete_sms_number(self, account: str, region: str, kind: str, phone: str) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            return bool(conn.execute("DELETE FROM sms_numbers WHERE account = ? AND region = ? AND kind = ? AND "
                                     "phone = ?", (account, region, kind, phone)).rowcount)

        return await self._writer.call(op)

    # ---- data protection -------------------------------------------------------------
    async def put_data_protection(self, topic: Topic, policy: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            if policy:
                conn.execute("INSERT INTO data_protection (topic_id, policy) VALUES (?, ?) ON CONFLICT (topic_id) DO "
                             "UPDATE SET policy = excluded.policy", (topic.topic_id, policy))
            else:
                conn.execute("DELETE FROM data_protection WHERE topic_id = ?", (topic.topic_id,))

        await self._writer.call(op)

    async def get_data_protection(self, topic: Topic) -> str | None:
        def op(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT policy FROM data_protection WHERE topic_id = ?", (topic.topic_id,)).fetchone()
            return str(row[0]) if row is not None else None

        return await self._reader.call(op)

    # ---- the notification outbox ---------------------------------------------------------
    async def add_notifications(self, notifications: Sequence[nt.Notification], now_ms: int) -> None:
        await self._writer.call(lambda conn: write_notifications(conn, notifications, now_ms))

    async def notifications(self, kind: str, destination: str | None, limit: int) -> list[dict[str, object]]:
        def op(conn: sqlite3.Connection) -> list[dict[str, object]]:
            rows = conn.execute("SELECT id, doc FROM notification_outbox WHERE kind = ? AND (? = '' OR "
                                "destination = ?) ORDER BY id DESC LIMIT ?",
                                (kind, destination or "", destination or "", limit)).fetchall()
            return [nt.entry(int(r[0]), r[1]) for r in reversed(rows)]

        return await self._reader.call(op)
