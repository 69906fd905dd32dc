"""Fixtures for the recovery tests: real postroom and moto endpoints, and running the CLI as users do."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.endpoints import Endpoint, endpoint, moto_endpoint, postroom_endpoint  # noqa: F401

POSTROOM = [sys.executable, "-m", "postroom"]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def recover(ep: Endpoint, *args: str, cwd: Path, timeout: float = 120) -> Run:
    """``postroom recover …`` in a subprocess against the endpoint (as a user runs it)."""
    proc = subprocess.run([*POSTROOM, "recover", *args], cwd=cwd, env=ep.cli_env(), capture_output=True, text=True,
                          timeout=timeout)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def drain(sqs: Any, url: str, expect: int, *, wait: int = 1, max_empty: int = 3) -> list[dict[str, Any]]:
    """Receive and delete until ``expect`` messages came or the queue stays empty; one receiver, so
    the arrival order is the queue's order."""
    out: list[dict[str, Any]] = []
    empty = 0
    while len(out) < expect + 10 and empty < max_empty:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait,
                                  MessageAttributeNames=["All"], AttributeNames=["All"]).get("Messages", [])
        if not got:
            empty += 1
            if len(out) >= expect:
                break
            continue
        empty = 0
        out.extend(got)
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(got)])
    return out


def attr(message: dict[str, Any], name: str) -> str | None:
    value = message.get("MessageAttributes", {}).get(name)
    return None if value is None else str(value["StringValue"])


def read_rejects(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]
