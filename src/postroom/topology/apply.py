"""Applying a saved plan: exactly its steps, in its order, or nothing at all.

Before the first call that changes anything, apply refuses (``ApplyRefused``, nothing changed) when:
- the plan's content no longer matches its ``plan_hash`` (edited after it was made), or an
  approval was given for different content (stale approval, named);
- the approval policy is not met (a destructive step, or any subscription change in a protected
  environment, needs an approval by someone other than the plan's author);
- the plan has blocking (error) findings;
- the endpoint, region or account differ from the ones the plan was made against;
- the live state of any resource the plan is about differs from the plan's fingerprint, except
  where the difference is exactly a step of this plan having been applied already (resume).

Resume: after each successful step a line is appended to ``<plan>.applied`` and fsync'd. Running
apply again skips journaled steps after verifying that the live state really shows them, skips a
step whose outcome the live state already shows (a crash between the call and the journal line),
and runs the rest. Nothing is created twice: CreateQueue/CreateTopic/Subscribe with the same
arguments return the existing resource on AWS, and a step already visible in the live state is
not sent at all; deleting what is already gone counts as done.

One apply of a plan runs at a time (``flock`` on ``<plan>.lock``).

Testing aid: ``POSTROOM_APPLY_FAIL_AFTER=N`` stops apply with an error after N steps of this run
(a fault injected between two steps, after the journal line), so tests can prove resume.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from postroom.awsclient import AwsTarget
from postroom.topology.diff import is_done
from postroom.topology.live import client, is_not_found, read_live
from postroom.topology.model import Change, SubscriptionKey, Topology, is_fifo_name
from postroom.topology.planfile import (
    Plan,
    approval_problems,
    canonical,
    fingerprint,
    integrity_problem,
    now_iso,
    step_id,
    target_identity,
)

FAIL_AFTER_ENV = "POSTROOM_APPLY_FAIL_AFTER"


class ApplyRefused(Exception):
    """Apply did not start: the message lists every reason. Nothing was changed."""


class ApplyFailed(Exception):
    """A step failed part-way; the journal records the steps that completed. Re-run apply to finish."""


@dataclass
class ApplyResult:
    applied: list[int] = field(default_factory=list)  # steps run by this call
    already_done: list[int] = field(default_factory=list)  # steps found done (journal or live state)
    total: int = 0


def journal_path(plan_path: Path) -> Path:
    return plan_path.with_name(plan_path.name + ".applied")


def read_journal(path: Path, plan: Plan) -> dict[int, dict[str, Any]]:
    """The journaled steps by index. A journal written for different plan content is refused."""
    done: dict[int, dict[str, Any]] = {}
    if not path.exists():
        return done
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            if n == len(path.read_text().splitlines()):
                continue  # a torn last line from a crash mid-write: that step is re-verified below
            raise ApplyRefused(f"{path}:{n}: unreadable journal line") from None
        if entry.get("plan_hash") != plan.plan_hash:
            raise ApplyRefused(f"{path} belongs to a different plan ({str(entry.get('plan_hash'))[:12]}); "
                               f"move it away if this plan is really new")
        done[int(entry["index"])] = entry
    return done


def _append_journal(path: Path, entry: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(canonical(entry) + "\n")
        f.flush()
        os.fsync(f.fileno())


def preflight(plan: Plan, applier: str) -> list[str]:
    """The reasons apply must not start that need no endpoint."""
    problems: list[str] = []
    integrity = integrity_problem(plan)
    if integrity:
        problems.append(integrity)
    problems += approval_problems(plan)
    for f in plan.blocking:
        problems.append(f"blocking finding {f.check}: {f.message}")
    return problems


def live_problems(plan: Plan, live: Topology, journal: dict[int, dict[str, Any]]) -> list[str]:
    """Differences between the live state now and the plan's fingerprint that are not explained by
    this plan's own steps (journaled, or visibly done by a run that crashed before journaling)."""
    stored = plan.live_resources
    sub_keys = [tuple(rid.split(":", 1)[1].split("|", 2)) for rid in stored if rid.startswith("subscription:")]
    now = fingerprint(live, plan.live["queues"], plan.live["topics"],
                      [(k[0], k[1], k[2]) for k in sub_keys if len(k) == 3])
    steps = {step_id(s): (i, s) for i, s in enumerate(plan.steps)}
    # AWS deletes a topic's subscriptions with it, including ones a file cannot declare (lambda, …)
    gone_topics = {s.key[0] for s in plan.steps if s.kind == "topic" and s.action == "delete" and is_done(s, live)}
    problems: list[str] = []
    for rid in sorted(set(stored) | set(now)):
        was, is_now = stored.get(rid), now.get(rid)
        if rid.startswith("subscription:") and is_now is None and rid.split(":", 1)[1].split("|")[0] in gone_topics:
            continue
        if rid in steps:
            i, step = steps[rid]
            if i in journal:
                if not is_done(step, live):
                    problems.append(f"{rid}: step {i + 1} ({step.action}) was applied, but the live state no "
                                    f"longer shows it — someone changed it since")
            elif canonical(was) != canonical(is_now) and not is_done(step, live):
                problems.append(f"{rid} changed since the plan was made")
        elif canonical(was) != canonical(is_now):
            what = "appeared" if was is None else "was deleted" if is_now is None else "changed"
            problems.append(f"{rid} {what} since the plan was made")
    return problems


