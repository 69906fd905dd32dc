"""The saved plan: what ``postroom plan -o plan.json`` writes, reviewers approve and ``apply`` executes.

A plan is a JSON document holding the ordered steps, the findings of the checks, who wrote it,
which file (with its sha256) it came from, the endpoint/region/account it was planned against, and
a **live fingerprint**: the state of every live resource the plan touches or its checks read, as
it was when the plan was made. Its ``plan_hash`` is the sha256 of the canonical JSON of everything
except the approvals (and the hash itself).

An approval records ``{by, comment, at, plan_hash}``: it approves exactly that content. If anyone
edits the plan afterwards, the recomputed hash differs from the stored one and from the
approval's, and apply refuses, naming the stale approval.

The fingerprint covers only the resources the plan is about — the declared queues and topics, the
ones a step touches, the ones named by ``replaces:`` or recognised as replaced
(LIKELY-REPLACEMENT), and every subscription of those topics or to those queues — so a change to
an unrelated queue elsewhere in the account does not invalidate a plan, while a hand-made change to
any of these (an attribute, a tag, a subscription appearing or going away on an old topic) does.
Queue depth is not part of it: messages flow all the time.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import subprocess
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from postroom.awsclient import AwsTarget
from postroom.topology.diff import queue_doc, subscription_doc, topic_doc
from postroom.topology.live import client
from postroom.topology.model import Change, CheckOverride, Declared, Finding, SubscriptionKey, Topology
from postroom.topology.schema import ROUTE_CHECKS

FORMAT_VERSION = 1


class PlanError(Exception):
    """A plan that cannot be read, approved or applied; the message says why and what to do."""


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_identity() -> str:
    """Who is at the keyboard: $POSTROOM_AUTHOR, else git's ``user.name``, else $USER."""
    if os.environ.get("POSTROOM_AUTHOR"):
        return os.environ["POSTROOM_AUTHOR"]
    try:
        name = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True, timeout=5,
                              check=False).stdout.strip()
        if name:
            return name
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# ---- the live fingerprint ---------------------------------------------------------------------

def queue_id(name: str) -> str:
    return f"queue:{name}"


def topic_id(name: str) -> str:
    return f"topic:{name}"


def subscription_id(key: SubscriptionKey | tuple[str, ...]) -> str:
    return "subscription:" + "|".join(key)


def step_id(change: Change) -> str:
    if change.kind == "queue":
        return queue_id(change.key[0])
    if change.kind == "topic":
        return topic_id(change.key[0])
    return subscription_id(change.key)


def _sub_state(live: Topology, key: SubscriptionKey) -> dict[str, Any] | None:
    s = live.subscriptions.get(key)
    if s is None:
        return None
    return {**subscription_doc(s), "replay_status": s.replay_status, "replay_policy": s.replay_policy,
            "pending": s.arn == "PendingConfirmation"}


def watched(declared: Declared, changes: list[Change], related: tuple[set[str], set[str]] = (set(), set())
            ) -> tuple[list[str], list[str], list[SubscriptionKey]]:
    """The queues, topics and subscriptions a plan is about (see the module docstring); ``related``
    adds (queues, topics) its checks judged too — the old side of a recognised migration."""
    t = declared.topology
    queues = set(t.queues) | {q.replaces for q in t.queues.values() if q.replaces} | related[0]
    queues |= {q.dlq for q in t.queues.values() if q.dlq}
    topics = set(t.topics) | {x.replaces for x in t.topics.values() if x.replaces} | related[1]
    subs: set[SubscriptionKey] = set(t.subscriptions)
    for s in t.subscriptions.values():
        topics.add(s.topic)
        if s.protocol == "sqs":
            queues.add(s.endpoint)
    for c in changes:
        if c.kind == "queue":
            queues.add(c.key[0])
        elif c.kind == "topic":
            topics.add(c.key[0])
        else:
            subs.add((c.key[0], c.key[1], c.key[2]))
    return sorted(queues), sorted(topics), sorted(subs)


