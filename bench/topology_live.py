"""Benchmark: how long `read_live` takes for a topology of N
queues, N/4 topics and N subscriptions, against postroom and moto's server side by side, with the
sequential baseline (one call after another on one thread) for the same calls.

    .venv/bin/python bench/topology_live.py --n 60 --repeat 5
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "x")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "x")

from tests.endpoints import Endpoint, MotoServer, _start_postroom, _stop_postroom

from postroom.awsclient import AwsTarget
from postroom.topology import live as live_mod


def build(ep: Endpoint, n: int) -> None:
    sqs, sns = ep.client("sqs"), ep.client("sns")
    arns = []
    for i in range(n):
        url = sqs.create_queue(QueueName=f"bq{i}")["QueueUrl"]
        arns.append(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
    topics = [sns.create_topic(Name=f"bt{j}")["TopicArn"] for j in range(max(1, n // 4))]
    for i, arn in enumerate(arns):
        sns.subscribe(TopicArn=topics[i % len(topics)], Protocol="sqs", Endpoint=arn)


def measure(ep: Endpoint, repeat: int, workers: int) -> float:
    live_mod.WORKERS = workers
    live_mod._clients.clear()
    aws = AwsTarget(endpoint_url=ep.url, region="us-east-1")
    live_mod.read_live(aws)  # warm: clients built once per process
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        live_mod.read_live(aws)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rows = []
    srv = _start_postroom()
    moto = MotoServer()
    try:
        for ep in (Endpoint("postroom", srv.endpoint), Endpoint("moto", moto.url)):
            build(ep, args.n)
            rows.append((ep.name, measure(ep, args.repeat, 16), measure(ep, args.repeat, 1)))
    finally:
        _stop_postroom(srv)
        moto.stop()
    resources = args.n + max(1, args.n // 4) + args.n
    print(f"read_live of {resources} resources ({args.n} queues, {max(1, args.n // 4)} topics, {args.n} subscriptions),"
          f" median of {args.repeat}")
    print("| endpoint | 16 threads (s) | 1 thread (s) | speed-up |")
    print("| --- | --- | --- | --- |")
    for name, par, seq in rows:
        print(f"| {name} | {par:.3f} | {seq:.3f} | {seq / par:.1f}x |")
    print(f"postroom/moto ratio (16 threads): {rows[1][1] / rows[0][1]:.1f}x faster on postroom")


if __name__ == "__main__":
    main()
