"""The delivery audit: per topic and per route, what was published, delivered, filtered
out, failed and unrouted in a time window — and what an operator woken at night needs to
be told about.

Findings (each names the topic, the route or endpoint, and the count):

* ``NO-SUBSCRIPTION`` — messages were published while the topic had no subscription;
* ``SUBSCRIBER-REMOVED`` — a subscription was deleted and the topic kept receiving
  messages after it (the incident: a subscriber left behind by a migration);
* ``ROUTE-SILENT`` — a route that existed through the window received nothing while its
  topic had traffic its filter policy would pass;
* ``DELIVERIES-FAILING`` — deliveries of a route failed;
* ``UNROUTED`` — messages every filter policy rejected, or whose every delivery failed;
* ``DLQ-FILLING`` — a dead-letter queue holds messages.

Everything is read from the store's accounting (summed per minute), the subscription log
and the queues: nothing is counted in memory, so every node answers the same.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from postroom.core.arns import parse_queue_arn
from postroom.core.model import ResourceKey
from postroom.core.sns.archive import RouteCounts
from postroom.core.sns.model import Subscription
from postroom.core.sns.publish_effects import MINUTE_MS
from postroom.store.base import Store


@dataclass(frozen=True)
class Finding:
    code: str
    topic_arn: str
    subject: str
    count: int
    message: str


@dataclass
class AuditReport:
    since_ms: int
    until_ms: int
    topics: dict[str, RouteCounts] = field(default_factory=dict)
    routes: dict[str, RouteCounts] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"since_ms": self.since_ms, "until_ms": self.until_ms,
                "topics": {k: asdict(v) for k, v in self.topics.items()},
                "routes": {k: asdict(v) for k, v in self.routes.items()},
                "findings": [asdict(f) for f in self.findings]}


def _bucket(ms: int) -> int:
    return ms - ms % MINUTE_MS


class AuditService:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def audit(self, since_ms: int, until_ms: int, topic_arn: str | None = None) -> AuditReport:
        report = AuditReport(since_ms, until_ms)
        for c in await self.store.audit_counts(_bucket(since_ms), until_ms):
            if topic_arn is not None and c.topic_arn != topic_arn:
                continue
            if c.sub_arn is None:
                report.topics[c.topic_arn] = c
            else:
                report.routes[c.sub_arn] = c
        subs = [s for s in await self.store.every_subscription() if topic_arn is None or s.topic_arn == topic_arn]
        events = await self.store.subscription_events(0, until_ms)
        created = {e.sub_arn: e.at_ms for e in events if e.event == "subscribed"}
        for arn, t in report.topics.items():
            if t.no_subscription:
                report.findings.append(Finding(
                    "NO-SUBSCRIPTION", arn, arn, t.no_subscription,
                    f"{t.no_subscription} message(s) published to {arn} reached no one: the topic had no subscription"))
            if t.unrouted_filtered or t.unrouted_failed:
                report.findings.append(Finding(
                    "UNROUTED", arn, arn, t.unrouted_filtered + t.unrouted_failed,
                    f"{t.unrouted_filtered} message(s) published to {arn} were rejected by every filter policy and "
                    f"{t.unrouted_failed} failed on every route; they are kept (postroom archive ls --unrouted)"))
        for sub in subs:
            topic_counts = report.topics.get(sub.topic_arn)
            r = report.routes.get(sub.arn, RouteCounts(sub.topic_arn, sub.arn))
            if r.failed:
                report.findings.append(Finding(
                    "DELIVERIES-FAILING", sub.topic_arn, sub.arn, r.failed,
                    f"{r.failed} delivery(ies) to {sub.protocol}:{sub.endpoint} failed"))
            old_enough = created.get(sub.arn, 0) <= since_ms
            if (topic_counts is not None and topic_counts.published and sub.confirmed and old_enough
                    and r.delivered + r.failed == 0 and r.filtered_out < topic_counts.published):
                passed = topic_counts.published - r.filtered_out
                report.findings.append(Finding(
                    "ROUTE-SILENT", sub.topic_arn, sub.arn, passed,
                    f"{sub.protocol}:{sub.endpoint} received nothing while {sub.topic_arn} had "
                    f"{passed} message(s) its filter policy passes"))
        live = {s.arn for s in subs}
        for e in events:
            if e.event != "unsubscribed" or e.sub_arn in live or (topic_arn is not None and e.topic_arn != topic_arn):
                continue
            if e.at_ms >= until_ms:
                continue
            # The gap ends where the same endpoint was subscribed to the topic again: what was
            # published after that reached it, so a restored route stops being reported once the
            # window has moved past the gap.
            back = min((r.at_ms for r in events if r.event == "subscribed" and r.topic_arn == e.topic_arn
                        and r.protocol == e.protocol and r.endpoint == e.endpoint and r.at_ms > e.at_ms),
                       default=until_ms)
            gap_end = min(back, until_ms)
            if gap_end <= since_ms:
                continue
            # Exact from the archive when the topic keeps one; else from the accounting's minutes,
            # the unsubscription's own minute included ("up to": better a finding too many).
            published = await self.store.archived_between(e.topic_arn, max(e.at_ms, since_ms), gap_end)
            exact = bool(published)
            if not published:
                after = [c for c in await self.store.audit_counts(max(_bucket(e.at_ms), _bucket(since_ms)), gap_end)
                         if c.topic_arn == e.topic_arn and c.sub_arn is None]
                published = sum(c.published for c in after)
            if published:
                report.findings.append(Finding(
                    "SUBSCRIBER-REMOVED", e.topic_arn, e.sub_arn, published,
                    f"{e.protocol}:{e.endpoint} was unsubscribed from {e.topic_arn}; {'' if exact else 'up to '}"
                    f"{published} message(s) published since did not reach it (replay them: postroom replay)"))
        await self._dead_letter_queues(report, subs, topic_arn)
        return report

    async def _dead_letter_queues(self, report: AuditReport, subs: list[Subscription], topic_arn: str | None) -> None:
        """Dead-letter queues holding messages: every one on the bus, or with ``topic_arn``
        those of the topic's subscriptions and of the queues they deliver to."""
        queues = await self.store.every_queue()
        if topic_arn is not None:
            endpoints = {s.endpoint for s in subs if s.protocol == "sqs"}
            queues_of_topic = [q for q in queues if q.arn in endpoints]
        else:
            queues_of_topic = queues
        targets: set[ResourceKey] = set()
        redrives = [q.attributes.get("RedrivePolicy") for q in queues_of_topic]
        for text in redrives + [s.attributes.get("RedrivePolicy") for s in subs]:
            if not text:
                continue
            try:
                targets.add(parse_queue_arn(json.loads(text)["deadLetterTargetArn"]).key)
            except (ValueError, KeyError, TypeError):
                continue
        for q in queues:
            if q.key not in targets:
                continue
            counts = await self.store.counts(q, report.until_ms)
            held = counts.visible + counts.in_flight + counts.delayed
            if held:
                report.findings.append(Finding(
                    "DLQ-FILLING", "", q.arn, held, f"dead-letter queue {q.arn} holds {held} message(s)"))
