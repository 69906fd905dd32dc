"""Fixtures for postroom.consumer: real postroom (and moto) servers over HTTP, real databases.

The endpoints are those of tests/endpoints.py, with the same names, but package-scoped: every test
module here makes its own uniquely named queues and topics, so one postroom server and one moto
server serve the whole package instead of one (or three) per module — about 20 s of starts and stops
saved on a loaded machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.endpoints import REPO, Endpoint, MotoServer, _start_postroom, _stop_postroom

__all__ = ["REPO", "Endpoint", "consume_cli", "new_queue", "queue_counts", "receive_all", "wait_for"]


@pytest.fixture(scope="package")
def postroom_endpoint() -> Iterator[Endpoint]:
    srv = _start_postroom()
    yield Endpoint("postroom", srv.endpoint, srv)
    _stop_postroom(srv)


@pytest.fixture(scope="package")
def moto_endpoint() -> Iterator[Endpoint]:
    moto = MotoServer()
    yield Endpoint("moto", moto.url)
    moto.stop()


@pytest.fixture(scope="package", params=["postroom", "moto"])
def endpoint(request: pytest.FixtureRequest) -> Endpoint:
    """Parametrised over a real postroom server and moto's server."""
    ep: Endpoint = request.getfixturevalue(f"{request.param}_endpoint")
    return ep


def new_queue(sqs: Any, prefix: str, *, fifo: bool = False, **attributes: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}" + (".fifo" if fifo else "")
    attrs = dict(attributes)
    if fifo:
        attrs["FifoQueue"] = "true"
    return str(sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"])


def queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def queue_counts(sqs: Any, url: str) -> tuple[int, int]:
    """(ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible) — exact on postroom."""
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


def receive_all(sqs: Any, url: str, *, wait: int = 0, visibility: int = 60, rounds: int = 50) -> list[dict[str, Any]]:
    """Receive until an empty answer (each message stays invisible for ``visibility`` seconds)."""
    got: list[dict[str, Any]] = []
    for _ in range(rounds):
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait,
                                    VisibilityTimeout=visibility, MessageSystemAttributeNames=["All"],
                                    MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            break
        got.extend(batch)
    return got


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def consume_cli(ep: Endpoint, queue: str, handler: str, *args: str, env: dict[str, str] | None = None,
                log: Path | None = None) -> subprocess.Popen[bytes]:
    """``postroom consume`` in a subprocess, as a user runs it (cwd = repo, so tests.* handlers import)."""
    full_env = ep.cli_env()
    full_env.update(env or {})
    full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed by the OS with the process
    return subprocess.Popen([sys.executable, "-m", "postroom", "consume", queue, "--handler", handler, *args],
                            cwd=REPO, env=full_env, stdout=out, stderr=subprocess.STDOUT if log else out)
