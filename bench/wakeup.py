"""Cross-node long-poll wake-up latency (issue #3): a receive long-polls on node B while a
send goes to node A; the figure is send-start → receive-returned, over many rounds.

    .venv/bin/python bench/wakeup.py --a http://127.0.0.1:9701 --b http://127.0.0.1:9702
    .venv/bin/python bench/wakeup.py --start-nodes   # starts two nodes on a fresh PostgreSQL schema

With --start-nodes it starts both nodes itself (``--dsn``, default the local PostgreSQL)
and removes the schema afterwards. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from typing import Any

import boto3
from botocore.config import Config


def client(endpoint: str) -> Any:
    return boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x", config=Config(retries={"max_attempts": 1}))


def measure(a: str, b: str, rounds: int) -> dict[str, Any]:
    ca, cb = client(a), client(b)
    url = ca.create_queue(QueueName="wakeup-" + uuid.uuid4().hex[:8])["QueueUrl"]
    lat: list[float] = []
    for _ in range(rounds):
        out: dict[str, Any] = {}
        ready = threading.Event()

        def wait(out: dict[str, Any] = out, ready: threading.Event = ready) -> None:
            ready.set()
            r = cb.receive_message(QueueUrl=url, WaitTimeSeconds=5)
            out["t"] = time.perf_counter()
            out["m"] = r.get("Messages", [])

        t = threading.Thread(target=wait)
        t.start()
        ready.wait()
        time.sleep(0.05)  # let the receive reach the server and start waiting
        t0 = time.perf_counter()
        ca.send_message(QueueUrl=url, MessageBody="x")
        t.join()
        if out["m"]:
            lat.append(out["t"] - t0)
            cb.delete_message(QueueUrl=url, ReceiptHandle=out["m"][0]["ReceiptHandle"])
    ca.delete_queue(QueueUrl=url)
    lat.sort()
    return {"workload": "cross_node_wakeup", "rounds": rounds, "woken": len(lat),
            "p50_ms": round(statistics.median(lat) * 1000, 2),
            "p99_ms": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000, 2),
            "max_ms": round(lat[-1] * 1000, 2)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_node(store: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "postroom", "serve", "--port", str(port), "--store", store,
                             "--log-level", "warning"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("node did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a")
    ap.add_argument("--b")
    ap.add_argument("--start-nodes", action="store_true")
    ap.add_argument("--dsn", default=os.environ.get("POSTROOM_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args()
    procs: list[subprocess.Popen[bytes]] = []
    schema = "wakeup_" + uuid.uuid4().hex[:8]
    try:
        if args.start_nodes:
            store = f"{args.dsn}{'&' if '?' in args.dsn else '?'}schema={schema}"
            ports = [free_port(), free_port()]
            procs = [start_node(store, p) for p in ports]
            args.a, args.b = (f"http://127.0.0.1:{p}" for p in ports)
        print(json.dumps(measure(args.a, args.b, args.rounds)))
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=20)
        if args.start_nodes:
            subprocess.run(["psql", args.dsn, "-qc", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'],
                           capture_output=True)


if __name__ == "__main__":
    main()
