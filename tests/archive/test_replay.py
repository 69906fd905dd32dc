"""SNS message replay (AWS's "Amazon SNS message archiving and replay"), black box, on both stores.

A subscription's ``ReplayPolicy`` (Subscribe or SetSubscriptionAttributes), ``postroom replay`` /
``postroom replays`` and postroom's admin API (``/_postroom/replays``) replay a time window of a
topic's archive: replayed messages keep their MessageId and Timestamp, carry the ``Replayed``
marker, pass the filter policy, keep FIFO group order and deduplication ids, and a replay survives
a restart. The consumer library recognises them and its inbox applies a replayed copy only once.

Every time window here is computed from the server's clock (``Server.now()``), so tests that move
the debug clock forward do not disturb the ones that follow.
"""

from __future__ import annotations

import getpass
import json
import re
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from postroom.consumer import Consumer, Hooks, Inbox, Message, SnsVerifier
from tests.api.conftest import Server, make_client
from tests.archive.conftest import admin, cli, drain, iso, replay_policy, wait_replay_done
from tests.sns.conftest import StoreSpec, _shutdown, envelope, make_sns, new_queue, new_topic, subscribe_queue

REPLAYED = {"DataType": "String", "StringValue": "true"}
SUMMARY = re.compile(r"^replay (\S+): (\S+): (\d+) delivered, (\d+) skipped by the filter policy, of (\d+)$")


# ---------------------------------------------------------------------------------------------
# helpers


@dataclass(frozen=True)
class Sent:
    """One published message and what Publish answered."""

    body: str
    message_id: str
    group: str | None = None
    dedup: str | None = None
    seq: str | None = None
    subject: str | None = None
    kind: str | None = None


def server_ms(server: Server) -> int:
    return int(server.now() * 1000)


def mark(server: Server) -> int:
    """A window boundary strictly between the publishes before and after it."""
    time.sleep(0.02)
    at = server_ms(server)
    time.sleep(0.02)
    return at


def publish(sns: Any, topic: str, tag: str, n: int, *, groups: tuple[str, ...] = (), subject: str | None = None,
            kinds: tuple[str | None, ...] = ()) -> list[Sent]:
    """n messages, one Publish each; FIFO (``groups``) round-robin over the groups with unique dedup ids;
    ``kinds`` round-robin as the ``kind`` message attribute (None: no attribute)."""
    out: list[Sent] = []
    for i in range(n):
        group = groups[i % len(groups)] if groups else None
        kind = kinds[i % len(kinds)] if kinds else None
        body = json.dumps({"tag": tag, "i": i, "group": group, "kind": kind})
        kwargs: dict[str, Any] = {"TopicArn": topic, "Message": body,
                                  "MessageAttributes": {"n": {"DataType": "Number", "StringValue": str(i)}}}
        if kind is not None:
            kwargs["MessageAttributes"]["kind"] = {"DataType": "String", "StringValue": kind}
        if subject is not None:
            kwargs["Subject"] = subject
        dedup = None
        if group is not None:
            dedup = f"{tag}-d{i}"
            kwargs.update(MessageGroupId=group, MessageDeduplicationId=dedup)
        resp = sns.publish(**kwargs)
        out.append(Sent(body, resp["MessageId"], group, dedup, resp.get("SequenceNumber"), subject, kind))
    return out


def publish_many(sns: Any, topic: str, tag: str, n: int, groups: tuple[str, ...]) -> list[Sent]:
    """n FIFO messages in batches of 10, round-robin over the groups."""
    out: list[Sent] = []
    for start in range(0, n, 10):
        entries = []
        for i in range(start, min(n, start + 10)):
            group = groups[i % len(groups)]
            entries.append({"Id": str(i - start), "Message": f"{tag}-{group}-{i}", "MessageGroupId": group,
                            "MessageDeduplicationId": f"{tag}-{i}"})
        resp = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
        assert not resp.get("Failed"), resp["Failed"]
        ids = {s["Id"]: s for s in resp["Successful"]}
        for e in entries:
            s = ids[e["Id"]]
            out.append(Sent(e["Message"], s["MessageId"], e["MessageGroupId"], e["MessageDeduplicationId"],
                            s.get("SequenceNumber")))
    return out


