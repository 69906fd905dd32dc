"""SigV4 verification, black-box: real postroom processes started with ``--credentials FILE``
(and one without), spoken to by boto3, the AWS CLI, the AWS SDK for JavaScript and raw HTTP.

The credentials file holds:

- ``GOOD`` (account 111122223333): the everyday key;
- ``TEMP`` with a session token (account 111122223333);
- ``444455556666``: a 12-digit key id that the file maps to account 777788889999 (with a
  credentials file, the file decides, not the key id's digits);
- ``LIMITED`` (account 111122223333) allowed only ``sqs:List*``, ``sqs:GetQueueUrl``, ``sns:ListTopics``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.api.conftest import Server, _shutdown

REGION = "us-east-1"
ACCOUNT = "111122223333"
GOOD = ("GOODKEY1234567890ABC", "good/secret+key=with/odd chars")
TEMP = ("TEMPKEY1234567890ABC", "temp-secret", "FwoGZXIvYXdzEJr//session+token/==")
MAPPED = ("444455556666", "mapped-secret")
MAPPED_ACCOUNT = "777788889999"
LIMITED = ("LIMITEDKEY1234567890", "limited-secret")

CREDENTIALS_YAML = f"""
keys:
  {GOOD[0]}:
    secret_access_key: "{GOOD[1]}"
    account_id: "{ACCOUNT}"
    description: the everyday key
  {TEMP[0]}:
    secret_access_key: {TEMP[1]}
    account_id: "{ACCOUNT}"
    session_token: "{TEMP[2]}"
  "{MAPPED[0]}":
    secret_access_key: {MAPPED[1]}
    account_id: "{MAPPED_ACCOUNT}"
  {LIMITED[0]}:
    secret_access_key: {LIMITED[1]}
    account_id: "{ACCOUNT}"
    allow: ["sqs:List*", "sqs:GetQueueUrl", "sns:ListTopics"]
"""


class AuthServer(Server):
    credentials: Path


def launch(extra: tuple[str, ...] = (), credentials_text: str | None = CREDENTIALS_YAML) -> AuthServer:
    root = Path(tempfile.mkdtemp(prefix="postroom-auth-"))
    args = extra
    creds = root / "credentials.yaml"
    if credentials_text is not None:
        creds.write_text(credentials_text)
        args = ("--credentials", str(creds), *extra)
    srv = AuthServer(root / "data", args)
    srv.credentials = creds
    srv.start()
    return srv


@pytest.fixture(scope="session")
def auth_server() -> Iterator[AuthServer]:
    srv = launch()
    yield srv
    _shutdown(srv)


def client(server: Server, service: str, key: tuple[str, ...] = GOOD, region: str = REGION,
           token: str | None = None, **config: Any) -> Any:
    return boto3.session.Session().client(
        service, endpoint_url=server.endpoint, region_name=region, aws_access_key_id=key[0],
        aws_secret_access_key=key[1], aws_session_token=token,
        config=Config(retries={"max_attempts": 1}, read_timeout=60, connect_timeout=5, **config))


def server_log(server: Server) -> str:
    assert server.data_dir is not None
    return (server.data_dir.parent / f"server-{server.port}.log").read_text(errors="replace")
