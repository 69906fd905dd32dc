"""Fixtures and helpers for the topology tests: real endpoints (postroom and moto's server, from
tests/endpoints.py), the CLI run as users run it (a subprocess) or in-process with click's
CliRunner where that is faster, and unique names so tests sharing a module-scoped server never
see each other's resources (each test plans with its own ``scope``)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from postroom.awsclient import AwsTarget
from tests.endpoints import Endpoint, endpoint, moto_endpoint, postroom_endpoint  # noqa: F401

_counter = itertools.count()


def unique_prefix() -> str:
    """A name prefix no other test uses: ``t<n><random>-``."""
    return f"t{next(_counter)}{uuid.uuid4().hex[:6]}-"


def target(ep: Endpoint) -> AwsTarget:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "x")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "x")
    return AwsTarget(endpoint_url=ep.url, region="us-east-1")


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_cli(ep: Endpoint, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
    """``postroom ARGS`` in a subprocess against ``ep``, as a user runs it."""
    full_env = {**ep.cli_env(), "NO_COLOR": "1", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "postroom", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=120)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def invoke(ep: Endpoint, *args: str, env: dict[str, str] | None = None) -> CliResult:
    """``postroom ARGS`` in-process (click's CliRunner): the same code path minus interpreter start-up."""
    from postroom.cli.main import main

    full_env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
                "POSTROOM_ENDPOINT_URL": ep.url, **(env or {})}
    result = CliRunner().invoke(main, list(args), env=full_env, catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)


def queue_arn(sqs: Any, name: str) -> str:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def topic_arn(sns: Any, name: str) -> str:
    for page in sns.get_paginator("list_topics").paginate():
        for t in page["Topics"]:
            if t["TopicArn"].rsplit(":", 1)[-1] == name:
                return str(t["TopicArn"])
    raise KeyError(name)


@pytest.fixture
def prefix() -> str:
    return unique_prefix()
