"""The review guarantees through the CLI (in-process with click's CliRunner — the same commands a
user runs, without an interpreter start-up per call): a bad file fails plan with its line; hand
changes between plan and apply make apply refuse and change nothing; a plan edited after approval
is refused naming the stale approval; a failed apply resumes and creates nothing twice."""

from __future__ import annotations

import json
from pathlib import Path

from tests.endpoints import Endpoint
from tests.topology.conftest import invoke


def spec_text(p: str, vis: int = 30, keep_old: bool = True) -> str:
    old = f"  {p}old: {{}}\n" if keep_old else ""
    return f"""version: 1
environments:
  test: {{scope: ["{p}*"]}}
queues:
  {p}dlq: {{}}
  {p}jobs: {{visibility_timeout: {vis}, dlq: {p}dlq, max_receive_count: 3}}
  {p}mail: {{}}
{old}topics:
  {p}events: {{}}
subscriptions:
  - {{topic: {p}events, queue: {p}jobs}}
  - {{topic: {p}events, queue: {p}mail, raw: true}}
checks:
  - {{check: QUEUE-POLICY, resource: "*", severity: "off", reason: "postroom does not enforce policies"}}
  - {{check: ORPHAN-QUEUE, resource: "*", severity: "off", reason: "test queues"}}
  - {{check: NO-DLQ, resource: "*", severity: "off", reason: "test queues"}}
"""


def _queues(ep: Endpoint, p: str) -> list[str]:
    return sorted(u.rsplit("/", 1)[-1] for u in ep.client("sqs").list_queues(QueueNamePrefix=p).get("QueueUrls", []))


def _subscriptions(ep: Endpoint, p: str) -> int:
    sns = ep.client("sns")
    return sum(1 for page in sns.get_paginator("list_subscriptions").paginate() for s in page["Subscriptions"]
               if s["TopicArn"].rsplit(":", 1)[-1].startswith(p))


def test_bad_file_fails_plan_with_its_line(postroom_endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    spec = tmp_path / "postroom.yaml"
    spec.write_text(f"version: 1\nqueues:\n  {prefix}a: {{dlq: {prefix}missing, max_receive_count: 3}}\n")
    r = invoke(postroom_endpoint, "plan", "-f", str(spec))
    assert r.code == 1
    assert "postroom.yaml:3" in r.err and f"{prefix}missing" in r.err, r.text
    assert _queues(postroom_endpoint, prefix) == [], "a bad file changes nothing"


def test_drift_between_plan_and_apply(postroom_endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    ep, p = postroom_endpoint, prefix
    spec = tmp_path / "postroom.yaml"
    spec.write_text(spec_text(p))
    assert invoke(ep, "apply", str(tmp_path / "x.json")).code == 2, "click: a missing plan file is a usage error"
    assert invoke(ep, "plan", "-f", str(spec), "--env", "test", "-o", str(tmp_path / "a.json")).code == 2
    assert invoke(ep, "apply", str(tmp_path / "a.json"), "--by", "me").code == 0

    spec.write_text(spec_text(p, vis=60))
    r = invoke(ep, "plan", "-f", str(spec), "--env", "test", "-o", str(tmp_path / "b.json"))
    assert r.code == 2 and f"~ update queue {p}jobs" in r.out, r.text
    sqs = ep.client("sqs")
    sqs.tag_queue(QueueUrl=sqs.get_queue_url(QueueName=f"{p}jobs")["QueueUrl"], Tags={"by": "hand"})
    r = invoke(ep, "apply", str(tmp_path / "b.json"), "--by", "me")
    assert r.code == 1, r.text
    assert "nothing was changed" in r.err and f"queue:{p}jobs changed since the plan was made" in r.err
    attrs = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=f"{p}jobs")["QueueUrl"],
                                     AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "30"

    # a subscription appearing on a topic the plan is about also invalidates it
    r = invoke(ep, "plan", "-f", str(spec), "--env", "test", "-o", str(tmp_path / "c.json"))
    assert r.code == 2
    sns = ep.client("sns")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(f":{p}events"))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:000000000000:{p}dlq")
    r = invoke(ep, "apply", str(tmp_path / "c.json"), "--by", "me")
    assert r.code == 1 and f"subscription:{p}events|sqs|{p}dlq appeared since the plan was made" in r.err, r.text