class _Executor:
    """Runs single steps with boto3, resolving names to the URLs/ARNs AWS wants."""

    def __init__(self, aws: AwsTarget, live: Topology, account: str, region: str) -> None:
        self.sqs = client(aws, "sqs")
        self.sns = client(aws, "sns")
        self.account, self.region = account, region
        self.queue_urls = {n: q.url for n, q in live.queues.items() if q.url}
        self.queue_arns = {n: q.arn for n, q in live.queues.items() if q.arn}
        self.topic_arns = {n: t.arn for n, t in live.topics.items() if t.arn}
        self.sub_arns: dict[SubscriptionKey, str] = {k: s.arn for k, s in live.subscriptions.items() if s.arn}

    def queue_arn(self, name: str) -> str:
        if name in self.queue_arns:
            return self.queue_arns[name]
        for arn in self.queue_arns.values():
            return arn.rsplit(":", 1)[0] + ":" + name
        return f"arn:aws:sqs:{self.region}:{self.account}:{name}"

    def _redrive_attributes(self, doc: dict[str, Any]) -> dict[str, str]:
        attrs: dict[str, str] = {}
        if doc.get("dlq"):
            attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": self.queue_arn(doc["dlq"]),
                                                 "maxReceiveCount": int(doc["max_receive_count"] or 10)})
        allow = doc.get("redrive_allow")
        if allow:
            policy: dict[str, Any] = {"redrivePermission": allow["permission"]}
            if allow["permission"] == "byQueue":
                policy["sourceQueueArns"] = [self.queue_arn(s) for s in allow["sources"]]
            attrs["RedriveAllowPolicy"] = json.dumps(policy)
        return attrs

    def run(self, step: Change) -> None:
        getattr(self, f"_{step.action}_{step.kind}")(step)

    def _create_queue(self, step: Change) -> None:
        name, after = step.key[0], step.after or {}
        attrs = {**after.get("attributes", {}), **self._redrive_attributes(after)}
        if is_fifo_name(name):
            attrs["FifoQueue"] = "true"
        kwargs: dict[str, Any] = {"QueueName": name, "Attributes": attrs}
        if after.get("tags"):
            kwargs["tags"] = after["tags"]
        url = self.sqs.create_queue(**kwargs)["QueueUrl"]
        self.queue_urls[name] = url
        got = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        self.queue_arns[name] = got["QueueArn"]

    def _update_queue(self, step: Change) -> None:
        name, after, before = step.key[0], step.after or {}, step.before or {}
        url = self.queue_urls.get(name) or self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attrs = {**after.get("attributes", {}), **self._redrive_attributes(after)}
        if attrs:
            self.sqs.set_queue_attributes(QueueUrl=url, Attributes=attrs)
        if "tags" in after:
            new, old = after["tags"], before.get("tags") or {}
            if gone := [k for k in old if k not in new]:
                self.sqs.untag_queue(QueueUrl=url, TagKeys=gone)
            if changed := {k: v for k, v in new.items() if old.get(k) != v}:
                self.sqs.tag_queue(QueueUrl=url, Tags=changed)

    def _delete_queue(self, step: Change) -> None:
        name = step.key[0]
        try:
            url = self.queue_urls.get(name) or self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
            self.sqs.delete_queue(QueueUrl=url)
        except ClientError as e:
            if not is_not_found(e):
                raise

    def _create_topic(self, step: Change) -> None:
        name, after = step.key[0], step.after or {}
        attrs = dict(after.get("attributes", {}))
        if is_fifo_name(name):
            attrs["FifoTopic"] = "true"
        kwargs: dict[str, Any] = {"Name": name, "Attributes": attrs}
        if after.get("tags"):
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in after["tags"].items()]
        self.topic_arns[name] = self.sns.create_topic(**kwargs)["TopicArn"]

    def _update_topic(self, step: Change) -> None:
        name, after, before = step.key[0], step.after or {}, step.before or {}
        arn = self.topic_arns[name]
        for key, value in after.get("attributes", {}).items():
            self.sns.set_topic_attributes(TopicArn=arn, AttributeName=key, AttributeValue=value)
        if "tags" in after:
            new, old = after["tags"], before.get("tags") or {}
            if gone := [k for k in old if k not in new]:
                self.sns.untag_resource(ResourceArn=arn, TagKeys=gone)
            if changed := {k: v for k, v in new.items() if old.get(k) != v}:
                self.sns.tag_resource(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in changed.items()])

    def _delete_topic(self, step: Change) -> None:
        arn = self.topic_arns.get(step.key[0])
        if arn is None:
            return
        try:
            self.sns.delete_topic(TopicArn=arn)
        except ClientError as e:
            if not is_not_found(e):
                raise

    def _sub_endpoint(self, protocol: str, endpoint: str) -> str:
        return self.queue_arn(endpoint) if protocol == "sqs" else endpoint

    def _create_subscription(self, step: Change) -> None:
        topic, protocol, endpoint = step.key[0], step.key[1], step.key[2]
        after = step.after or {}
        attrs: dict[str, str] = {"RawMessageDelivery": "true" if after.get("raw") else "false"}
        if after.get("filter_policy"):
            attrs["FilterPolicy"] = after["filter_policy"]
            attrs["FilterPolicyScope"] = after.get("filter_scope") or "MessageAttributes"
        if after.get("dlq"):
            attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": self.queue_arn(after["dlq"])})
        arn = self.sns.subscribe(TopicArn=self.topic_arns[topic], Protocol=protocol,
                                 Endpoint=self._sub_endpoint(protocol, endpoint), Attributes=attrs,
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
        self.sub_arns[(topic, protocol, endpoint)] = arn

    def _update_subscription(self, step: Change) -> None:
        arn = self.sub_arns[(step.key[0], step.key[1], step.key[2])]
        after = step.after or {}
        names = {"raw": "RawMessageDelivery", "filter_scope": "FilterPolicyScope", "filter_policy": "FilterPolicy",
                 "dlq": "RedrivePolicy"}
        for field_name in ("raw", "filter_scope", "filter_policy", "dlq"):
            if field_name not in after:
                continue
            value = after[field_name]
            if field_name == "raw":
                text = "true" if value else "false"
            elif field_name == "dlq":
                text = json.dumps({"deadLetterTargetArn": self.queue_arn(value)}) if value else ""
            else:
                text = value or ""
            self.sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName=names[field_name],
                                                 AttributeValue=text)

    def _delete_subscription(self, step: Change) -> None:
        arn = self.sub_arns.get((step.key[0], step.key[1], step.key[2]))
        if arn is None:
            return
        try:
            self.sns.unsubscribe(SubscriptionArn=arn)
        except ClientError as e:
            if not is_not_found(e):
                raise


