"""postroom's own HTTP API, beside the AWS ones: what the operator CLI (``postroom archive``,
``replay``, ``audit``) and a dashboard read. JSON in, JSON out; times are epoch
milliseconds or ISO 8601.

    GET  /_postroom/accounting              per topic and subscription, all time
    GET  /_postroom/archive                 per topic: messages, bytes, oldest, unrouted
    GET  /_postroom/archive/messages        ?topic=ARN&unrouted=1&since=&until=&limit=
    GET  /_postroom/replays                 ?arn=SUBSCRIPTION_OR_TOPIC_ARN&limit=
    GET  /_postroom/replays/<id>
    POST /_postroom/replays                 {"topic", "to", "since", "until", "unrouted", "rate", "raw",
                                             "dry_run", "requested_by"}
    GET  /_postroom/audit                   ?topic=ARN&since=&until=
    GET  /_postroom/outbox/<sms|email|push> ?destination=&limit=   what SNS would have sent, newest last
    POST /_postroom/sms/opted-out           {"phone_number", "account", "region"}: the number replied STOP
    GET  /metrics                           Prometheus text
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qs

from postroom.clock import Clock
from postroom.core.sns import replay as rp
from postroom.core.sns.archive import ArchivedMessage
from postroom.core.sns.notifications import KINDS, OUTBOX_KEEP
from postroom.core.sns.replay import Replay, parse_timestamp
from postroom.errors import InvalidParameter, NotFound, PostroomError
from postroom.protocol.http import Response
from postroom.server import metrics
from postroom.service.audit import AuditService
from postroom.service.context import parse_topic_arn
from postroom.service.replay import DryRun, ReplayService
from postroom.service.sns import SnsService
from postroom.service.sns_platform import PlatformService
from postroom.store.base import Store

JSON = [(b"content-type", b"application/json")]


def _json(status: int, doc: Any, action: str) -> Response:
    return Response(status, JSON, json.dumps(doc).encode(), action)


def _json_object(body: bytes) -> dict[str, Any]:
    """A request body that must be a JSON object (ValueError otherwise: answered 400)."""
    doc = json.loads(body or b"{}")
    if not isinstance(doc, dict):
        raise ValueError("the request body must be a JSON object")
    return doc


def _time(value: Any, default: int) -> int:
    if value in (None, ""):
        return default
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    return parse_timestamp(str(value), "time", "")


def replay_json(r: Replay) -> dict[str, Any]:
    doc = asdict(r)
    doc["queue"] = asdict(r.queue) if r.queue else None
    return doc


def message_json(m: ArchivedMessage) -> dict[str, Any]:
    doc = asdict(m)
    doc["attributes"] = {k: [t, base64.b64encode(v).decode() if isinstance(v, bytes) else v]
                         for k, (t, v) in m.attributes.items()}
    return doc


class AdminApi:
    def __init__(self, store: Store, clock: Clock, sns: SnsService, replays: ReplayService) -> None:
        self.store = store
        self.clock = clock
        self.sns = sns
        self.replays = replays
        self.audits = AuditService(store)

    async def handle(self, method: str, path: str, query_string: bytes, body: bytes) -> Response | None:
        """The answer to an admin request, or ``None`` if the path is not one."""
        q = {k: v[-1] for k, v in parse_qs(query_string.decode("latin-1")).items()}
        try:
            if path == "/metrics" and method == "GET":
                return Response(200, [(b"content-type", metrics.CONTENT_TYPE)],
                                await metrics.render(self.store, self.clock.now_ms()), "metrics")
            if path == "/_postroom/accounting" and method == "GET":
                return await self._accounting()
            if path == "/_postroom/archive" and method == "GET":
                stats = await self.store.archive_stats()
                return _json(200, {"topics": [asdict(s) for s in stats]}, "archive")
            if path == "/_postroom/archive/messages" and method == "GET":
                found = await self.store.archive_list(q.get("topic") or None, q.get("unrouted") in ("1", "true"),
                                                      _time(q.get("since"), 0),
                                                      _time(q.get("until"), self.clock.now_ms()),
                                                      int(q.get("limit", "100")))
                return _json(200, {"messages": [message_json(m) for m in found]}, "archive-ls")
            if path == "/_postroom/replays" and method == "GET":
                found_replays = await self.store.replays(q.get("arn") or None, int(q.get("limit", "50")))
                return _json(200, {"replays": [replay_json(r) for r in found_replays]}, "replays")
            if path.startswith("/_postroom/replays/") and method == "GET":
                replay = await self.store.get_replay(path.rsplit("/", 1)[-1])
                if replay is None:
                    return _json(404, {"error": "NotFound", "message": "no such replay"}, "replay")
                return _json(200, {"replay": replay_json(replay)}, "replay")
            if path == "/_postroom/replays" and method == "POST":
                return await self._start_replay(_json_object(body))
            if path.startswith("/_postroom/outbox/") and method == "GET":
                return await self._outbox(path.rsplit("/", 1)[-1], q)
            if path == "/_postroom/sms/opted-out" and method == "POST":
                doc = _json_object(body)
                await PlatformService(self.sns).opt_out(str(doc.get("account") or "000000000000"),
                                                        str(doc.get("region") or "us-east-1"),
                                                        str(doc.get("phone_number") or ""))
                return _json(200, {"opted_out": doc.get("phone_number")}, "sms-opt-out")
            if path == "/_postroom/audit" and method == "GET":
                now = self.clock.now_ms()
                report = await self.audits.audit(_time(q.get("since"), 0), _time(q.get("until"), now),
                                                 q.get("topic") or None)
                return _json(200, report.to_json(), "audit")
        except (PostroomError, ValueError, KeyError, TypeError, RecursionError) as exc:
            code = type(exc).__name__
            status = 404 if isinstance(exc, NotFound) else 400
            return _json(status, {"error": code, "message": str(exc)}, "admin")
        return None

    async def _outbox(self, kind: str, q: dict[str, str]) -> Response:
        """What SMS, email and mobile push would have sent (``postroom.core.sns.notifications``),
        newest last; ``?destination=`` keeps one phone number, address or device token, ``?limit=``
        the newest N (default: all kept, at most 1,000 per kind)."""
        if kind not in KINDS:
            raise NotFound(f"no outbox {kind!r}: sms, email or push")
        entries = await PlatformService(self.sns).outbox(kind, q.get("destination") or None,
                                                         int(q.get("limit", str(OUTBOX_KEEP))))
        return _json(200, entries, f"outbox-{kind}")

    async def _accounting(self) -> Response:
        """Every message that reached no one is counted: per topic, published and unrouted by
        cause; per subscription, delivered, filtered out, failed."""
        topics, subs = await self.sns.counts()
        doc = {"topics": {arn: {"published": c.published, "no_subscribers": c.no_subscribers,
                                "unrouted": {"no-subscription": c.no_subscribers, "filtered": c.unrouted_filtered,
                                             "failed": c.unrouted_failed}}
                          for arn, c in topics.items()},
               "subscriptions": {arn: {"delivered": c.delivered, "filtered_out": c.filtered_out,
                                       "failed": c.failed} for arn, c in subs.items()}}
        return _json(200, doc, "accounting")

    async def _start_replay(self, doc: dict[str, Any]) -> Response:
        topic_arn = doc.get("topic")
        if not isinstance(topic_arn, str) or not isinstance(doc.get("to"), str):
            raise InvalidParameter("topic and to are required")
        topic = await self.store.get_topic(parse_topic_arn(topic_arn))
        if topic is None:
            raise NotFound(f"Topic {topic_arn} does not exist")
        rate = doc.get("rate")
        result = await self.replays.request(
            topic, doc["to"], _time(doc.get("since"), 0), _time(doc.get("until"), self.clock.now_ms()),
            selection=rp.UNROUTED_ONLY if doc.get("unrouted") else rp.ALL_MESSAGES,
            rate=int(rate) if rate is not None else None, raw=bool(doc.get("raw")),
            requested_by=str(doc.get("requested_by") or "postroom replay"), dry_run=bool(doc.get("dry_run")))
        if isinstance(result, DryRun):
            return _json(200, {"dry_run": {"topic": result.topic_arn, "to": result.target,
                                           **asdict(result.window)}}, "replay-dry-run")
        return _json(200, {"replay": replay_json(result)}, "replay-start")