def test_plan_changed_after_approval_is_refused(postroom_endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    ep, p = postroom_endpoint, prefix
    spec = tmp_path / "postroom.yaml"
    spec.write_text(spec_text(p))
    assert invoke(ep, "plan", "-f", str(spec), "--env", "test", "-o", str(tmp_path / "a.json")).code == 2
    assert invoke(ep, "apply", str(tmp_path / "a.json")).code == 0

    spec.write_text(spec_text(p, keep_old=False))  # removes a queue: destructive, needs approval
    plan_path = tmp_path / "b.json"
    r = invoke(ep, "plan", "-f", str(spec), "--env", "test", "-o", str(plan_path), "--author", "ann")
    assert r.code == 2 and f"- delete queue {p}old" in r.out and "DESTRUCTIVE" in r.out, r.text
    r = invoke(ep, "apply", str(plan_path), "--by", "ann")
    assert r.code == 1 and "needs an approval by someone other than the author ann" in r.err
    assert invoke(ep, "approve", str(plan_path), "--by", "ann").code == 1, "self-approval"
    assert invoke(ep, "approve", str(plan_path), "--by", "ben").code == 0

    # after the approval, someone slips another delete into the plan and re-hashes it
    from postroom.topology.planfile import Plan

    doc = json.loads(plan_path.read_text())
    doc["steps"].append({"action": "delete", "kind": "queue", "name": f"{p}mail", "key": [f"{p}mail"],
                         "before": {}, "after": None, "destructive": True})
    plan_path.write_text(json.dumps(doc))
    edited = Plan.load(plan_path)
    edited.plan_hash = edited.compute_hash()
    edited.save(plan_path)
    r = invoke(ep, "apply", str(plan_path), "--by", "ann")
    assert r.code == 1 and "the approval by ben" in r.err and "stale" in r.err, r.text
    assert _queues(ep, p) == sorted([f"{p}dlq", f"{p}jobs", f"{p}mail", f"{p}old"]), "nothing deleted"


def test_failed_apply_resumes_and_creates_nothing_twice(postroom_endpoint: Endpoint, prefix: str,
                                                        tmp_path: Path) -> None:
    ep, p = postroom_endpoint, prefix
    spec = tmp_path / "postroom.yaml"
    spec.write_text(spec_text(p))
    plan_path = tmp_path / "plan.json"
    assert invoke(ep, "plan", "-f", str(spec), "--env", "test", "-o", str(plan_path)).code == 2
    steps = len(json.loads(plan_path.read_text())["steps"])
    assert steps == 7  # 4 queues, 1 topic, 2 subscriptions

    r = invoke(ep, "apply", str(plan_path), env={"POSTROOM_APPLY_FAIL_AFTER": "5"})
    assert r.code == 1 and "apply failed" in r.err and "re-run apply to finish" in r.err, r.text
    assert len(_queues(ep, p)) == 4 and _subscriptions(ep, p) == 0
    assert len((tmp_path / "plan.json.applied").read_text().splitlines()) == 5

    r = invoke(ep, "apply", str(plan_path))
    assert r.code == 0, r.text
    assert "5 already done" in r.out and "2 step(s) run" in r.out
    assert len(_queues(ep, p)) == 4 and _subscriptions(ep, p) == 2, "nothing created twice"
    assert invoke(ep, "plan", "-f", str(spec), "--env", "test").code == 0


def test_asyncapi_expectations_feed_plan(postroom_endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    """An application's AsyncAPI 3 document says it receives ``orders``; imported into the file, plan
    reports MISSING-ROUTE while no subscription delivers orders to its queue, and passes once one does."""
    p = prefix
    doc = tmp_path / "billing.asyncapi.yaml"
    doc.write_text(f"""asyncapi: 3.0.0
info: {{title: Billing, version: 1.0.0, x-postroom-queue: {p}billing}}
channels:
  orders: {{address: {p}orders}}
operations:
  onOrder: {{action: receive, channel: {{$ref: '#/channels/orders'}}}}
""")
    r = invoke(postroom_endpoint, "import-asyncapi", str(doc))
    assert r.code == 0, r.text
    assert "consumers:" in r.out and f"{p}billing" in r.out and f"{p}orders" in r.out

    base = f"""version: 1
environments: {{test: {{scope: ["{p}*"]}}}}
queues: {{{p}billing: {{}}}}
topics: {{{p}orders: {{}}}}
checks:
  - {{check: QUEUE-POLICY, resource: "*", severity: "off", reason: "postroom does not enforce policies"}}
  - {{check: NO-DLQ, resource: "*", severity: "off", reason: "test queues"}}
"""
    spec = tmp_path / "postroom.yaml"
    spec.write_text(base + r.out)
    missing = invoke(postroom_endpoint, "plan", "-f", str(spec), "--env", "test")
    assert missing.code == 1 and "MISSING-ROUTE" in missing.out and f"{p}billing" in missing.out, missing.text
    spec.write_text(base + f"subscriptions: [{{topic: {p}orders, queue: {p}billing}}]\n" + r.out)
    ok = invoke(postroom_endpoint, "plan", "-f", str(spec), "--env", "test")
    assert ok.code == 2 and "MISSING-ROUTE" not in ok.out, ok.text


def test_apply_refuses_another_endpoint_and_a_concurrent_run(postroom_endpoint: Endpoint, prefix: str,
                                                             tmp_path: Path) -> None:
    import fcntl

    ep, p = postroom_endpoint, prefix
    spec = tmp_path / "postroom.yaml"
    spec.write_text(spec_text(p))
    plan_path = tmp_path / "plan.json"
    assert invoke(ep, "plan", "-f", str(spec), "--env", "test", "-o", str(plan_path)).code == 2

    # the same server under another name is another endpoint as far as the plan knows: refused
    other = ep.url.replace("127.0.0.1", "localhost")
    r = invoke(ep, "apply", str(plan_path), env={"POSTROOM_ENDPOINT_URL": other})
    assert r.code == 1 and "the plan was made for endpoint_url" in r.err, r.text
    r = invoke(ep, "apply", str(plan_path), "--region", "eu-west-1")
    assert r.code == 1 and "the plan was made for region 'us-east-1'" in r.err, r.text

    # a second apply of the same plan while one is running: refused
    with open(tmp_path / "plan.json.lock", "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        r = invoke(ep, "apply", str(plan_path))
        assert r.code == 1 and "another apply of" in r.err, r.text
        fcntl.flock(held.fileno(), fcntl.LOCK_UN)
    assert _queues(ep, p) == [], "none of the refusals changed anything"
    assert invoke(ep, "apply", str(plan_path)).code == 0
    assert len(_queues(ep, p)) == 4