def fingerprint(live: Topology, queues: list[str], topics: list[str],
                subs: list[SubscriptionKey]) -> dict[str, dict[str, Any] | None]:
    """The live state (``None``: absent) of the watched resources and of every live subscription
    of a watched topic or to a watched queue."""
    out: dict[str, dict[str, Any] | None] = {}
    for name in queues:
        q = live.queues.get(name)
        out[queue_id(name)] = queue_doc(q) if q else None
    for name in topics:
        tp = live.topics.get(name)
        out[topic_id(name)] = topic_doc(tp) if tp else None
    qs, ts = set(queues), set(topics)
    keys = set(subs) | {k for k, s in live.subscriptions.items()
                        if s.topic in ts or (s.protocol == "sqs" and s.endpoint in qs)}
    for key in sorted(keys):
        out[subscription_id(key)] = _sub_state(live, key)
    return out


# ---- the plan document ------------------------------------------------------------------------

@dataclass
class Approval:
    by: str
    comment: str
    at: str
    plan_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {"by": self.by, "comment": self.comment, "at": self.at, "plan_hash": self.plan_hash}


@dataclass
class Plan:
    created_at: str
    author: str
    environment: str | None
    protected: bool
    file: dict[str, Any]
    target: dict[str, Any]
    live: dict[str, Any]
    steps: list[Change]
    findings: list[Finding]
    silenced: list[dict[str, Any]]
    approvals: list[Approval] = field(default_factory=list)
    plan_hash: str = ""
    format: int = FORMAT_VERSION
    # the route table (route, before, after, status); None in plans made before it existed
    routes: list[dict[str, str]] | None = None

    def body(self) -> dict[str, Any]:
        """Everything the plan_hash covers: all but the approvals and the hash. ``routes`` only when
        present, so that a plan made before it existed keeps its hash (and its approvals)."""
        body = {"format": self.format, "created_at": self.created_at, "author": self.author,
                "environment": self.environment, "protected": self.protected, "file": self.file,
                "target": self.target, "live": self.live, "steps": [c.as_dict() for c in self.steps],
                "findings": [f.as_dict() for f in self.findings], "silenced": self.silenced}
        if self.routes is not None:
            body["routes"] = self.routes
        return body

    def compute_hash(self) -> str:
        return sha256_text(canonical(self.body()))

    def as_dict(self) -> dict[str, Any]:
        return {**self.body(), "approvals": [a.as_dict() for a in self.approvals], "plan_hash": self.plan_hash}

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def live_resources(self) -> dict[str, dict[str, Any] | None]:
        resources: dict[str, dict[str, Any] | None] = self.live["resources"]
        return resources

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n")
        os.replace(tmp, path)

    @staticmethod
    def load(path: Path) -> Plan:
        try:
            d = json.loads(path.read_text())
        except OSError as e:
            raise PlanError(f"{path}: cannot read the plan: {e.strerror}") from e
        except ValueError as e:
            raise PlanError(f"{path}: not a plan (invalid JSON: {e})") from e
        try:
            if d.get("format") != FORMAT_VERSION:
                raise PlanError(f"{path}: plan format {d.get('format')!r}; this postroom reads format "
                                f"{FORMAT_VERSION} — plan again with this version")
            return Plan(created_at=d["created_at"], author=d["author"], environment=d["environment"],
                        protected=bool(d["protected"]), file=d["file"], target=d["target"], live=d["live"],
                        steps=[Change.from_dict(c) for c in d["steps"]],
                        findings=[Finding.from_dict(f) for f in d["findings"]], silenced=d["silenced"],
                        approvals=[Approval(**a) for a in d.get("approvals", [])], plan_hash=d["plan_hash"],
                        format=d["format"], routes=d.get("routes"))
        except (KeyError, TypeError, AttributeError) as e:
            raise PlanError(f"{path}: not a postroom plan (missing or malformed {e})") from e


def target_identity(aws: AwsTarget) -> dict[str, Any]:
    """The endpoint, region and account a plan is made against (STS GetCallerIdentity answers on
    AWS, on postroom and on moto's server), so a plan for one account is never applied to another."""
    sts = client(aws, "sts")
    ident = sts.get_caller_identity()
    return {"endpoint_url": aws.endpoint_url, "region": sts.meta.region_name, "account": ident.get("Account")}


def accounting_url(endpoint_url: str | None) -> str | None:
    """postroom's accounting page (``GET /_postroom/accounting``) when the endpoint is a postroom;
    checked only for explicit endpoint URLs, never against AWS."""
    if not endpoint_url:
        return None
    url = endpoint_url.rstrip("/") + "/_postroom/accounting"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200 and isinstance(json.loads(response.read()), dict):
                return url
    except (OSError, ValueError):
        return None
    return None