def publish_in_parallel(endpoint: str, topic: str, tag: str, n: int, groups: tuple[str, ...]) -> list[Sent]:
    """n FIFO messages, one publishing thread (and client) per group, so each group's order is its
    publish order."""
    per: dict[str, list[Sent]] = {}

    def run(group: str) -> None:
        per[group] = publish_many(make_sns(endpoint), topic, f"{tag}-{group}", n // len(groups), (group,))

    threads = [threading.Thread(target=run, args=(g,)) for g in groups]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(per) == sorted(groups), "a publishing thread failed"
    return [s for g in groups for s in per[g]]


def group_of(body: str) -> str:
    return str(json.loads(body)["group"])


def per_group(bodies: list[str], group: Any = group_of) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for b in bodies:
        out.setdefault(group(b), []).append(b)
    return out


def replays_of(server: Server, arn: str) -> list[dict[str, Any]]:
    """The replays of a subscription or topic, newest first."""
    found = admin(server, "/_postroom/replays", arn=arn)["replays"]
    assert isinstance(found, list)
    return found


def replay_record(server: Server, replay_id: str) -> dict[str, Any]:
    rec = admin(server, f"/_postroom/replays/{replay_id}")["replay"]
    assert isinstance(rec, dict)
    return rec


def wait_record(server: Server, replay_id: str, statuses: tuple[str, ...] = ("Completed", "Failed", "Superseded"),
                timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        rec = replay_record(server, replay_id)
        if rec["status"] in statuses:
            return rec
        if time.monotonic() > deadline:
            raise AssertionError(f"replay {replay_id} not {statuses} after {timeout} s: {rec}")
        time.sleep(0.1)


def collect_until_done(server: Server, sqs: Any, url: str, replay_id: str, timeout: float = 60) -> list[dict[str, Any]]:
    """Receive and delete while the replay delivers, until it is over and the queue is empty."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"],
                                   MessageAttributeNames=["All"]).get("Messages", [])
        if msgs:
            got.extend(msgs)
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
        elif replay_record(server, replay_id)["status"] not in ("Pending", "In progress"):
            return got + drain(sqs, url, idle_polls=1)
        assert time.monotonic() < deadline, f"replay {replay_id} still running after {timeout} s"


def start_replay(server: Server, **doc: Any) -> dict[str, Any]:
    r = requests.post(server.endpoint + "/_postroom/replays", json=doc, timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)
    rec = r.json()["replay"]
    assert isinstance(rec, dict)
    return rec


def sub_attrs(sns: Any, sub_arn: str) -> dict[str, str]:
    return dict(sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"])


def summary(proc: Any) -> re.Match[str]:
    """The last line of ``postroom replay``'s output, parsed."""
    lines = proc.stdout.strip().splitlines()
    assert lines, (proc.returncode, proc.stdout, proc.stderr)
    found = SUMMARY.match(lines[-1])
    assert found, (proc.returncode, proc.stdout, proc.stderr)
    return found


# ---------------------------------------------------------------------------------------------
# 1. ReplayPolicy on Subscribe


def test_replay_policy_on_subscribe_fifo(server: Server, sns: Any, sqs: Any) -> None:
    """A FIFO subscription made after the messages were published gets exactly the window
    [StartingPoint, now], in per-group order, marked Replayed, with the original MessageId,
    Timestamp, SequenceNumber, group and deduplication ids."""
    topic = new_topic(sns, fifo=True, ArchivePolicy=json.dumps({"MessageRetentionPeriod": "3"}))
    live_url, _ = subscribe_queue(sns, sqs, topic, fifo=True)  # sees the originals (their Timestamps)
    groups = ("ga", "gb", "gc")
    early = publish(sns, topic, "early", 3, groups=groups)
    start = mark(server)
    window = publish(sns, topic, "win", 12, groups=groups, subject="hello")
    live = {envelope(m)["MessageId"]: envelope(m) for m in drain(sqs, live_url)}
    assert set(live) == {s.message_id for s in early + window}
    assert not any("Replayed" in e for e in live.values()), "a live delivery is marked Replayed"

    policy = replay_policy(start)
    asked = time.monotonic()
    raw_url, raw_sub = subscribe_queue(sns, sqs, topic, fifo=True, raw=True, ReplayPolicy=policy)
    attrs = sub_attrs(sns, raw_sub)
    if time.monotonic() - asked < 0.8:  # picked up about a second after it was asked for
        assert attrs["ReplayStatus"] == "Pending", attrs
    assert json.loads(attrs["ReplayPolicy"]) == json.loads(policy)
    env_url, env_sub = subscribe_queue(sns, sqs, topic, fifo=True, ReplayPolicy=policy)
    assert wait_replay_done(sns, raw_sub) == "Completed"
    assert wait_replay_done(sns, env_sub) == "Completed"
    attrs = sub_attrs(sns, raw_sub)
    assert attrs["ReplayStatus"] == "Completed" and json.loads(attrs["ReplayPolicy"]) == json.loads(policy)

    # raw: exactly the window, each once, per-group publish order, the marker as a message attribute
    got = drain(sqs, raw_url)
    bodies = [m["Body"] for m in got]
    assert sorted(bodies) == sorted(s.body for s in window), "not exactly the window's messages"
    assert per_group(bodies) == per_group([s.body for s in window]), "per-group order lost"
    by_body = {s.body: s for s in window}
    for m in got:
        sent = by_body[m["Body"]]
        assert m["MessageAttributes"].get("Replayed") == REPLAYED, m
        assert m["MessageAttributes"]["n"]["StringValue"] == str(json.loads(sent.body)["i"])
        assert m["Attributes"]["MessageGroupId"] == sent.group
        assert m["Attributes"]["MessageDeduplicationId"] == sent.dedup

    # envelope: the original MessageId, Timestamp, SequenceNumber, and "Replayed": "true"
    envs = [envelope(m) for m in drain(sqs, env_url)]
    assert sorted(e["MessageId"] for e in envs) == sorted(s.message_id for s in window)
    assert per_group([e["Message"] for e in envs]) == per_group([s.body for s in window])
    for e in envs:
        original = live[e["MessageId"]]
        sent = next(s for s in window if s.message_id == e["MessageId"])
        assert e["Replayed"] == "true", e
        assert e["Timestamp"] == original["Timestamp"], (e, original)
        assert e["SequenceNumber"] == sent.seq == original["SequenceNumber"]
        assert e["Message"] == sent.body and e["Subject"] == "hello" and e["TopicArn"] == topic
        assert e["MessageAttributes"] == original["MessageAttributes"]


# ---------------------------------------------------------------------------------------------
# 2. SetSubscriptionAttributes(ReplayPolicy) with an EndingPoint


def test_set_replay_policy_replays_bounded_window(server: Server, sns: Any, sqs: Any) -> None:
    """On an existing standard subscription: only [StartingPoint, EndingPoint] comes again, as
    copies of the live deliveries with the original MessageId and Timestamp, marked Replayed."""
    topic = new_topic(sns)
    url, sub = subscribe_queue(sns, sqs, topic)
    before = publish(sns, topic, "before", 2)
    start = mark(server)
    inside = publish(sns, topic, "inside", 4, subject="s")
    end = mark(server)
    after = publish(sns, topic, "after", 2)
    live = {envelope(m)["MessageId"]: envelope(m) for m in drain(sqs, url)}
    assert set(live) == {s.message_id for s in before + inside + after}
    assert "ReplayStatus" not in sub_attrs(sns, sub)

    policy = replay_policy(start, end)
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="ReplayPolicy", AttributeValue=policy)
    assert json.loads(sub_attrs(sns, sub)["ReplayPolicy"]) == json.loads(policy)
    assert wait_replay_done(sns, sub) == "Completed"

    envs = [envelope(m) for m in drain(sqs, url)]
    assert sorted(e["MessageId"] for e in envs) == sorted(s.message_id for s in inside), \
        "the replay is not exactly [StartingPoint, EndingPoint]"
    for e in envs:
        assert e["Replayed"] == "true", e
        assert e["Timestamp"] == live[e["MessageId"]]["Timestamp"]
        assert e["Message"] == live[e["MessageId"]]["Message"] and e["Subject"] == "s"
    [rec] = replays_of(server, sub)
    assert (rec["status"], rec["origin"], rec["sub_arn"], rec["topic_arn"]) == ("Completed", "ReplayPolicy", sub, topic)
    assert (rec["start_ms"], rec["end_ms"]) == (start, end)
    assert (rec["total"], rec["delivered"], rec["skipped"]) == (4, 4, 0)


# ---------------------------------------------------------------------------------------------
# 3. filter policies


def test_replay_passes_the_filter_policy(server: Server, sns: Any, sqs: Any) -> None:
    """Only archived messages the subscription's filter policy accepts are replayed; the others are
    counted as skipped (admin API and the CLI's summary)."""
    topic = new_topic(sns)
    start = mark(server)
    sent = publish(sns, topic, "f", 8, kinds=("order", "refund", None, "order"))
    orders = sorted(s.body for s in sent if s.kind == "order")
    refunds = sorted(s.body for s in sent if s.kind == "refund")
    assert (len(orders), len(refunds)) == (4, 2)
    url, sub = subscribe_queue(sns, sqs, topic, raw=True, FilterPolicy=json.dumps({"kind": ["order"]}),
                               ReplayPolicy=replay_policy(start))
    body_url, body_sub = subscribe_queue(sns, sqs, topic, FilterPolicyScope="MessageBody",
                                         FilterPolicy=json.dumps({"kind": ["refund"]}),
                                         ReplayPolicy=replay_policy(start))
    assert wait_replay_done(sns, sub) == "Completed"
    assert wait_replay_done(sns, body_sub) == "Completed"
    got = drain(sqs, url)
    assert sorted(m["Body"] for m in got) == orders
    assert all(m["MessageAttributes"].get("Replayed") == REPLAYED for m in got)
    assert all(m["MessageAttributes"]["kind"]["StringValue"] == "order" for m in got)
    assert sorted(envelope(m)["Message"] for m in drain(sqs, body_url)) == refunds

    [rec] = replays_of(server, sub)
    assert (rec["total"], rec["delivered"], rec["skipped"]) == (8, 4, 4), rec
    assert replay_record(server, rec["replay_id"]) == rec
    [body_rec] = replays_of(server, body_sub)
    assert (body_rec["total"], body_rec["delivered"], body_rec["skipped"]) == (8, 2, 6), body_rec

    # the same through `postroom replay` to the subscription: summary and record agree
    proc = cli(server, "replay", "--topic", topic, "--to", sub, "--since", str(start))
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    rid, status, delivered, skipped, total = summary(proc).groups()
    assert (status, delivered, skipped, total) == ("Completed", "4", "4", "8")
    rec = replay_record(server, rid)
    assert (rec["status"], rec["delivered"], rec["skipped"], rec["total"]) == ("Completed", 4, 4, 8)
    assert (rec["sub_arn"], rec["origin"], rec["requested_by"]) == (sub, "postroom replay", getpass.getuser())
    got = drain(sqs, url)
    assert sorted(m["Body"] for m in got) == orders
    assert all(m["MessageAttributes"].get("Replayed") == REPLAYED for m in got)


# ---------------------------------------------------------------------------------------------
# 4. FIFO deduplication of replays; superseding replays


def test_fifo_replay_deduplicated_within_five_minutes(server: Server, sns: Any, sqs: Any) -> None:
    """Replayed copies carry the deduplication id of the live delivery: a second replay of the same
    window within 5 minutes adds nothing to a FIFO queue, nor does a replay of what the queue got
    live; after the deduplication window the same replay delivers again."""
    topic = new_topic(sns, fifo=True)
    start = mark(server)
    first = publish(sns, topic, "dd", 6, groups=("g1", "g2"))
    url, sub = subscribe_queue(sns, sqs, topic, fifo=True, raw=True, ReplayPolicy=replay_policy(start))
    assert wait_replay_done(sns, sub) == "Completed"
    assert sorted(m["Body"] for m in drain(sqs, url)) == sorted(s.body for s in first)

    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="ReplayPolicy",
                                    AttributeValue=replay_policy(start))
    assert wait_replay_done(sns, sub) == "Completed"
    again, older = replays_of(server, sub)
    assert (again["status"], again["total"], again["delivered"]) == ("Completed", 6, 6), again
    assert older["status"] == "Completed"
    assert drain(sqs, url) == [], "a second replay of the window within 5 minutes added messages"

    # a queue that got messages live: a replay adds only the ones it never had
    live_url, live_sub = subscribe_queue(sns, sqs, topic, fifo=True, raw=True)
    later = publish(sns, topic, "dd-live", 3, groups=("g1", "g2"))
    assert sorted(m["Body"] for m in drain(sqs, live_url)) == sorted(s.body for s in later)
    assert sorted(m["Body"] for m in drain(sqs, url)) == sorted(s.body for s in later)  # live, to the first too
    sns.set_subscription_attributes(SubscriptionArn=live_sub, AttributeName="ReplayPolicy",
                                    AttributeValue=replay_policy(start))
    assert wait_replay_done(sns, live_sub) == "Completed"
    got = drain(sqs, live_url)
    assert sorted(m["Body"] for m in got) == sorted(s.body for s in first), \
        "replayed copies of live deliveries were not dropped (or earlier messages missing)"
    assert replays_of(server, live_sub)[0]["total"] == 9

    # five minutes on, the queue's deduplication has forgotten them: the replay delivers all again
    server.advance(301)
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="ReplayPolicy",
                                    AttributeValue=replay_policy(start))
    assert wait_replay_done(sns, sub) == "Completed"
    got = drain(sqs, url)
    assert sorted(m["Body"] for m in got) == sorted(s.body for s in first + later)
    assert per_group([m["Body"] for m in got]) == per_group([s.body for s in first + later])
    assert all(m["MessageAttributes"].get("Replayed") == REPLAYED for m in got)


