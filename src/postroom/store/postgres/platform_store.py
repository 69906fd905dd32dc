"""The PostgreSQL store's mobile push, SMS, data protection and notification outbox (mixed into
``PostgresStore``). Nothing is cached: every node reads the same rows. A change is a function
of the row as stored, read ``FOR UPDATE`` in the transaction that writes it; creating an
endpoint locks its application's row first, so two nodes creating one token make one endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg

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

APP_COLUMNS = "arn, account, region, name, platform, attributes, credentials, created_ms"
ENDPOINT_COLUMNS = "arn, app_arn, token, attributes, created_ms"
TRIM = ("DELETE FROM notification_outbox WHERE kind = $1 AND id <= (SELECT id FROM notification_outbox WHERE kind = $1 "
        "ORDER BY id DESC LIMIT 1 OFFSET $2)")


def app_record(r: Any) -> PlatformApplication:
    return PlatformApplication(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), json.loads(r[6]), int(r[7]))


def endpoint_record(r: Any) -> PlatformEndpoint:
    return PlatformEndpoint(r[0], r[1], r[2], json.loads(r[3]), int(r[4]))


async def write_notifications(conn: asyncpg.Connection, notifications: Sequence[nt.Notification],
                              now_ms: int) -> list[CountRow]:
    """Write outbox entries inside the caller's transaction; returns the accounting rows of the
    topic deliveries among them (see the SQLite store's twin)."""
    if not notifications:
        return []
    endpoints: dict[str, PlatformEndpoint | None] = {}
    for arn in nt.push_arns(notifications):
        row = await conn.fetchrow(f"SELECT {ENDPOINT_COLUMNS} FROM platform_endpoints WHERE arn = $1", arn)
        endpoints[arn] = endpoint_record(row) if row is not None else None
    rows, outcomes = nt.resolve(notifications, endpoints, now_ms)
    if rows:
        await conn.executemany("INSERT INTO notification_outbox (kind, destination, doc, created_ms) VALUES "
                               "($1, $2, $3, $4)", [(r.kind, r.destination, r.doc, r.created_ms) for r in rows])
    for kind in sorted({r.kind for r in rows}):
        await conn.execute(TRIM, kind, nt.OUTBOX_KEEP)
    return [delivery_count(topic_arn, sub_arn, now_ms, ok) for topic_arn, sub_arn, ok in outcomes]


class PostgresPlatformStore:
    _tx: Callable[..., Awaitable[Any]]

    # ---- applications -------------------------------------------------------------
    async def put_application(self, app: PlatformApplication) -> PlatformApplication:
        row = await self._tx(lambda c: c.fetchrow(
            f"INSERT INTO platform_apps ({APP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (arn) DO "
            f"UPDATE SET attributes = excluded.attributes, credentials = excluded.credentials RETURNING {APP_COLUMNS}",
            app.arn, app.account, app.region, app.name, app.platform, json.dumps(app.attributes),
            json.dumps(app.credentials), app.created_ms), transaction=False)
        return app_record(row)

    async def get_application(self, arn: str) -> PlatformApplication | None:
        row = await self._tx(lambda c: c.fetchrow(f"SELECT {APP_COLUMNS} FROM platform_apps WHERE arn = $1", arn),
                             transaction=False)
        return app_record(row) if row is not None else None

    async def list_applications(self, account: str, region: str, after: str | None,
                                limit: int) -> list[PlatformApplication]:
        rows = await self._tx(lambda c: c.fetch(
            f"SELECT {APP_COLUMNS} FROM platform_apps WHERE account = $1 AND region = $2 AND arn > $3 ORDER BY arn "
            "LIMIT $4", account, region, after or "", limit), transaction=False)
        return [app_record(r) for r in rows]

    async def update_application(self, arn: str,
                                 change: Callable[[PlatformApplication], PlatformApplication]) -> PlatformApplication:
        async def op(conn: asyncpg.Connection) -> PlatformApplication:
            row = await conn.fetchrow(f"SELECT {APP_COLUMNS} FROM platform_apps WHERE arn = $1 FOR UPDATE", arn)
            if row is None:
                raise application_not_found()
            updated = change(app_record(row))
            await conn.execute("UPDATE platform_apps SET attributes = $2, credentials = $3 WHERE arn = $1", arn,
                               json.dumps(updated.attributes), json.dumps(updated.credentials))
            return updated

        result: PlatformApplication = await self._tx(op)
        return result

    async def delete_application(self, arn: str) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute("DELETE FROM platform_apps WHERE arn = $1", arn)
            await conn.execute("DELETE FROM platform_endpoints WHERE app_arn = $1", arn)

        await self._tx(op)

    # ---- endpoints -----------------------------------------------------------------
    async def create_endpoint(self, endpoint: PlatformEndpoint,
                              same: Callable[[PlatformEndpoint], bool]) -> PlatformEndpoint:
        async def op(conn: asyncpg.Connection) -> PlatformEndpoint:
            if await conn.fetchval("SELECT 1 FROM platform_apps WHERE arn = $1 FOR UPDATE", endpoint.app_arn) is None:
                raise application_not_found()
            row = await conn.fetchrow(f"SELECT {ENDPOINT_COLUMNS} FROM platform_endpoints WHERE app_arn = $1 AND "
                                      "token = $2", endpoint.app_arn, endpoint.token)
            if row is not None:
                existing = endpoint_record(row)
                if not same(existing):
                    raise conflict(existing)
                return existing
            await conn.execute(f"INSERT INTO platform_endpoints ({ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5)",
                               endpoint.arn, endpoint.app_arn, endpoint.token, json.dumps(endpoint.attributes),
                               endpoint.created_ms)
            return endpoint

        result: PlatformEndpoint = await self._tx(op)
        return result

    async def get_endpoint(self, arn: str) -> PlatformEndpoint | None:
        row = await self._tx(lambda c: c.fetchrow(f"SELECT {ENDPOINT_COLUMNS} FROM platform_endpoints WHERE arn = $1",
                                                  arn), transaction=False)
        return endpoint_record(row) if row is not None else None

    async def list_endpoints(self, app_arn: str, after: str | None, limit: int) -> list[PlatformEndpoint]:
        rows = await self._tx(lambda c: c.fetch(
            f"SELECT {ENDPOINT_COLUMNS} FROM platform_endpoints WHERE app_arn = $1 AND arn > $2 ORDER BY arn LIMIT $3",
            app_arn, after or "", limit), transaction=False)
        return [endpoint_record(r) for r in rows]

    async def update_endpoint(self, arn: str,
                              change: Callable[[PlatformEndpoint], PlatformEndpoint]) -> PlatformEndpoint:
        async def op(conn: asyncpg.Connection) -> PlatformEndpoint:
            row = await conn.fetchrow(f"SELECT {ENDPOINT_COLUMNS} FROM platform_endpoints WHERE arn = $1 FOR UPDATE",
                                      arn)
            if row is None:
                raise endpoint_not_found()
            updated = change(endpoint_record(row))
            await conn.execute("UPDATE platform_endpoints SET token = $2, attributes = $3 WHERE arn = $1", arn,
                               updated.token, json.dumps(updated.attributes))
            return updated

        result: PlatformEndpoint = await self._tx(op)
        return result

    async def delete_endpoint(self, arn: str) -> None:
        await self._tx(lambda c: c.execute("DELETE FROM platform_endpoints WHERE arn = $1", arn), transaction=False)

    # ---- SMS -----------------------------------------------------------------------
    async def sms_settings(self, account: str, region: str) -> dict[str, str]:
        found = await self._tx(lambda c: c.fetchval(
            "SELECT attributes FROM sms_settings WHERE account = $1 AND region = $2", account, region),
            transaction=False)
        return dict(json.loads(found)) if found is not None else {}

    async def update_sms_settings(self, account: str, region: str, values: dict[str, str]) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute("INSERT INTO sms_settings (account, region, attributes) VALUES ($1, $2, '{}') ON "
                               "CONFLICT (account, region) DO NOTHING", account, region)
            current = await conn.fetchval("SELECT attributes FROM sms_settings WHERE account = $1 AND region = $2 "
                                          "FOR UPDATE", account, region)
            merged = {**json.loads(current), **values}
            await conn.execute("UPDATE sms_settings SET attributes = $3 WHERE account = $1 AND region = $2", account,
                               region, json.dumps(merged))

        await self._tx(op)

    async def sms_numbers(self, account: str, region: str, kind: str) -> list[tuple[str, str]]:
        rows = await self._tx(lambda c: c.fetch(
            "SELECT phone, status FROM sms_numbers WHERE account = $1 AND region = $2 AND kind = $3 ORDER BY phone",
            account, region, kind), transaction=False)
        return [(r[0], r[1]) for r in rows]

    async def get_sms_number(self, account: str, region: str, kind: str,
                             phone: str) -> tuple[str, str | None] | None:
        row = await self._tx(lambda c: c.fetchrow(
            "SELECT status, secret FROM sms_numbers WHERE account = $1 AND region = $2 AND kind = $3 AND phone = $4",
            account, region, kind, phone), transaction=False)
        return (row[0], row[1]) if row is not None else None

    async def put_sms_number(self, account: str, region: str, kind: str, phone: str, status: str,
                             secret: str | None, now_ms: int,
                             notifications: Sequence[nt.Notification] = ()) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "INSERT INTO sms_numbers (account, region, kind, phone, status, secret, created_ms) VALUES "
                "($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account, region, kind, phone) DO UPDATE SET status = "
                "excluded.status, secret = excluded.secret", account, region, kind, phone, status, secret, now_ms)
            await write_notifications(conn, notifications, now_ms)

        await self._tx(op)

    async def delete_sms_number(self, account: str, region: str, kind: str, phone: str) -> bool:
        status = await self._tx(lambda c: c.execute(
            "DELETE FROM sms_numbers WHERE account = $1 AND region = $2 AND kind = $3 AND phone = $4", account, region,
            kind, phone), transaction=False)
        return str(status).endswith(" 1")

    # ---- data protection -------------------------------------------------------------
    async def put_data_protection(self, topic: Topic, policy: str) -> None:
        if policy:
            await self._tx(lambda c: c.execute(
                "INSERT INTO data_protection (topic_id, policy) VALUES ($1, $2) ON CONFLICT (topic_id) DO UPDATE SET "
                "policy = excluded.policy", topic.topic_id, policy), transaction=False)
        else:
            await self._tx(lambda c: c.execute("DELETE FROM data_protection WHERE topic_id = $1", topic.topic_id),
                           transaction=False)

    async def get_data_protection(self, topic: Topic) -> str | None:
        found = await self._tx(lambda c: c.fetchval("SELECT policy FROM data_protection WHERE topic_id = $1",
                                                    topic.topic_id), transaction=False)
        return str(found) if found is not None else None

    # ---- the notification outbox ---------------------------------------------------------
    async def add_notifications(self, notifications: Sequence[nt.Notification], now_ms: int) -> None:
        await self._tx(lambda c: write_notifications(c, notifications, now_ms))

    async def notifications(self, kind: str, destination: str | None, limit: int) -> list[dict[str, object]]:
        rows = await self._tx(lambda c: c.fetch(
            "SELECT id, doc FROM notification_outbox WHERE kind = $1 AND ($2 = '' OR destination = $2) ORDER BY id "
            "DESC LIMIT $3", kind, destination or "", limit), transaction=False)
        return [nt.entry(int(r[0]), r[1]) for r in reversed(rows)]
