"""postroom.consumer against a plain boto3 receive/delete loop, on one FIFO queue of a postroom server.

The bench starts a postroom server (pinned to core 0 with taskset when there are two cores or more;
this process runs on the others), fills one FIFO queue with N messages over G message groups, and
drains it in turn with:

* **plain loop**: one thread, ``receive_message(MaxNumberOfMessages=10, WaitTimeSeconds=1)`` then
  ``delete_message_batch`` of what it got — the loop everyone writes first;
* **consumer c=1**: ``Consumer(concurrency=1)`` with a no-op handler (it only records what it saw);
* **consumer c=K**: the same with ``concurrency=K`` workers (across groups).

Every run is checked for equal correctness: each message handled exactly once, and within each group
in send order. Rates are messages handled per second of drain time. Each variant runs ``--rounds``
times, interleaved; each round's rates are divided by that round's plain-loop rate and the median of
those ratios is reported (the machine is shared and noisy: load swings between rounds, and within a
round the variants run back to back), with the best rate of each variant. A Markdown table goes to
stdout.

    .venv/bin/python bench/consumer.py                       # N=5000, G=50, K=8 and 16, 3 rounds
    .venv/bin/python bench/consumer.py --n 10000 --concurrency 4 --concurrency 32
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from postroom.consumer import Consumer, Hooks, Message  # noqa: E402


def cpu_seconds(pid: int) -> float:
    """User+system CPU time of a process (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, pin: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "postroom", "serve", "--port", str(port), "--data-dir", str(data_dir),
           "--log-level", "warning"]
    if pin and shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        cmd = ["taskset", "-c", "0", *cmd]
        os.sched_setaffinity(0, set(range(1, os.cpu_count() or 2)))
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("postroom did not start")


def sqs_client(url: str, pool: int = 32) -> Any:
    return boto3.session.Session().client(
        "sqs", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(max_pool_connections=pool, retries={"max_attempts": 3, "mode": "standard"}))


def fill(client: Any, queue_url: str, n: int, groups: int, run: int) -> None:
    """n messages, round-robin over groups; body "group:index" (index counts per group from 0)."""
    per_group: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        per_group[i % groups].append(i // groups)

    def send(gs: list[int]) -> None:
        entries: list[dict[str, str]] = []
        for g in gs:
            for idx in per_group[g]:
                entries.append({"Id": str(len(entries)), "MessageBody": f"g{g}:{idx}", "MessageGroupId": f"g{g}",
                                "MessageDeduplicationId": f"r{run}-g{g}-{idx}"})
                if len(entries) == 10:
                    assert not client.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed")
                    entries = []
        if entries:
            assert not client.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed")

    threads = [threading.Thread(target=send, args=(list(range(t, groups, 8)),)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


class Recorder:
    """What a drain saw, per group, to check exactly-once and order afterwards."""

    def __init__(self) -> None:
        self.seen: dict[str, list[int]] = defaultdict(list)
        self.lock = threading.Lock()

    def record(self, body: str) -> None:
        group, idx = body.split(":")
        with self.lock:
            self.seen[group].append(int(idx))

    def check(self, n: int, groups: int) -> str:
        total = sum(len(v) for v in self.seen.values())
        if total != n:
            return f"handled {total} of {n}"
        for g, idxs in self.seen.items():
            if idxs != list(range(len(idxs))):
                return f"group {g} out of order or duplicated"
        return "ok"


def plain_loop(client: Any, queue_url: str, n: int, rec: Recorder) -> float:
    started = time.perf_counter()
    done = 0
    while done < n:
        messages = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                          WaitTimeSeconds=1).get("Messages", [])
        if not messages:
            continue
        for m in messages:
            rec.record(m["Body"])
        client.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        done += len(messages)
    return time.perf_counter() - started


def consumer_run(client: Any, queue_url: str, n: int, rec: Recorder, concurrency: int) -> float:
    def handle(message: Message) -> None:
        rec.record(message.body)

    consumer = Consumer(queue_url, handle, client=client, concurrency=concurrency, wait_time=1,
                        visibility_timeout=30, hooks=Hooks())
    started = time.perf_counter()
    consumer.run(max_messages=n, install_signal_handlers=False)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--concurrency", type=int, action="append",
                        help="consumer concurrency (repeatable; default 8 and 16)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args()
    levels = args.concurrency or [8, 16]
    data_dir = Path(tempfile.mkdtemp(prefix="postroom-bench-consumer-"))
    proc, url = start_server(data_dir, pin=not args.no_pin)
    try:
        client = sqs_client(url)
        queue_url = client.create_queue(QueueName="bench-consumer.fifo", Attributes={
            "FifoQueue": "true", "VisibilityTimeout": "30"})["QueueUrl"]
        variants: list[tuple[str, Callable[[Recorder], float]]] = [
            ("plain loop (receive 10 / delete batch)", lambda r: plain_loop(client, queue_url, args.n, r)),
        ]
        for c in [1, *levels]:
            variants.append((f"consumer c={c}", lambda r, c=c: consumer_run(client, queue_url, args.n, r, c)))
        best: dict[str, float] = {}
        checks: dict[str, str] = {}
        ratios: dict[str, list[float]] = {}
        server_cpu: dict[str, float] = {}
        client_cpu: dict[str, float] = {}
        run = 0
        round_base = 1.0
        for _ in range(args.rounds):
            for name, drain in variants:
                run += 1
                fill(client, queue_url, args.n, args.groups, run)
                rec = Recorder()
                server0, client0 = cpu_seconds(proc.pid), own_cpu()
                seconds = drain(rec)
                server_us = (cpu_seconds(proc.pid) - server0) / args.n * 1e6
                client_us = (own_cpu() - client0) / args.n * 1e6
                rate = args.n / seconds
                verdict = rec.check(args.n, args.groups)
                checks[name] = verdict if checks.get(name, "ok") == "ok" else checks[name]
                if name == variants[0][0]:
                    round_base = rate
                ratios.setdefault(name, []).append(rate / round_base)
                if rate > best.get(name, 0.0):  # CPU figures of the best round
                    best[name], server_cpu[name], client_cpu[name] = rate, server_us, client_us
                print(f"  round: {name}: {rate:,.0f} msgs/s ({verdict}); CPU µs/msg server "
                      f"{server_us:.0f}, client {client_us:.0f}", file=sys.stderr)
        placement = "postroom unpinned" if args.no_pin else "postroom on core 0, clients on the other cores"
        print(f"\nFIFO queue, {args.n:,} messages over {args.groups} groups, {args.rounds} interleaved rounds "
              f"({placement}; shared machine, load average {os.getloadavg()[0]:.1f})\n")
        print("| drain | vs plain loop (median of rounds) | per round | best msgs/s | server CPU µs/msg | "
              "client CPU µs/msg | exactly once, in order |")
        print("|---|---|---|---|---|---|---|")
        for name, _ in variants:
            per_round = ", ".join(f"{r:.2f}" for r in ratios[name])
            print(f"| {name} | {statistics.median(ratios[name]):.2f}× | {per_round} | {best[name]:,.0f} | "
                  f"{server_cpu[name]:.0f} | {client_cpu[name]:.0f} | {checks[name]} |")
        return 0 if all(v == "ok" for v in checks.values()) else 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