def test_new_replay_policy_supersedes_pending_and_running(server: Server, sns: Any, sqs: Any) -> None:
    """A new ReplayPolicy supersedes the subscription's replay: a pending one never delivers, a
    running one stops; only the new window is delivered after that."""
    topic = new_topic(sns, fifo=True)
    s1 = mark(server)
    early = publish(sns, topic, "early", 4, groups=("g",))
    s2 = mark(server)
    late = publish(sns, topic, "late", 3, groups=("g",))

    # pending: two policies in quick succession
    url, sub = subscribe_queue(sns, sqs, topic, fifo=True, raw=True)
    for start in (s1, s2):
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="ReplayPolicy",
                                        AttributeValue=replay_policy(start))
    assert wait_replay_done(sns, sub) == "Completed"
    new, old = replays_of(server, sub)
    assert (old["start_ms"], old["status"], old["delivered"]) == (s1, "Superseded", 0), old
    assert (new["start_ms"], new["status"], new["delivered"], new["total"]) == (s2, "Completed", 3, 3), new
    assert json.loads(sub_attrs(sns, sub)["ReplayPolicy"])["StartingPoint"] == iso(s2)
    assert [m["Body"] for m in drain(sqs, url)] == [s.body for s in late]

    # running: a slow replay (2 messages a second) superseded after its first batch
    url, sub = subscribe_queue(sns, sqs, topic, fifo=True, raw=True)
    slow = start_replay(server, topic=topic, to=sub, since=s1, rate=2)
    deadline = time.monotonic() + 20
    while (rec := replay_record(server, slow["replay_id"]))["delivered"] == 0:
        assert time.monotonic() < deadline, rec
        time.sleep(0.05)
    assert rec["status"] == "In progress" and rec["delivered"] < rec["total"] == 7, rec
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="ReplayPolicy",
                                    AttributeValue=replay_policy(s2))
    assert replay_record(server, slow["replay_id"])["status"] == "Superseded"
    assert wait_replay_done(sns, sub) == "Completed"
    time.sleep(1.5)  # the slow replay's next batch would be due by now
    stopped = replay_record(server, slow["replay_id"])
    assert stopped["status"] == "Superseded" and stopped["delivered"] < 7, stopped
    bodies = [m["Body"] for m in drain(sqs, url)]
    # what the slow replay delivered (the first of the window, in order), then the rest of the late
    # window (a late message the slow replay already delivered is dropped by the queue's deduplication)
    done = [s.body for s in early + late][:stopped["delivered"]]
    assert bodies == done + [s.body for s in late if s.body not in done], bodies


