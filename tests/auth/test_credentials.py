"""The credentials file and its command line: ``postroom credentials add|list|revoke``, changes
picked up by a running server, keys from the environment, a server without credentials (which
says loudly that it accepts anything), and postroom's own client tools through the standard
AWS credential chain."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

from tests.api.conftest import REPO, Server, _shutdown
from tests.auth.conftest import ACCOUNT, GOOD, AuthServer, client, launch, server_log


def postroom(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "postroom", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def exported(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"^export (\w+)=(\S+)$", stdout, re.M))


@pytest.fixture
def fresh_auth_server() -> Iterator[AuthServer]:
    srv = launch()
    yield srv
    _shutdown(srv)


def test_add_list_revoke(tmp_path: Path) -> None:
    path = tmp_path / "creds.yaml"
    r = postroom("credentials", "add", "--file", str(path), "--account-id", "123456789012",
                 "--allow", "sqs:Send*,sns:Publish", "--description", "checkout")
    assert r.returncode == 0, r.stderr
    keys = exported(r.stdout)
    assert set(keys) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert re.fullmatch(r"PRK[A-Z2-7]{17}", keys["AWS_ACCESS_KEY_ID"])
    assert len(keys["AWS_SECRET_ACCESS_KEY"]) == 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    listed = postroom("credentials", "list", "--file", str(path))
    assert listed.returncode == 0 and keys["AWS_ACCESS_KEY_ID"] in listed.stdout
    assert "123456789012" in listed.stdout and "sqs:Send*,sns:Publish" in listed.stdout
    assert keys["AWS_SECRET_ACCESS_KEY"] not in listed.stdout + listed.stderr, "list never shows secrets"
    assert postroom("credentials", "add", "--file", str(path), "--account-id", "12").returncode != 0
    r = postroom("credentials", "revoke", "--file", str(path), keys["AWS_ACCESS_KEY_ID"])
    assert r.returncode == 0, r.stderr
    assert keys["AWS_ACCESS_KEY_ID"] not in postroom("credentials", "list", "--file", str(path)).stdout
    r = postroom("credentials", "revoke", "--file", str(path), keys["AWS_ACCESS_KEY_ID"])
    assert r.returncode != 0 and "no key" in r.stderr


def test_a_running_server_picks_up_added_and_revoked_keys(fresh_auth_server: AuthServer) -> None:
    srv = fresh_auth_server
    r = postroom("credentials", "add", "--file", str(srv.credentials), "--account-id", "222233334444")
    assert r.returncode == 0, r.stderr
    keys = exported(r.stdout)
    new = (keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"])
    deadline = time.monotonic() + 5
    while True:
        try:
            assert client(srv, "sts", key=new).get_caller_identity()["Account"] == "222233334444"
            break
        except ClientError:
            assert time.monotonic() < deadline, "an added key works within a second or so"
            time.sleep(0.2)
    assert client(srv, "sts").get_caller_identity()["Account"] == ACCOUNT, "the other keys are still there"
    assert postroom("credentials", "revoke", "--file", str(srv.credentials), new[0]).returncode == 0
    deadline = time.monotonic() + 5
    while True:
        try:
            client(srv, "sts", key=new).get_caller_identity()
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "InvalidClientTokenId"
            break
        assert time.monotonic() < deadline, "a revoked key is refused within a second or so"
        time.sleep(0.2)
    # a broken edit keeps the last good keys in force
    srv.credentials.write_text("keys: [not, a, mapping]\n")
    time.sleep(1.3)
    assert client(srv, "sts").get_caller_identity()["Account"] == ACCOUNT
    assert "cannot be used" in server_log(srv)


def test_an_invalid_credentials_file_stops_the_start(tmp_path: Path) -> None:
    bad = tmp_path / "creds.yaml"
    bad.write_text("keys:\n  K123:\n    account_id: '1'\n")
    r = postroom("serve", "--data-dir", str(tmp_path / "data"), "--port", "1", "--credentials", str(bad))
    assert r.returncode != 0
    assert "secret_access_key must be a non-empty string" in r.stderr


def test_without_credentials_anything_goes_and_the_server_says_so() -> None:
    srv = launch(credentials_text=None)
    try:
        assert requests.get(srv.endpoint + "/health", timeout=10).json() == {"status": "ok", "auth": "off"}
        assert "AUTHENTICATION IS OFF" in server_log(srv)
        assert client(srv, "sqs", key=("anything", "at all")).list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert client(srv, "sts", key=("123456789012", "x")).get_caller_identity()["Account"] == "123456789012"
    finally:
        _shutdown(srv)


def test_a_key_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POSTROOM_ACCESS_KEY_ID", "ENVKEY0000000000000")
    monkeypatch.setenv("POSTROOM_SECRET_ACCESS_KEY", "env-secret")
    srv = Server(tmp_path / "data", ("--account-id", "999988887777"))
    srv.start()
    try:
        assert requests.get(srv.endpoint + "/health", timeout=10).json()["auth"] == "sigv4"
        sts = client(srv, "sts", key=("ENVKEY0000000000000", "env-secret"))
        assert sts.get_caller_identity()["Account"] == "999988887777"
        with pytest.raises(ClientError) as exc:
            client(srv, "sts", key=GOOD).get_caller_identity()
        assert exc.value.response["Error"]["Code"] == "InvalidClientTokenId"
    finally:
        _shutdown(srv)


def test_client_tools_use_the_standard_credential_chain(auth_server: AuthServer, tmp_path: Path) -> None:
    """``postroom plan/apply/verify`` against an authenticated server: credentials from the
    environment, as for any AWS tool; with a wrong secret they fail with AWS's error."""
    p = f"auth{uuid.uuid4().hex[:8]}"
    spec = tmp_path / "postroom.yaml"
    spec.write_text(f"""version: 1
environments:
  test:
    scope: ["{p}-*"]
queues:
  {p}-billing-dlq: {{}}
  {p}-billing:
    dlq: {p}-billing-dlq
    max_receive_count: 5
topics:
  {p}-orders: {{}}
subscriptions:
  - topic: {p}-orders
    queue: {p}-billing
    raw: true
checks:
  - {{check: QUEUE-POLICY, resource: "*", severity: "off", reason: "not what this test is about"}}
""")
    env = {"AWS_ACCESS_KEY_ID": GOOD[0], "AWS_SECRET_ACCESS_KEY": GOOD[1], "AWS_DEFAULT_REGION": "us-east-1",
           "POSTROOM_ENDPOINT_URL": auth_server.endpoint, "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "NO_COLOR": "1"}
    plan = tmp_path / "plan.json"
    r = postroom("plan", "-f", str(spec), "--env", "test", "-o", str(plan), "--author", "dana", env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    r = postroom("apply", str(plan), "--by", "dana", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    r = postroom("verify", "-f", str(spec), "--env", "test", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert client(auth_server, "sqs").get_queue_url(QueueName=f"{p}-billing")["QueueUrl"].endswith(
        f"/{ACCOUNT}/{p}-billing")
    r = postroom("verify", "-f", str(spec), "--env", "test", env={**env, "AWS_SECRET_ACCESS_KEY": "wrong"})
    assert r.returncode != 0
    assert "SignatureDoesNotMatch" in r.stdout + r.stderr
