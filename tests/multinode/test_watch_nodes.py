"""`postroom watch` against postroom on PostgreSQL with several nodes: watch speaks to node 0, reads
the delivery audit of node 1, and the incident's act — a subscription deleted by hand — is done
through node 2. The route goes down and the audit names the removed subscriber (bus-wide, read
from the store); restoring the subscription through node 1 clears both; the audit node going
away is one finding and the routes stay up."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3

from tests.multinode.conftest import Cluster
from tests.topology.watch_support import (
    INTERVAL,
    PROBE_TIMEOUT,
    SLACK,
    WORST_CASE,
    WatchProcess,
    make_live,
    spec,
    subscribe,
    unsubscribe,
    watch_env,
)

ROUTES = [("orders", "billing"), ("orders", "shipping")]


def _client(url: str, service: str) -> Any:
    return boto3.session.Session().client(service, endpoint_url=url, region_name="us-east-1",
                                          aws_access_key_id="x", aws_secret_access_key="x")


def test_watch_across_nodes_detects_the_hand_deleted_subscription_and_recovery(nodes: Cluster,
                                                                              tmp_path: Path) -> None:
    watched, audited, other = (n.endpoint for n in nodes.nodes)
    p = f"w{int(time.time() * 1000) % 10_000_000}-"
    make_live(_client(other, "sqs"), _client(other, "sns"), p, ROUTES)
    file = tmp_path / "postroom.yaml"
    file.write_text(spec(p, ROUTES))
    watch = WatchProcess(["-f", str(file), "--env", "test", "--interval", str(INTERVAL), "--probe-timeout",
                          str(PROBE_TIMEOUT), "--consume", f"{p}*", "--audit-url", audited, "--audit-window", "60"],
                         watch_env(watched))
    route = f"{p}orders → {p}shipping"
    try:
        watch.wait_for(f"UP route {route}", 30)
        watch.wait_for(f"UP route {p}orders → {p}billing", 30)
        assert watch.count("FIRING", after=0) == 0, "a healthy bus: nothing fires\n" + watch.text

        deleted = time.monotonic()
        unsubscribe(_client(other, "sns"), p + "orders", p + "shipping")
        detected = watch.wait_for(f"DOWN route {route}", 60, after=deleted) - deleted
        assert detected < WORST_CASE + SLACK, f"detected after {detected:.1f} s\n{watch.text}"
        watch.wait_for(f"FIRING DRIFT {route}", 10, after=deleted)
        watch.wait_for(f"FIRING SUBSCRIBER-REMOVED {route}", 30, after=deleted)

        restored = time.monotonic()
        subscribe(_client(audited, "sqs"), _client(audited, "sns"), p + "orders", p + "shipping")
        recovered = watch.wait_for(f"UP route {route}", 60, after=restored) - restored
        assert recovered < WORST_CASE + SLACK, f"recovered after {recovered:.1f} s\n{watch.text}"
        watch.wait_for(f"RESOLVED SUBSCRIBER-REMOVED {route}", 30, after=restored)
        watch.wait_for(f"RESOLVED DRIFT {route}", 30, after=restored)

        gone = time.monotonic()
        nodes.nodes[1].stop()  # the audit's node goes away; the watched node carries on
        watch.wait_for(f"FIRING AUDIT-UNREACHABLE {audited}", 30, after=gone)
        time.sleep(3 * INTERVAL)
        assert watch.count("DOWN route", after=gone) == 0, watch.text
        assert watch.count("ENDPOINT-UNREACHABLE") == 0, watch.text
    finally:
        rc = watch.stop()
    assert rc == 0, watch.text