# ---------------------------------------------------------------------------------------------
# 5. replay while live messages keep coming


def test_replay_concurrent_with_live_fifo_publishing(server: Server, sns: Any, sqs: Any) -> None:
    """While a replay of earlier messages runs into a new FIFO subscription, live messages to the
    same groups keep arriving: each live and each replayed message arrives once, and each stream
    keeps its groups' publish order."""
    topic = new_topic(sns, fifo=True)
    groups = ("a", "b", "c")
    start = mark(server)
    old = publish_many(sns, topic, "old", 300, groups)
    url, sub = subscribe_queue(sns, sqs, topic, fifo=True, raw=True)
    rid = start_replay(server, topic=topic, to=sub, since=start, rate=100)["replay_id"]  # about 3 s

    live: list[str] = []
    overlapped = 0
    rec = replay_record(server, rid)
    while rec["status"] != "Completed" and len(live) < 3000:
        batch = publish_many(sns, topic, f"live{len(live)}", len(groups), groups)
        live.extend(s.body for s in batch)
        rec = replay_record(server, rid)
        if rec["status"] == "In progress" and 0 < rec["delivered"] < rec["total"]:
            overlapped += 1
    rec = wait_record(server, rid)
    assert (rec["status"], rec["delivered"], rec["total"]) == ("Completed", 300, 300), rec
    assert overlapped >= 2, "live publishing never overlapped the running replay"
    live.extend(s.body for s in publish_many(sns, topic, "tail", len(groups), groups))

    got = drain(sqs, url)
    replayed = [m["Body"] for m in got if m.get("MessageAttributes", {}).get("Replayed") == REPLAYED]
    fresh = [m["Body"] for m in got if "Replayed" not in m.get("MessageAttributes", {})]
    assert len(replayed) + len(fresh) == len(got)

    def group(body: str) -> str:
        return body.split("-")[1]

    assert Counter(replayed) == Counter(s.body for s in old), "a replayed message missing or twice"
    assert Counter(fresh) == Counter(live), "a live message missing or twice"
    assert per_group(replayed, group) == per_group([s.body for s in old], group), "replayed order broken"
    assert per_group(fresh, group) == per_group(live, group), "live order broken"