@contextmanager
def _exclusive(plan_path: Path) -> Iterator[None]:
    """One apply of a plan at a time: two runs of the same plan (two terminals, a CI retry) would
    both see a step as not done and both send it. ``flock`` on ``<plan>.lock``; released on exit,
    also when the process dies."""
    lock_path = plan_path.with_name(plan_path.name + ".lock")
    with open(lock_path, "a+b") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ApplyRefused(f"another apply of {plan_path} is running (it holds {lock_path})") from None
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def apply_plan(plan_path: Path, aws: AwsTarget, applier: str,
               on_step: Callable[[Change, int], None] | None = None,
               log: Callable[[str], None] | None = None) -> ApplyResult:
    """Apply the plan saved at ``plan_path`` (see the module docstring for the guarantees).
    ``on_step(step, index)`` is called after each step is done and journaled."""
    plan = Plan.load(plan_path)
    with _exclusive(plan_path):
        return _apply(plan, plan_path, aws, applier, on_step, log or (lambda _msg: None))


def _apply(plan: Plan, plan_path: Path, aws: AwsTarget, applier: str, on_step: Callable[[Change, int], None] | None,
           say: Callable[[str], None]) -> ApplyResult:
    problems = preflight(plan, applier)
    jpath = journal_path(plan_path)
    journal = read_journal(jpath, plan) if not problems else {}
    target = target_identity(aws)
    for key in ("endpoint_url", "region", "account"):
        if target.get(key) != plan.target.get(key):
            problems.append(f"the plan was made for {key} {plan.target.get(key)!r}, but this is {target.get(key)!r}")
    if problems:
        raise ApplyRefused("\n".join(problems))
    live = read_live(aws)
    problems = live_problems(plan, live, journal)
    if problems:
        raise ApplyRefused("the live state changed since the plan was made — plan again:\n  " + "\n  ".join(problems))

    fail_after = os.environ.get(FAIL_AFTER_ENV, "").strip()
    if fail_after and not fail_after.isdigit():
        raise ApplyRefused(f"{FAIL_AFTER_ENV}={fail_after!r} must be a number of steps (a testing aid)")
    limit = int(fail_after) if fail_after else None
    result = ApplyResult(total=len(plan.steps))
    executor = _Executor(aws, live, str(target.get("account") or ""), str(target.get("region") or "us-east-1"))
    for i, step in enumerate(plan.steps):
        label = f"[{i + 1}/{len(plan.steps)}] {step.action} {step.kind} {step.name}"
        if i in journal:
            result.already_done.append(i)
            say(f"{label}: already applied")
            continue
        if limit is not None and len(result.applied) >= limit:
            raise ApplyFailed(f"stopped by {FAIL_AFTER_ENV}={limit} (testing aid) after {len(result.applied)} "
                              f"step(s); re-run apply to finish")
        entry = {"plan_hash": plan.plan_hash, "index": i, "step": step.name, "action": step.action,
                 "kind": step.kind, "by": applier, "at": now_iso()}
        if is_done(step, live):
            _append_journal(jpath, {**entry, "result": "already-done"})
            result.already_done.append(i)
            say(f"{label}: already done")
        else:
            try:
                executor.run(step)
            except (ClientError, KeyError) as e:
                raise ApplyFailed(f"{label} failed: {e}; the steps before it are applied and journaled in "
                                  f"{jpath} — fix the cause and re-run apply to finish") from e
            _append_journal(jpath, {**entry, "result": "applied"})
            result.applied.append(i)
            say(f"{label}: done")
        if on_step is not None:
            on_step(step, i)
    return result