def make_plan(*, declared: Declared, live: Topology, changes: list[Change], findings: list[Finding],
              silenced: list[tuple[Finding, CheckOverride]], file_path: Path, author: str,
              target: dict[str, Any], routes: list[dict[str, str]] | None = None,
              related: tuple[set[str], set[str]] = (set(), set())) -> Plan:
    queues, topics, subs = watched(declared, changes, related)
    resources = fingerprint(live, queues, topics, subs)
    plan = Plan(
        created_at=now_iso(), author=author, environment=declared.environment, protected=declared.protected,
        file={"path": str(file_path), "sha256": hashlib.sha256(file_path.read_bytes()).hexdigest()},
        target=target,
        live={"queues": queues, "topics": topics, "resources": resources, "sha256": sha256_text(canonical(resources))},
        steps=changes, findings=findings,
        silenced=[{"finding": f.as_dict(), "override": {"check": o.check, "resource": o.resource,
                                                         "severity": o.severity, "reason": o.reason}}
                  for f, o in silenced],
        routes=routes if routes is not None else [])
    plan.plan_hash = plan.compute_hash()
    return plan


# ---- approvals --------------------------------------------------------------------------------

def accepted_route_losses(plan: Plan) -> list[str]:
    """The lost routes this plan accepts (a ``retire:`` entry or an override naming them): the
    resource each names first, with the reason."""
    out = [f"{e['finding']['resources'][0]} ({e['override']['reason']})" for e in plan.silenced
           if e["finding"]["check"] in ROUTE_CHECKS]
    out += [f"{f.resources[0]} ({f.accepted})" for f in plan.findings
            if f.check in ROUTE_CHECKS and f.accepted is not None and f.severity != "error"]
    return out


def approval_reason(plan: Plan) -> str | None:
    """Why this plan needs a second person's approval (None: it does not). The policy: any
    destructive step, or — in an environment marked ``protected`` — any subscription change or any
    lost route the file accepts (``retire:`` or an override), step or no step."""
    destructive = [c for c in plan.steps if c.destructive]
    if destructive:
        return f"{len(destructive)} destructive step(s), e.g. {destructive[0].action} {destructive[0].kind} " \
               f"{destructive[0].name}"
    if plan.protected:
        subs = [c for c in plan.steps if c.kind == "subscription"]
        if subs:
            return f"{len(subs)} subscription change(s) in protected environment {plan.environment or '?'}"
        accepted = accepted_route_losses(plan)
        if accepted:
            return (f"{len(accepted)} lost route(s) accepted by the file in protected environment "
                    f"{plan.environment or '?'}, e.g. {accepted[0]}")
    return None


def integrity_problem(plan: Plan) -> str | None:
    if plan.compute_hash() != plan.plan_hash:
        return (f"the plan's content does not match its plan_hash (stored {plan.plan_hash[:12]}, content "
                f"{plan.compute_hash()[:12]}): it was edited after it was made — make a new plan")
    return None


def approval_problems(plan: Plan) -> list[str]:
    """What stops the approvals from satisfying the policy (empty: they do)."""
    problems: list[str] = []
    current = plan.compute_hash()
    valid: list[Approval] = []
    for a in plan.approvals:
        if a.plan_hash != current:
            problems.append(f"the approval by {a.by} ({a.at}) is stale: it approved plan {a.plan_hash[:12]}, "
                            f"but the plan is now {current[:12]} (changed after approval) — approve the new plan")
        elif a.by == plan.author:
            problems.append(f"the approval by {a.by} does not count: the author cannot approve their own plan")
        else:
            valid.append(a)
    reason = approval_reason(plan)
    if reason and not valid:
        problems.append(f"needs an approval by someone other than the author {plan.author}: {reason} — "
                        f"run: postroom approve PLAN --by NAME")
    elif not reason:
        problems = [p for p in problems if "stale" in p]
    return problems


def approve(plan: Plan, by: str, comment: str = "") -> Approval:
    """Record an approval bound to the plan's current content hash."""
    problem = integrity_problem(plan)
    if problem:
        raise PlanError(f"refusing to approve: {problem}")
    if by == plan.author:
        raise PlanError(f"refusing to approve: {by} wrote this plan; an approval must come from someone else")
    approval = Approval(by=by, comment=comment, at=now_iso(), plan_hash=plan.plan_hash)
    plan.approvals.append(approval)
    return approval
