"""`postroom verify`: is the live topology what the file declares, is it healthy, and — with
``probe`` — does every declared topic → queue route actually deliver?

1. Drift: the plan that would make live match the file (:func:`diff.compute_changes`); every
   step is a DRIFT finding (error).
2. Health: QUEUE-MISSING, QUEUE-POLICY, DLQ-TYPE, REPLAY-PAUSED on the live state, for resources
   in the file's scope.
3. Probes (see :mod:`postroom.probe`): one probe per declared topic that has SQS routes,
   published to the real topic; each subscribed queue's receiver answers on a temporary reply
   queue, naming the queue it read the probe from. With ``consume`` verify is that receiver
   itself: it receives from each route's queue, answers and deletes probes, and releases any other
   message as soon as its pass over the queue ends (ChangeMessageVisibility 0 — that message's
   ApproximateReceiveCount grows by one). The reply queue is deleted at the end.

A route whose subscription has a filter policy gets a probe of its own, meant for its queue, that
carries a sample message the policy accepts: the subscription's ``sample:`` from the file, else one
derived from the policy (:mod:`.probe_samples`) — sample attributes next to the probe's attribute,
a sample body with the probe's key added. Only when no sample can be derived is the route "not
probeable". HTTP(S) routes are not probed (probes are answered from SQS queues).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import ClientError

from postroom.awsclient import AwsTarget
from postroom.probe import REPLY_QUEUE_PREFIX, Probe, Reply, probe_of, reply
from postroom.topology.checks import HEALTH_CHECKS, apply_overrides, run_checks_detailed
from postroom.topology.checks.registry import CHECKS
from postroom.topology.diff import compute_changes
from postroom.topology.model import (
    Change,
    CheckOverride,
    Declared,
    Finding,
    Sample,
    Subscription,
    SubscriptionKey,
    Topology,
)
from postroom.topology.probe_samples import PROBE_MARKER, body_object, derive_sample, dumps

__all__ = ["REPLY_QUEUE_PREFIX", "RouteResult", "VerifyReport", "verify"]
# verify --consume releases at most this many non-probe messages per queue, then gives up on that
# queue: a backlog must not have every message's receive count raised while a probe is looked for.
MAX_FOREIGN_PER_QUEUE = 50

RouteStatus = Literal["confirmed", "not confirmed", "not probeable"]


@dataclass
class RouteResult:
    topic: str
    queue: str
    status: RouteStatus
    received_by: str | None = None
    latency_ms: float | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "queue": self.queue, "status": self.status, "received_by": self.received_by,
                "latency_ms": self.latency_ms, "reason": self.reason}


@dataclass
class VerifyReport:
    drift: list[Finding]
    health: list[Finding]
    silenced: list[tuple[Finding, CheckOverride]] = field(default_factory=list)
    routes: list[RouteResult] = field(default_factory=list)
    probed: bool = False
    consumed: bool = False
    released: int = 0  # non-probe messages verify --consume received and released at once
    stale_probes: int = 0  # probes of other (finished) runs verify --consume found and deleted
    extra_routes: list[str] = field(default_factory=list)  # probes that arrived at an undeclared queue

    @property
    def findings(self) -> list[Finding]:
        return self.drift + self.health

    @property
    def ok(self) -> bool:
        return (not any(f.severity == "error" for f in self.findings)
                and not any(r.status == "not confirmed" for r in self.routes))

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "drift": [f.as_dict() for f in self.drift],
                "health": [f.as_dict() for f in self.health],
                "silenced": [{**f.as_dict(), "reason": o.reason} for f, o in self.silenced],
                "probe": self.probed, "consume": self.consumed, "routes": [r.as_dict() for r in self.routes],
                "released": self.released, "stale_probes": self.stale_probes, "extra_routes": self.extra_routes}

    def render(self) -> str:
        lines = [f"drift: {'none' if not self.drift else f'{len(self.drift)} difference(s)'}"]
        lines += [f"  {_mark(f)} {f.message}\n      fix: {f.fix}" for f in self.drift]
        serious = sum(f.severity != "info" for f in self.health)
        infos = len(self.health) - serious
        lines.append(f"health: {f'{serious} finding(s)' if serious else 'ok'}" + (f", {infos} info" if infos else ""))
        lines += [f"  {_mark(f)} {f.check} ({f.severity}): {f.message}"
                  + ("" if f.severity == "info" else f"\n      fix: {f.fix}") for f in self.health]
        if self.silenced:
            lines.append(f"silenced: {len(self.silenced)}")
            lines += [f"  - {f.check}: {f.message} — reason: {o.reason}" for f, o in self.silenced]
        if self.probed:
            counts = {s: sum(r.status == s for r in self.routes) for s in ("confirmed", "not confirmed",
                                                                          "not probeable")}
            how = " (verify consumed the probes itself)" if self.consumed else ""
            lines.append("routes: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + how)
            for r in self.routes:
                mark = {"confirmed": "✓", "not confirmed": "✗", "not probeable": "–"}[r.status]
                detail = (f"confirmed by {r.received_by} in {r.latency_ms:.0f} ms" if r.status == "confirmed"
                          else f"{r.status}: {r.reason}")
                lines.append(f"  {mark} {r.topic} → {r.queue}: {detail}")
            lines += [f"  ! {e}" for e in self.extra_routes]
            if self.consumed and (self.released or self.stale_probes):
                lines.append(f"  note: released {self.released} non-probe message(s) at once (their receive count "
                             f"grew by one); deleted {self.stale_probes} stale probe(s)")
        lines.append("verify: OK" if self.ok else "verify: FAILED")
        return "\n".join(lines)


def _mark(f: Finding) -> str:
    return {"error": "✗", "warning": "!", "info": "·"}[f.severity]


def drift_finding(c: Change) -> Finding:
    if c.action == "create":
        msg = f"declared {c.kind} {c.name} does not exist live"
    elif c.action == "delete":
        msg = f"live {c.kind} {c.name} is in the file's scope but not declared"
    else:
        fields = ", ".join(f"{k}: live {(c.before or {}).get(k)!r}, declared {v!r}" for k, v in (c.after or {}).items())
        msg = f"{c.kind} {c.name} differs from the file — {fields}"
    name = c.name.replace(" → sqs:", " → ")
    return Finding("DRIFT", CHECKS["DRIFT"].severity, msg, (name, *c.key), CHECKS["DRIFT"].fix)


def sampled_publish_args(probe: Probe, topic_arn: str, sample: Sample) -> dict[str, Any]:
    """SNS Publish arguments for ``probe`` carrying ``sample``: the sample's message attributes next
    to the probe's own, and the sample's body (a JSON object) with the probe's key added — so a
    filter on either scope sees the sample and every receiver still recognises the probe."""
    args = probe.publish_args(topic_arn)
    for name, data_type, value in sample.attributes:
        args["MessageAttributes"][name] = {"DataType": data_type, "StringValue": value}
    body = body_object(sample)
    if body is not None:
        args["Message"] = dumps({**body, PROBE_MARKER: json.loads(probe.encode())})
    elif isinstance(sample.body, str) and sample.body:
        args["Message"] = sample.body  # not JSON: the probe travels in its attribute
    return args


def verify(declared: Declared, live: Topology, aws: AwsTarget, probe: bool = False, consume: bool = False,
           timeout: float = 20.0) -> VerifyReport:
    drift, silenced = apply_overrides([drift_finding(c) for c in compute_changes(declared, live)],
                                      declared.overrides)
    health = run_checks_detailed(Declared(topology=Topology(), overrides=declared.overrides, scope=declared.scope),
                                 live, [], only=HEALTH_CHECKS)
    report = VerifyReport(drift, health.findings, silenced + health.silenced, probed=probe, consumed=consume)
    if probe:
        _Prober(declared, live, aws, consume, timeout, report).run()
    return report


class _Prober:
    def __init__(self, declared: Declared, live: Topology, aws: AwsTarget, consume: bool, timeout: float,
                 report: VerifyReport) -> None:
        self.declared, self.live, self.consume, self.timeout, self.report = declared, live, consume, timeout, report
        self.sqs = aws.client("sqs")
        self.sns = aws.client("sns")
        self.results: dict[SubscriptionKey, RouteResult] = {}
        self.filtered: set[SubscriptionKey] = set()  # filtered routes no sample could be made for
        self.samples: dict[SubscriptionKey, Sample] = {}  # filtered routes probed with a sample
        self.probes: dict[str, tuple[str, float]] = {}  # probe id → (topic, published at)
        self.queue_urls: dict[str, str] = {}
        self.foreign: dict[str, int] = {}

    def run(self) -> None:
        pending = list(self._routes())
        if pending:
            reply_url = self.sqs.create_queue(QueueName=REPLY_QUEUE_PREFIX + uuid.uuid4().hex[:12],
                                              Attributes={"MessageRetentionPeriod": "600"})["QueueUrl"]
            try:
                self._publish(reply_url, pending)
                self._collect(reply_url)
            finally:
                self.sqs.delete_queue(QueueUrl=reply_url)
        for key, r in self.results.items():
            if r.status == "not confirmed" and not r.reason:
                if key in self.filtered:
                    r.status, r.reason = "not probeable", ("the subscription's filter policy drops the probe and no "
                                                           "message it accepts could be derived: give the "
                                                           "subscription a sample: in the file")
                else:
                    r.reason = f"no reply within {self.timeout:g} s" + self._why_not(key)
        self.report.routes = [self.results[k] for k in sorted(self.results)]

    def _routes(self) -> Iterator[Subscription]:
        for key, s in sorted(self.declared.topology.subscriptions.items()):
            r = self.results[key] = RouteResult(s.topic, s.endpoint, "not confirmed")
            if s.protocol != "sqs":
                r.status, r.reason = "not probeable", f"{s.protocol} endpoint: probes are answered from SQS queues"
            elif s.topic not in self.live.topics:
                r.reason = f"topic {s.topic} does not exist live"
            elif s.endpoint not in self.live.queues:
                r.reason = f"queue {s.endpoint} does not exist live"
            else:
                if s.filter_policy:
                    sample = self.declared.samples.get(key) or derive_sample(s.filter_policy, s.filter_scope)
                    if sample is None:
                        self.filtered.add(key)
                    else:
                        self.samples[key] = sample
                yield s

    def _why_not(self, key: SubscriptionKey) -> str:
        if key not in self.live.subscriptions:
            return f" — the live subscription {key[0]} → {key[2]} does not exist"
        return " — is a probe-aware consumer (postroom.consumer) reading the queue? try --consume"

    def _publish(self, reply_url: str, routes: list[Subscription]) -> None:
        arns: dict[str, str] = {}
        for topic in sorted({s.topic for s in routes if s.key not in self.samples}):
            arn = arns[topic] = self.live.topics[topic].arn or self._topic_arn(topic)
            p = Probe.new(topic, reply_url)
            self.probes[p.id] = (topic, time.monotonic())
            self.sns.publish(**p.publish_args(arn))
        for s in routes:  # a filtered route: its own probe, carrying a message its filter accepts
            sample = self.samples.get(s.key)
            if sample is None:
                continue
            arn = arns.get(s.topic) or self.live.topics[s.topic].arn or self._topic_arn(s.topic)
            arns[s.topic] = arn
            p = Probe.new(s.topic, reply_url, queue=s.endpoint)
            self.probes[p.id] = (s.topic, time.monotonic())
            try:
                self.sns.publish(**sampled_publish_args(p, arn, sample))
            except ClientError as e:  # e.g. an attribute name SNS does not accept: this route only
                r = self.results[s.key]
                r.status = "not probeable"
                r.reason = f"SNS refused the probe's sample message: {e.response.get('Error', {}).get('Message')}"
        for s in routes:
            q = self.live.queues[s.endpoint]
            self.queue_urls[s.endpoint] = q.url or self.sqs.get_queue_url(QueueName=s.endpoint)["QueueUrl"]

    def _topic_arn(self, topic: str) -> str:
        for page in self.sns.get_paginator("list_topics").paginate():
            for t in page.get("Topics") or []:
                if str(t["TopicArn"]).rsplit(":", 1)[-1] == topic:
                    return str(t["TopicArn"])
        raise LookupError(f"topic {topic} not found")

    def _waiting(self) -> list[SubscriptionKey]:
        return [k for k, r in self.results.items() if r.status == "not confirmed" and not r.reason]

    def _collect(self, reply_url: str) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            waiting = self._waiting()
            if not any(k not in self.filtered for k in waiting):
                return
            if self.consume:
                for queue in sorted({k[2] for k in waiting}):
                    self._consume_from(queue)
            wait = 1 if self.consume else max(0, min(5, int(deadline - time.monotonic())))
            got = self.sqs.receive_message(QueueUrl=reply_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
            for m in got.get("Messages", []):
                self._confirm(Reply.decode(m.get("Body", "")))
                self.sqs.delete_message(QueueUrl=reply_url, ReceiptHandle=m["ReceiptHandle"])

    def _confirm(self, r: Reply | None) -> None:
        if r is None or r.id not in self.probes:
            return
        topic, sent = self.probes[r.id]
        candidates = [k for k in self._waiting() if k[0] == topic]
        if r.queue:
            candidates = [k for k in candidates if k[2] == r.queue]
            if not candidates and (topic, "sqs", r.queue) not in self.results:
                self.report.extra_routes.append(f"the probe of {topic} also arrived at {r.queue}, which the file "
                                                f"does not subscribe to it")
        if len(candidates) != 1:
            return  # already confirmed, or an unattributable reply (no queue named, several routes)
        res = self.results[candidates[0]]
        res.status, res.received_by = "confirmed", r.received_by
        res.latency_ms = (time.monotonic() - sent) * 1000

    def _consume_from(self, queue: str) -> None:
        """One pass over a route's queue: answer and delete probes, hold every other message only
        until the pass ends (a few receive calls), then release it (visibility 0). Holding them for
        the pass is what lets the next receive reach further: FIFO receives hand out the oldest
        available group first, so a probe in its own group behind a real group is reached only
        while that group is held."""
        if self.foreign.get(queue, 0) >= MAX_FOREIGN_PER_QUEUE:
            return
        url = self.queue_urls[queue]
        held: list[dict[str, Any]] = []
        try:
            for _ in range(5):
                got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                               MessageAttributeNames=["All"], VisibilityTimeout=10)
                messages = got.get("Messages", [])
                if not messages:
                    break
                for m in messages:
                    p = probe_of(m)
                    if p is None:
                        held.append(m)
                        continue
                    if not reply(self.sqs, p, "verify", queue=queue):
                        self.report.stale_probes += 1
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                if self.foreign.get(queue, 0) + len(held) >= MAX_FOREIGN_PER_QUEUE:
                    break
        finally:
            self._release(url, held)
        if held:
            self.report.released += len(held)
            self.foreign[queue] = self.foreign.get(queue, 0) + len(held)
            if self.foreign[queue] >= MAX_FOREIGN_PER_QUEUE:
                for k in self._waiting():
                    if k[2] == queue:
                        self.results[k].reason = (f"gave up after releasing {self.foreign[queue]} other messages "
                                                  f"of {queue} (a backlog): run verify --consume on a drained queue")

    def _release(self, url: str, held: list[dict[str, Any]]) -> None:
        for i in range(0, len(held), 10):
            self.sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for n, m in enumerate(held[i:i + 10])])
