"""The AWS CLI (v1, pinned in the dev extras; it vendors its own botocore) against a server with
a credentials file: credentials from the environment, as users set them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.auth.conftest import ACCOUNT, GOOD, AuthServer


def aws(server: AuthServer, *args: str, secret: str = GOOD[1]) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "aws"
    if not exe.exists():
        found = shutil.which("aws")
        if found is None:
            pytest.skip("the AWS CLI is not installed (pip install -e '.[dev]' installs it)")
        exe = Path(found)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": GOOD[0], "AWS_SECRET_ACCESS_KEY": secret,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PAGER": ""}
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    return subprocess.run([str(exe), "--endpoint-url", server.endpoint, "--output", "json", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_aws_cli_good_credentials(auth_server: AuthServer) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    r = aws(auth_server, "sqs", "create-queue", "--queue-name", name)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["QueueUrl"].endswith(f"/{ACCOUNT}/{name}")
    r = aws(auth_server, "sns", "create-topic", "--name", name)
    assert r.returncode == 0, r.stderr
    r = aws(auth_server, "sts", "get-caller-identity")
    assert r.returncode == 0 and json.loads(r.stdout)["Account"] == ACCOUNT, r.stderr


@pytest.mark.parametrize("service_args", [("sqs", "list-queues"), ("sns", "list-topics"),
                                          ("sts", "get-caller-identity")], ids=["sqs", "sns", "sts"])
def test_aws_cli_wrong_secret(auth_server: AuthServer, service_args: tuple[str, ...]) -> None:
    r = aws(auth_server, *service_args, secret="wrong")
    assert r.returncode != 0
    assert "(SignatureDoesNotMatch)" in r.stderr, r.stderr
