"""plan → approve → apply, built from ``Declared`` values directly (the file format is tested with the
CLI in test_flow_*.py): the diff, the safe order, the saved plan's hash and approvals, the live
fingerprint (drift refuses apply), and resume after a failure creating nothing twice.

Steps that call the endpoint run against postroom and moto's server; the approval policy, which
is decided before any call, runs against postroom only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from postroom.topology.apply import ApplyFailed, ApplyRefused, apply_plan, journal_path
from postroom.topology.diff import compute_changes
from postroom.topology.live import read_live
from postroom.topology.model import (
    Change,
    Declared,
    Finding,
    Queue,
    Subscription,
    Topic,
    Topology,
)
from postroom.topology.planfile import Plan, PlanError, approve, make_plan, target_identity
from tests.endpoints import Endpoint
from tests.topology.conftest import queue_arn, target, topic_arn


def declared(p: str, *, protected: bool = False, vis: str = "30", with_sub: bool = True,
             extra_queue: bool = True) -> Declared:
    queues = {
        f"{p}dlq": Queue(f"{p}dlq"),
        f"{p}work": Queue(f"{p}work", attributes={"VisibilityTimeout": vis}, dlq=f"{p}dlq", max_receive_count=5,
                          tags={"team": "a"}),
    }
    if extra_queue:
        queues[f"{p}extra"] = Queue(f"{p}extra")
    topics = {f"{p}orders": Topic(f"{p}orders", attributes={"DisplayName": "Orders"})}
    subs = {}
    if with_sub:
        s = Subscription(f"{p}orders", "sqs", f"{p}work", raw=True, filter_policy='{"kind":["order"]}')
        subs[s.key] = s
    return Declared(Topology(queues, topics, subs), environment="test", protected=protected, scope=(f"{p}*",))


def save_plan(tmp_path: Path, ep: Endpoint, d: Declared, author: str = "alice",
              findings: list[Finding] | None = None, name: str = "plan") -> tuple[Path, Plan]:
    aws = target(ep)
    live = read_live(aws)
    changes = compute_changes(d, live)
    spec = tmp_path / "postroom.yaml"
    spec.write_text("# stands in for the file the Declared came from\n")
    plan = make_plan(declared=d, live=live, changes=changes, findings=findings or [], silenced=[], file_path=spec,
                     author=author, target=target_identity(aws))
    path = tmp_path / f"{name}.json"
    plan.save(path)
    return path, plan


# ---- the diff (pure) --------------------------------------------------------------------------

def test_diff_compares_only_declared_attributes_and_orders_safely() -> None:
    p = "x-"
    d = declared(p)
    live = Topology(
        queues={f"{p}work": Queue(f"{p}work", attributes={"VisibilityTimeout": "30", "DelaySeconds": "5"},
                                  dlq=f"{p}dlq", max_receive_count=5, tags={"team": "a"}),
                f"{p}old": Queue(f"{p}old", depth=7), "other-q": Queue("other-q")},
        topics={f"{p}legacy": Topic(f"{p}legacy"), "other-t": Topic("other-t")},
        subscriptions={
            (f"{p}legacy", "sqs", f"{p}work"): Subscription(f"{p}legacy", "sqs", f"{p}work", arn="arn:1"),
            ("other-t", "sqs", f"{p}work"): Subscription("other-t", "sqs", f"{p}work", arn="arn:2"),
            (f"{p}legacy", "lambda", "arn:fn"): Subscription(f"{p}legacy", "lambda", "arn:fn", arn="arn:3"),
            (f"{p}orders", "sqs", f"{p}old"): Subscription(f"{p}orders", "sqs", f"{p}old", arn="arn:4"),
        })
    changes = compute_changes(d, live)
    summary = [(c.action, c.kind, c.name) for c in changes]
    # DelaySeconds is not declared: not a change; work's declared fields all match: no step for it
    assert ("update", "queue", f"{p}work") not in summary
    assert summary[:2] == [("create", "queue", f"{p}dlq"), ("create", "queue", f"{p}extra")]
    assert summary[2:] == [
        ("create", "topic", f"{p}orders"),
        ("create", "subscription", f"{p}orders → sqs:{p}work"),  # new subscriptions first
        ("delete", "subscription", f"{p}orders → sqs:{p}old"),  # removals on topics that stay
        ("delete", "topic", f"{p}legacy"),  # a deleted topic, then its own subscriptions (gone with it)
        ("delete", "subscription", f"{p}legacy → sqs:{p}work"),
        ("delete", "queue", f"{p}old"),  # queue deletions last
    ], "safe order"
    deleted = {c.name for c in changes if c.action == "delete"}
    assert deleted == {f"{p}old", f"{p}legacy", f"{p}legacy → sqs:{p}work", f"{p}orders → sqs:{p}old"}, \
        "only in-scope resources; a lambda subscription a file cannot declare is never deleted"
    assert all(c.destructive for c in changes if c.action == "delete")
    assert not any(c.destructive for c in changes if c.action != "delete")
    old = next(c for c in changes if c.name == f"{p}old")
    assert old.before is not None and old.before["depth"] == 7


def test_diff_dlq_created_before_its_source_and_deleted_after() -> None:
    p = "y-"
    q = {f"{p}a": Queue(f"{p}a", dlq=f"{p}z-dlq", max_receive_count=3), f"{p}z-dlq": Queue(f"{p}z-dlq")}
    creates = compute_changes(Declared(Topology(queues=q), scope=(f"{p}*",)), Topology())
    assert [c.name for c in creates] == [f"{p}z-dlq", f"{p}a"]
    deletes = compute_changes(Declared(Topology(), scope=(f"{p}*",)), Topology(queues=q))
    assert [c.name for c in deletes] == [f"{p}a", f"{p}z-dlq"]


def test_diff_subscription_fields_and_tags() -> None:
    p = "z-"
    want = declared(p)
    key = (f"{p}orders", "sqs", f"{p}work")
    live = Topology(queues=dict(want.topology.queues), topics=dict(want.topology.topics),
                    subscriptions={key: Subscription(*key, raw=False, filter_policy='{"kind": ["order"]}',
                                                     arn="arn:s")})
    live.queues[f"{p}work"] = Queue(f"{p}work", attributes={"VisibilityTimeout": "30"}, dlq=f"{p}dlq",
                                    max_receive_count=5, tags={"team": "b", "old": "x"})
    changes = {c.name: c for c in compute_changes(want, live)}
    sub = changes[f"{p}orders → sqs:{p}work"]
    assert sub.action == "update" and sub.after == {"raw": True}, "filter policy formatting is not a change"
    assert changes[f"{p}work"].after == {"tags": {"team": "a"}}


# ---- apply against real endpoints ---------------------------------------------------------------

def test_plan_apply_converges(endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    d = declared(prefix)
    path, plan = save_plan(tmp_path, endpoint, d)
    assert [s.action for s in plan.steps] == ["create"] * 5
    seen: list[int] = []
    result = apply_plan(path, target(endpoint), "alice", on_step=lambda s, i: seen.append(i))
    assert result.applied == [0, 1, 2, 3, 4] and seen == [0, 1, 2, 3, 4]
    live = read_live(target(endpoint))
    assert compute_changes(d, live) == [], "after apply the live state is what the file says"
    work = live.queues[f"{prefix}work"]
    assert work.dlq == f"{prefix}dlq" and work.max_receive_count == 5 and work.tags == {"team": "a"}
    assert live.subscriptions[(f"{prefix}orders", "sqs", f"{prefix}work")].raw
    # messages really route: publish → the queue
    sns, sqs = endpoint.client("sns"), endpoint.client("sqs")
    sns.publish(TopicArn=topic_arn(sns, f"{prefix}orders"), Message="m1",
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"}})
    got = sqs.receive_message(QueueUrl=work.url, WaitTimeSeconds=5)["Messages"]
    assert got[0]["Body"] == "m1", "raw delivery through the applied subscription"
    # update in place
    d2 = declared(prefix, vis="60")
    path2, plan2 = save_plan(tmp_path, endpoint, d2, name="second")
    assert [(s.action, s.name) for s in plan2.steps] == [("update", f"{prefix}work")]
    apply_plan(path2, target(endpoint), "alice")
    assert read_live(target(endpoint)).queues[f"{prefix}work"].attributes["VisibilityTimeout"] == "60"


def test_drift_between_plan_and_apply_refuses(endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    d = declared(prefix, with_sub=False, extra_queue=False)
    path, _ = save_plan(tmp_path, endpoint, d)
    apply_plan(path, target(endpoint), "alice")
    d2 = declared(prefix, vis="90", with_sub=False)
    path2, _ = save_plan(tmp_path, endpoint, d2, name="p2")
    # someone changes an attribute of a queue the plan is about, by hand
    sqs = endpoint.client("sqs")
    sqs.set_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=f"{prefix}dlq")["QueueUrl"],
                             Attributes={"MessageRetentionPeriod": "600"})
    # and something unrelated changes elsewhere: that alone would not invalidate the plan
    sqs.create_queue(QueueName=f"unrelated-{prefix}q")
    with pytest.raises(ApplyRefused) as refused:
        apply_plan(path2, target(endpoint), "alice")
    assert f"queue:{prefix}dlq changed since the plan was made" in str(refused.value)
    assert "unrelated" not in str(refused.value)
    live = read_live(target(endpoint))
    assert f"{prefix}extra" not in live.queues and live.queues[f"{prefix}work"].attributes["VisibilityTimeout"] == \
        "30", "nothing was changed"
    # plan again: the unrelated queue and the accepted hand change do not stop it
    path3, _ = save_plan(tmp_path, endpoint, d2, name="p3")
    sqs.create_queue(QueueName=f"unrelated-{prefix}q2")
    apply_plan(path3, target(endpoint), "alice")
    assert read_live(target(endpoint)).queues[f"{prefix}work"].attributes["VisibilityTimeout"] == "90"


def test_approvals(postroom_endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    sqs = postroom_endpoint.client("sqs")
    sqs.create_queue(QueueName=f"{prefix}doomed")
    d = declared(prefix, with_sub=False, extra_queue=False)
    path, plan = save_plan(tmp_path, postroom_endpoint, d, author="alice")
    assert any(s.destructive and s.name == f"{prefix}doomed" for s in plan.steps)

    with pytest.raises(ApplyRefused, match="needs an approval by someone other than the author alice"):
        apply_plan(path, target(postroom_endpoint), "alice")
    with pytest.raises(PlanError, match="alice wrote this plan"):
        approve(Plan.load(path), "alice")

    # an approval, then the plan is edited (a step dropped) and re-hashed by hand: the approval is stale
    p = Plan.load(path)
    approve(p, "bob", "looked at the delete")
    p.save(path)
    tampered = Plan.load(path)
    tampered.steps = [s for s in tampered.steps if s.action != "delete"]
    tampered.plan_hash = tampered.compute_hash()
    tampered.save(path)
    with pytest.raises(ApplyRefused, match=r"the approval by bob .* is stale"):
        apply_plan(path, target(postroom_endpoint), "alice")
    # edited without re-hashing: the content no longer matches its hash
    raw = json.loads(path.read_text())
    raw["steps"].reverse()
    path.write_text(json.dumps(raw))
    with pytest.raises(ApplyRefused, match="edited after it was made"):
        apply_plan(path, target(postroom_endpoint), "alice")
    assert f"{prefix}doomed" in read_live(target(postroom_endpoint)).queues, "refusals change nothing"

    path, _ = save_plan(tmp_path, postroom_endpoint, d, author="alice")
    p = Plan.load(path)
    approve(p, "bob")
    p.save(path)
    apply_plan(path, target(postroom_endpoint), "carol")
    assert f"{prefix}doomed" not in read_live(target(postroom_endpoint)).queues


def test_protected_environment_needs_approval_for_subscription_changes(postroom_endpoint: Endpoint, prefix: str,
                                                                      tmp_path: Path) -> None:
    d = declared(prefix, protected=True)
    path, plan = save_plan(tmp_path, postroom_endpoint, d)
    assert not any(s.destructive for s in plan.steps), "only creates: approval needed for the protection alone"
    with pytest.raises(ApplyRefused, match=r"subscription change.* in protected environment test"):
        apply_plan(path, target(postroom_endpoint), "alice")
    unprotected = declared(prefix, protected=False)
    path2, _ = save_plan(tmp_path, postroom_endpoint, unprotected, name="u")
    apply_plan(path2, target(postroom_endpoint), "alice")


def test_blocking_findings_refuse(postroom_endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    gap = Finding("MIGRATION-GAP", "error", "orders.fifo replaces orders, but ... billing", ("orders",), "add it")
    path, _ = save_plan(tmp_path, postroom_endpoint, declared(prefix), findings=[gap])
    with pytest.raises(ApplyRefused, match="blocking finding MIGRATION-GAP"):
        apply_plan(path, target(postroom_endpoint), "alice")
    assert f"{prefix}work" not in read_live(target(postroom_endpoint)).queues


def _count(endpoint: Endpoint, prefix: str) -> tuple[int, int, int]:
    sqs, sns = endpoint.client("sqs"), endpoint.client("sns")
    queues = len(sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []))
    topics = sum(1 for pg in sns.get_paginator("list_topics").paginate() for t in pg["Topics"]
                 if t["TopicArn"].rsplit(":", 1)[-1].startswith(prefix))
    subs = sum(1 for pg in sns.get_paginator("list_subscriptions").paginate() for s in pg["Subscriptions"]
               if s["TopicArn"].rsplit(":", 1)[-1].startswith(prefix))
    return queues, topics, subs


def test_resume_after_failure_creates_nothing_twice(endpoint: Endpoint, prefix: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    d = declared(prefix)
    path, plan = save_plan(tmp_path, endpoint, d)
    assert len(plan.steps) == 5
    monkeypatch.setenv("POSTROOM_APPLY_FAIL_AFTER", "2")
    with pytest.raises(ApplyFailed, match="POSTROOM_APPLY_FAIL_AFTER=2"):
        apply_plan(path, target(endpoint), "alice")
    journal = journal_path(path).read_text().splitlines()
    assert [json.loads(line)["index"] for line in journal] == [0, 1]
    assert _count(endpoint, prefix) == (2, 0, 0)

    # second failure: one more step done, then simulate a crash after the call but before its journal
    # line (drop the line): resume must see it in the live state and not run it again
    monkeypatch.setenv("POSTROOM_APPLY_FAIL_AFTER", "2")
    with pytest.raises(ApplyFailed):
        apply_plan(path, target(endpoint), "alice")
    lines = journal_path(path).read_text().splitlines()
    assert [json.loads(line)["index"] for line in lines] == [0, 1, 2, 3]
    journal_path(path).write_text("\n".join(lines[:-1]) + "\n")

    monkeypatch.delenv("POSTROOM_APPLY_FAIL_AFTER")
    result = apply_plan(path, target(endpoint), "alice")
    assert result.applied == [4] and result.already_done == [0, 1, 2, 3]
    assert _count(endpoint, prefix) == (3, 1, 1), "3 queues, 1 topic, 1 subscription: nothing created twice"
    assert compute_changes(d, read_live(target(endpoint))) == []
    # and once more: everything is done, nothing runs
    again = apply_plan(path, target(endpoint), "alice")
    assert again.applied == [] and _count(endpoint, prefix) == (3, 1, 1)


def test_resume_refuses_when_an_applied_step_was_undone_by_hand(
        postroom_endpoint: Endpoint, prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = declared(prefix, with_sub=False, extra_queue=False)
    path, _ = save_plan(tmp_path, postroom_endpoint, d)
    monkeypatch.setenv("POSTROOM_APPLY_FAIL_AFTER", "1")
    with pytest.raises(ApplyFailed):
        apply_plan(path, target(postroom_endpoint), "alice")
    sqs = postroom_endpoint.client("sqs")
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=f"{prefix}dlq")["QueueUrl"])
    monkeypatch.delenv("POSTROOM_APPLY_FAIL_AFTER")
    with pytest.raises(ApplyRefused, match=f"queue:{prefix}dlq: step 1 .* no longer shows it"):
        apply_plan(path, target(postroom_endpoint), "alice")


def test_on_step_sees_subscribers_covered_while_switching_topics(endpoint: Endpoint, prefix: str,
                                                                 tmp_path: Path) -> None:
    """Moving a subscriber from one topic to another: the new subscription exists before the old goes."""
    sqs, sns = endpoint.client("sqs"), endpoint.client("sns")
    sqs.create_queue(QueueName=f"{prefix}q")
    old = sns.create_topic(Name=f"{prefix}old")["TopicArn"]
    sns.subscribe(TopicArn=old, Protocol="sqs", Endpoint=queue_arn(sqs, f"{prefix}q"))
    new_sub = Subscription(f"{prefix}new", "sqs", f"{prefix}q")
    d = Declared(Topology(queues={f"{prefix}q": Queue(f"{prefix}q")}, topics={f"{prefix}new": Topic(f"{prefix}new")},
                          subscriptions={new_sub.key: new_sub}), scope=(f"{prefix}*",))
    path, _ = save_plan(tmp_path, endpoint, d)
    p = Plan.load(path)
    approve(p, "bob")
    p.save(path)

    def covered(step: Change, index: int) -> None:
        subs = read_live(target(endpoint)).subscriptions
        assert (f"{prefix}old", "sqs", f"{prefix}q") in subs or (f"{prefix}new", "sqs", f"{prefix}q") in subs, \
            f"after step {index + 1} ({step.action} {step.name}) the subscriber has no subscription"

    apply_plan(path, target(endpoint), "alice", on_step=covered)
    live = read_live(target(endpoint))
    assert f"{prefix}old" not in live.topics and (f"{prefix}new", "sqs", f"{prefix}q") in live.subscriptions


def test_checklist_puts_destructive_first_and_names_replacements_and_rollback() -> None:
    from postroom.topology.checklist import render_checklist

    def sub(action: str, topic: str, queue: str) -> Change:
        doc = {"raw": False, "filter_policy": None, "filter_scope": "MessageAttributes", "dlq": None}
        return Change(action, "subscription", f"{topic} → sqs:{queue}", (topic, "sqs", queue),  # type: ignore[arg-type]
                      doc if action == "delete" else None, doc if action == "create" else None,
                      destructive=action == "delete")

    steps = [sub("create", "orders.fifo", "billing.fifo"), sub("delete", "orders", "billing"),
             sub("delete", "orders", "audit"),
             Change("delete", "queue", "billing", ("billing",), {"attributes": {}, "tags": {}, "depth": 12}, None,
                    destructive=True)]
    plan = Plan(created_at="2026-01-01T00:00:00Z", author="dana", environment="prod", protected=True,
                file={"path": "postroom.yaml", "sha256": "0" * 64},
                target={"endpoint_url": "http://127.0.0.1:9700", "region": "us-east-1", "account": "1",
                        "accounting_url": "http://127.0.0.1:9700/_postroom/accounting"},
                live={"queues": [], "topics": [], "resources": {}, "sha256": ""}, steps=steps,
                findings=[Finding("DESTRUCTIVE", "warning", "billing holds 12 messages", ("billing",), "drain it")],
                silenced=[])
    plan.plan_hash = plan.compute_hash()
    md = render_checklist(plan)
    assert md.index("### Destructive") < md.index("### Subscriptions")
    assert "- [ ] **2. DESTRUCTIVE: delete subscription `orders → sqs:billing`**" in md
    assert "delete queue `billing` (holds 12 message(s) at plan time)" in md
    assert "its replacement is `orders.fifo → sqs:billing.fifo`" in md
    assert "removed `orders → sqs:audit`: its replacement is **none in this plan**" in md
    assert "/_postroom/accounting" in md
    assert "**warning DESTRUCTIVE**: billing holds 12 messages" in md
    assert "**Missing:** needs an approval by someone other than the author dana" in md
    rollback = md.split("## Roll back", 1)[1]
    assert "1. recreate queue `billing`" in rollback and "**its messages cannot be restored**" in rollback
    assert "4. delete subscription `orders.fifo → sqs:billing.fifo`" in rollback


def test_pending_http_subscription_is_not_a_change_nor_deleted() -> None:
    """AWS lists an unconfirmed HTTP subscription as ``PendingConfirmation`` and shows none of its
    attributes: plan neither "fixes" its raw setting forever nor tries to delete it (AWS can't)."""
    p = "h-"
    declared_sub = Subscription(f"{p}t", "https", "https://hooks.example/x", raw=True)
    live_sub = Subscription(f"{p}t", "https", "https://hooks.example/x", arn="PendingConfirmation")
    other = Subscription(f"{p}t", "https", "https://hooks.example/old", arn="PendingConfirmation")
    topics = {f"{p}t": Topic(f"{p}t")}
    d = Declared(Topology(topics=topics, subscriptions={declared_sub.key: declared_sub}), scope=(f"{p}*",))
    live = Topology(topics=topics, subscriptions={live_sub.key: live_sub, other.key: other})
    assert compute_changes(d, live) == []
