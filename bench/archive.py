"""Archive, replay and audit, measured (issue #12). Three parts, each side by side in one run:

1. **Archiving's cost**: the yardstick's W5 (SNS fan-out to three queues) against postroom
   with its default archive (every publish archived) and with ``--default-archive-days 0``,
   alternately, ``--rounds`` times each; the table gives the ratio per round and the median.
2. **Replay rate**: ``--replay-n`` messages published to a FIFO topic with an ArchivePolicy,
   then a subscription made with a ReplayPolicy covering them all; the rate is what the
   replay record reports (messages delivered ÷ time from its first claim to its end).
3. **Audit over a large archive**: ``--audit-n`` archived messages written straight through
   the store API (no HTTP, so a million takes minutes, not hours), folded by the retention
   sweep as a running server would, then a server started on that data and
   ``GET /_postroom/audit`` timed (best of three).

    .venv/bin/python bench/archive.py                       # all three, defaults
    .venv/bin/python bench/archive.py --parts replay --replay-n 20000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from run import DEFAULT_SQSBENCH, free_port, pinned  # noqa: E402

KW = dict(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


class Server:
    def __init__(self, *extra: str, data: Path | None = None, core: int | None = 0) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.data = data or Path(tempfile.mkdtemp(prefix="bench-archive-"))
        cmd, preexec = pinned([sys.executable, "-m", "postroom", "serve", "--port", str(self.port), "--data-dir",
                               str(self.data), "--log-level", "warning", *extra], core)
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=preexec)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(self.endpoint + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def w5(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    out = subprocess.run([sys.executable, str(DEFAULT_SQSBENCH), "--endpoint", server.endpoint, "--workloads", "w5",
                          "--n", str(args.w5_n), "-c", "16", "--max-seconds", "20", "--server-pid",
                          str(server.proc.pid), "--pin-cpu", "1", "--protocol", "json"],
                         capture_output=True, text=True, timeout=300)
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return lines[-1]


def archiving_cost(args: argparse.Namespace) -> None:
    print("## archiving's cost on W5 (SNS fan-out to 3 queues), SQLite")
    print("| round | archived msgs/s | not archived msgs/s | ratio | archived CPU µs/publish | "
          "not archived CPU µs/publish |")
    print("|---|---|---|---|---|---|")
    ratios = []
    for r in range(args.rounds):
        results = {}
        for label, extra in (("archived", ()), ("plain", ("--default-archive-days", "0"))):
            server = Server(*extra)
            try:
                results[label] = w5(server, args)
            finally:
                server.stop()
        a, p = results["archived"], results["plain"]
        ratio = a["delivered_msgs_per_s"] / p["delivered_msgs_per_s"]
        ratios.append(ratio)
        print(f"| {r + 1} | {a['delivered_msgs_per_s']:,.0f} | {p['delivered_msgs_per_s']:,.0f} | {ratio:.2f}× | "
              f"{a.get('server_cpu_us_per_msg', 0):,.0f} | {p.get('server_cpu_us_per_msg', 0):,.0f} |")
    print(f"\nmedian archived/plain throughput: {statistics.median(ratios):.2f}×\n")


def replay_rate(args: argparse.Namespace) -> None:
    print("## replay rate into one FIFO queue (raw delivery)")
    for label, extra in (("sqlite", ()),) + ((("postgres", ("--store", args.pg)),) if args.pg else ()):
        server = Server(*extra)
        try:
            sns = boto3.client("sns", endpoint_url=server.endpoint, **KW)
            sqs = boto3.client("sqs", endpoint_url=server.endpoint, **KW)
            topic = sns.create_topic(Name="replay.fifo", Attributes={
                "FifoTopic": "true", "ContentBasedDeduplication": "true",
                "ArchivePolicy": json.dumps({"MessageRetentionPeriod": "7"})})["TopicArn"]
            start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))
            for b in range(0, args.replay_n, 10):
                sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
                    {"Id": str(i), "Message": f"{i % 100}:{i}", "MessageGroupId": f"g{i % 100}"}
                    for i in range(b, min(b + 10, args.replay_n))])
            url = sqs.create_queue(QueueName="target.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True,
                                Attributes={"RawMessageDelivery": "true", "ReplayPolicy": json.dumps(
                                    {"PointType": "Timestamp", "StartingPoint": start})})["SubscriptionArn"]
            while sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["ReplayStatus"] != "Completed":
                time.sleep(0.2)
            (replay,) = requests.get(server.endpoint + "/_postroom/replays", params={"arn": sub},
                                     timeout=10).json()["replays"]
            claimed = replay["created_ms"] + 1_000  # picked up a second after it is asked for
            seconds = (replay["updated_ms"] - claimed) / 1000
            count = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
                "Attributes"]["ApproximateNumberOfMessages"]
            print(f"- {label}: {replay['delivered']:,} messages in {seconds:.2f} s = "
                  f"{replay['delivered'] / seconds:,.0f} msgs/s (queue holds {count})")
        finally:
            server.stop()
    print()


async def fill(data: Path, n: int) -> None:
    from postroom.core.model import ResourceKey
    from postroom.core.sns.archive import ArchiveRecord
    from postroom.core.sns.model import PublishPlan, PublishWriteSet, Subscription
    from postroom.store.sqlite.store import SqliteStore

    store = SqliteStore(data / "postroom.db", "relaxed")
    now = int(time.time() * 1000)
    topics = []
    for t in range(10):
        topic, _ = await store.create_topic(ResourceKey("000000000000", "us-east-1", f"t{t}"), {}, {}, now)
        for s in range(3):
            await store.subscribe(topic, Subscription(f"s{t}-{s}", topic.arn, "000000000000", "sqs",
                                                      f"arn:aws:sqs:us-east-1:000000000000:q{s}", {}, True), now)
        await store.unsubscribe(f"{topic.arn}:s{t}-2", now - 3_600_000)
        topics.append(topic)
    body = "x" * 200
    per_batch = 500
    for b in range(0, n, per_batch):
        topic = topics[(b // per_batch) % len(topics)]
        subset = await store.subscriptions_of(topic)
        at = now - 3_600_000 + b * 3_600_000 // n
        plans = [PublishPlan(f"m{b + i}", filtered_out=[f"{topic.arn}:s{topic.name[1:]}-1"], archive=ArchiveRecord(
            f"m{b + i}", at, body, None, None, None, None, None, 7, 7)) for i in range(per_batch)]
        await store.publish(PublishWriteSet(topic, subset.version, True, plans), at, 300_000)
        if b % 50_000 == 0:
            await store.expire(now)
    await store.expire(now)
    await store.close()


def audit_time(args: argparse.Namespace) -> None:
    print(f"## audit over {args.audit_n:,} archived messages (10 topics, SQLite)")
    data = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    t0 = time.monotonic()
    asyncio.run(fill(data, args.audit_n))
    print(f"- filled in {time.monotonic() - t0:.0f} s")
    server = Server(data=data)
    try:
        times = []
        for _ in range(3):
            t0 = time.monotonic()
            r = requests.get(server.endpoint + "/_postroom/audit", timeout=120)
            times.append(time.monotonic() - t0)
            assert r.status_code == 200, r.text
        report = r.json()
        stats = requests.get(server.endpoint + "/_postroom/archive", timeout=120).json()["topics"]
        archived = sum(t["messages"] for t in stats)
        print(f"- {archived:,} archived, {len(report['findings'])} findings; audit answered in "
              f"{min(times):.2f} s (best of 3; all: {', '.join(f'{x:.2f}' for x in times)})")
    finally:
        server.stop()
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="cost,replay,audit")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--w5-n", type=int, default=5000)
    ap.add_argument("--replay-n", type=int, default=20000)
    ap.add_argument("--audit-n", type=int, default=1_000_000)
    ap.add_argument("--pg", default=os.environ.get("POSTROOM_BENCH_PG", ""),
                    help="postgresql://… (with ?schema=) to measure the replay rate there too")
    args = ap.parse_args()
    parts = args.parts.split(",")
    if "cost" in parts:
        archiving_cost(args)
    if "replay" in parts:
        replay_rate(args)
    if "audit" in parts:
        audit_time(args)


if __name__ == "__main__":
    main()
