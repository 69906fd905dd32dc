"""Archive, replay, unrouted capture, audit and metrics (issue #12), black box: real
postroom servers on both stores, boto3, the operator CLI in a subprocess, and postroom's
own HTTP API."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.api.conftest import REPO, Server, make_client
from tests.pg import require_pg
from tests.sns.conftest import STORES, StoreSpec, _shutdown, make_sns


@pytest.fixture(scope="module", params=STORES)
def store(request: pytest.FixtureRequest) -> Iterator[StoreSpec]:
    spec = StoreSpec(request.param)
    if spec.kind == "postgres":
        require_pg()
    yield spec
    spec.cleanup()


@pytest.fixture(scope="module")
def server(store: StoreSpec) -> Iterator[Server]:
    srv = store.make()
    srv.start()
    yield srv
    _shutdown(srv)


@pytest.fixture(scope="module")
def sns(server: Server) -> Any:
    return make_sns(server.endpoint)


@pytest.fixture(scope="module")
def sqs(server: Server) -> Any:
    return make_client(server.endpoint)


def admin(server: Server, path: str, **params: Any) -> Any:
    r = requests.get(server.endpoint + path, params=params, timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def cli(server: Server, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``postroom <args> --server <endpoint>`` as a user runs it."""
    return subprocess.run([sys.executable, "-m", "postroom", *args, "--server", server.endpoint], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def replay_policy(start_ms: int, end_ms: int | None = None) -> str:
    doc = {"PointType": "Timestamp", "StartingPoint": iso(start_ms)}
    if end_ms is not None:
        doc["EndingPoint"] = iso(end_ms)
    return json.dumps(doc)


def wait_replay_done(sns: Any, sub_arn: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"].get("ReplayStatus", "")
        if status in ("Completed", "Failed"):
            return str(status)
        time.sleep(0.2)
    raise AssertionError(f"replay of {sub_arn} not done after {timeout} s (ReplayStatus {status!r})")


def drain(sqs: Any, url: str, idle_polls: int = 2) -> list[dict[str, Any]]:
    """Receive and delete everything in the queue, in receive order."""
    out: list[dict[str, Any]] = []
    idle = 0
    while idle < idle_polls:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                   AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        if not msgs:
            idle += 1
            continue
        idle = 0
        out.extend(msgs)
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
    return out