# ---------------------------------------------------------------------------------------------
# 6. the operator CLI


def test_cli_dry_run_raw_replay_and_listing(server: Server, sns: Any, sqs: Any) -> None:
    topic = new_topic(sns, fifo=True)
    start = mark(server)
    sent = publish(sns, topic, "cli", 7, groups=("a", "b", "c"), subject="subj")
    url, qarn = new_queue(sqs, fifo=True)

    # what the archive keeps of each message
    archived = admin(server, "/_postroom/archive/messages", topic=topic)["messages"]
    assert [a["message_id"] for a in archived] == [s.message_id for s in sent]
    for a, s in zip(archived, sent, strict=True):
        assert (a["message"], a["subject"], a["group_id"], a["dedup_id"], a["sequence_number"]) == \
            (s.body, "subj", s.group, s.dedup, s.seq)
        assert a["attributes"] == {"n": ["Number", str(json.loads(s.body)["i"])]}
        assert start <= a["published_ms"] <= server_ms(server)
    first, last = archived[0]["published_ms"], archived[-1]["published_ms"]

    dry = cli(server, "replay", "--topic", topic, "--to", url, "--since", iso(start), "--dry-run")
    assert dry.returncode == 0, (dry.stdout, dry.stderr)
    assert dry.stdout.strip() == (f"dry run: 7 message(s) in 3 FIFO group(s), published {iso(first)} .. {iso(last)}, "
                                  f"would be delivered to {url}")
    assert replays_of(server, topic) == [] and drain(sqs, url) == [], "a dry run delivered or recorded something"

    run = cli(server, "replay", "--topic", topic, "--to", url, "--since", str(start), "--raw")
    assert run.returncode == 0, (run.stdout, run.stderr)
    rid, status, delivered, skipped, total = summary(run).groups()
    assert (status, delivered, skipped, total) == ("Completed", "7", "0", "7")
    assert f"replay {rid} started: {topic} -> {url}" in run.stdout
    got = drain(sqs, url)
    assert per_group([m["Body"] for m in got]) == per_group([s.body for s in sent]), "not the raw bodies in order"
    for m in got:
        assert m["MessageAttributes"].get("Replayed") == REPLAYED
        assert m["Attributes"]["MessageGroupId"] == group_of(m["Body"])

    listed = cli(server, "replays", "--arn", topic, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    [rec] = json.loads(listed.stdout)
    assert rec["replay_id"] == rid and rec["requested_by"] == getpass.getuser()
    assert (rec["status"], rec["delivered"], rec["total"], rec["origin"]) == ("Completed", 7, 7, "postroom replay")
    assert rec["queue"] == {"queue_arn": qarn, "raw": True} and rec["sub_arn"] is None
    assert rec["start_ms"] == start and rec["created_ms"] >= start
    table = cli(server, "replays", "--arn", topic)
    assert table.returncode == 0, table.stderr
    [line] = table.stdout.strip().splitlines()
    assert line.startswith(f"{rid} Completed") and f"by {getpass.getuser()} (postroom replay)" in line
    assert line.endswith("7/7") and f"{topic} -> {qarn}" in line


def test_cli_unrouted_replays_only_messages_that_reached_no_one(server: Server, sns: Any, sqs: Any) -> None:
    """--unrouted: messages published while the topic had no subscription, and those every filter
    policy rejected; not the delivered ones."""
    topic = new_topic(sns)
    nobody = publish(sns, topic, "nobody", 3)
    kept_url, _ = subscribe_queue(sns, sqs, topic, raw=True, FilterPolicy=json.dumps({"kind": ["keep"]}))
    routed = publish(sns, topic, "routed", 2, kinds=("keep",))
    filtered = publish(sns, topic, "filtered", 1, kinds=("drop",))
    assert sorted(m["Body"] for m in drain(sqs, kept_url)) == sorted(s.body for s in routed)
    url, qarn = new_queue(sqs)

    dry = cli(server, "replay", "--topic", topic, "--to", qarn, "--since", "-1d", "--unrouted", "--dry-run")
    assert dry.returncode == 0, (dry.stdout, dry.stderr)
    assert dry.stdout.startswith("dry run: 4 message(s) in 0 FIFO group(s)"), dry.stdout
    every = cli(server, "replay", "--topic", topic, "--to", qarn, "--since", "-1d", "--dry-run")
    assert every.stdout.startswith("dry run: 6 message(s)"), every.stdout

    run = cli(server, "replay", "--topic", topic, "--to", qarn, "--since", "-1d", "--unrouted", "--raw")
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert summary(run).groups()[1:] == ("Completed", "4", "0", "4")
    got = drain(sqs, url)
    assert sorted(m["Body"] for m in got) == sorted(s.body for s in nobody + filtered)
    assert all(m["MessageAttributes"].get("Replayed") == REPLAYED for m in got)
    [rec] = replays_of(server, topic)
    assert rec["selection"] == "unrouted" and rec["delivered"] == 4


# ---------------------------------------------------------------------------------------------
# 7. restart mid-replay


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_replay_resumes_after_restart(store: StoreSpec, how: str) -> None:
    """A rate-limited replay of 2,000 FIFO messages interrupted by a restart (clean, or kill -9)
    resumes from its last committed batch: every message once, in group order, and the record's
    delivered count is the total (nothing delivered twice, not even into the deduplicating queue)."""
    srv = store.make()
    srv.start()
    try:
        sns, sqs = make_sns(srv.endpoint), make_client(srv.endpoint)
        topic = new_topic(sns, fifo=True)
        groups = tuple(f"g{i}" for i in range(5))
        start = mark(srv)
        sent = publish_in_parallel(srv.endpoint, topic, "r", 2000, groups)
        assert len(sent) == 2000
        url, qarn = new_queue(sqs, fifo=True)
        proc = cli(srv, "replay", "--topic", topic, "--to", qarn, "--since", str(start), "--rate", "200", "--raw",
                   "--no-wait")
        assert proc.returncode == 0, (proc.stdout, proc.stderr)
        found = re.search(r"^replay (\S+) started", proc.stdout, re.M)
        assert found, proc.stdout
        rid = found.group(1)
        deadline = time.monotonic() + 30
        while (rec := replay_record(srv, rid))["delivered"] < 200:
            assert time.monotonic() < deadline and rec["status"] in ("Pending", "In progress"), rec
            time.sleep(0.05)
        assert rec["total"] == 2000 and rec["delivered"] < 2000, rec

        if how == "sigterm":
            srv.restart()
        else:
            srv.kill9()
            srv.start()
        resumed = replay_record(srv, rid)
        assert resumed["status"] == "In progress" and rec["delivered"] <= resumed["delivered"] < 2000, resumed
        # the old process's lease (30 s) still holds the replay: move the clock past it
        srv.advance(31)
        sqs = make_client(srv.endpoint)
        got = collect_until_done(srv, sqs, url, rid)
        rec = replay_record(srv, rid)
        assert (rec["status"], rec["delivered"], rec["skipped"], rec["total"]) == ("Completed", 2000, 0, 2000), rec
        bodies = [m["Body"] for m in got]
        dupes = [b for b, n in Counter(bodies).items() if n > 1]
        assert not dupes, f"{len(dupes)} message(s) delivered twice, e.g. {dupes[:3]}"
        assert sorted(bodies) == sorted(s.body for s in sent), f"{len(bodies)} of 2000 arrived"

        def group(body: str) -> str:
            return body.split("-")[1]

        assert per_group(bodies, group) == per_group([s.body for s in sent], group), "group order broken"
        assert all(m["MessageAttributes"].get("Replayed") == REPLAYED for m in got)
    finally:
        _shutdown(srv)


# ---------------------------------------------------------------------------------------------
# 8. the consumer library


def _consume(server: Server, sqs: Any, url: str, inbox: Inbox, seen: list[Message]) -> Consumer:
    lock = threading.Lock()

    def apply(message: Message, db: Any) -> None:
        db.execute("INSERT INTO effects (msg_key, body) VALUES (?, ?)",
                   (message.sns.message_id if message.sns else message.dedup_id, message.body))

    handle = inbox.handler(apply)

    def handler(message: Message) -> None:
        with lock:
            seen.append(message)
        handle(message)

    consumer = Consumer(url, handler, client=sqs, wait_time=1, hooks=Hooks(),
                        verifier=SnsVerifier.for_endpoint(server.endpoint))
    consumer.run(idle_timeout=2, install_signal_handlers=False)
    return consumer


def _effects(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return sorted(db.execute("SELECT msg_key, body FROM effects").fetchall())


def _app_db(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False)
    db.execute("CREATE TABLE effects (msg_key TEXT NOT NULL, body TEXT NOT NULL)")
    db.commit()
    return db


def test_consumer_sees_replayed_envelopes_and_inbox_applies_once(server: Server, sns: Any, sqs: Any,
                                                                 tmp_path: Path) -> None:
    """Standard topic and queue, envelopes: the live copy and the replayed copy of each message reach
    the consumer, the replayed one with ``replayed`` True (its signature still verifies); the inbox
    applies each SNS MessageId once."""
    topic = new_topic(sns)
    url, sub = subscribe_queue(sns, sqs, topic)
    start = mark(server)
    sent = publish(sns, topic, "inbox", 4)
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="ReplayPolicy",
                                    AttributeValue=replay_policy(start))
    assert wait_replay_done(sns, sub) == "Completed"

    path = tmp_path / "app.db"
    inbox = Inbox(_app_db(path), scope="replay")
    seen: list[Message] = []
    consumer = _consume(server, sqs, url, inbox, seen)
    assert consumer.stats.rejected == 0, "a replayed envelope's signature did not verify"
    ids = [s.message_id for s in sent]
    assert all(m.sns is not None for m in seen)
    assert sorted(m.sns.message_id for m in seen if m.replayed and m.sns) == sorted(ids)
    assert sorted(m.sns.message_id for m in seen if not m.replayed and m.sns) == sorted(ids)
    assert inbox.stats == {"applied": 4, "duplicates": 4, "rolled_back": 0}, inbox.stats
    assert _effects(path) == sorted((s.message_id, s.body) for s in sent)


def test_consumer_inbox_catches_raw_fifo_replay_after_dedup_window(server: Server, sns: Any, sqs: Any,
                                                                  tmp_path: Path) -> None:
    """Raw FIFO delivery: once the queue's 5-minute deduplication has passed, a replay delivers
    again; the consumer sees ``replayed`` (the message attribute) and the inbox recognises each
    replayed copy by its deduplication id, so nothing is applied twice."""
    topic = new_topic(sns, fifo=True)
    url, sub = subscribe_queue(sns, sqs, topic, fifo=True, raw=True)
    start = mark(server)
    sent = publish(sns, topic, "fifo-inbox", 4, groups=("x", "y"))
    path = tmp_path / "app.db"
    inbox = Inbox(_app_db(path), scope="replay-fifo")
    seen: list[Message] = []
    _consume(server, sqs, url, inbox, seen)
    assert [m.replayed for m in seen] == [False] * 4
    assert inbox.stats["applied"] == 4

    server.advance(301)
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="ReplayPolicy",
                                    AttributeValue=replay_policy(start))
    assert wait_replay_done(sns, sub) == "Completed"
    seen.clear()
    _consume(server, sqs, url, inbox, seen)
    assert sorted(m.body for m in seen) == sorted(s.body for s in sent)
    assert all(m.replayed for m in seen), [m.attributes for m in seen]
    assert sorted(m.dedup_id or "" for m in seen) == sorted(s.dedup or "" for s in sent)
    assert inbox.stats == {"applied": 4, "duplicates": 4, "rolled_back": 0}, inbox.stats
    assert _effects(path) == sorted((s.dedup or "", s.body) for s in sent)


def test_replay_from_a_standard_topic_into_a_fifo_queue_is_refused(sns: Any, sqs: Any, server: Server) -> None:
    """Subscribe's rule holds for replays: "FIFO SQS Queues can not be subscribed to standard SNS
    topics". Before, the replay 'completed' into the FIFO queue with messages no receive could
    ever return (no group id)."""
    topic = new_topic(sns)
    sns.publish(TopicArn=topic, Message="x")
    url, _arn = new_queue(sqs, fifo=True)
    refused = cli(server, "replay", "--topic", topic, "--to", url, "--since", "-1h", "--raw")
    assert refused.returncode != 0
    assert "FIFO SQS Queues can not be subscribed to standard SNS topics" in refused.stderr + refused.stdout
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "0"
