"""Black-box tests of accounts and resource policies: one real postroom process, two (or three)
accounts named by 12-digit access key ids (moto's and LocalStack's convention, which postroom
follows: such a key *is* its account)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from tests.api.conftest import EXTERNAL, REGION, Server, _launch, _shutdown

OWNER = "111111111111"
OTHER = "222222222222"
THIRD = "333333333333"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    if EXTERNAL:
        pytest.skip("needs postroom's own accounts (12-digit access keys); not run against POSTROOM_TEST_ENDPOINT")
    srv = _launch()
    yield srv
    _shutdown(srv)


def client(server: Server, service: str, account: str) -> Any:
    return boto3.session.Session().client(
        service, endpoint_url=server.endpoint, region_name=REGION, aws_access_key_id=account,
        aws_secret_access_key="x", config=Config(retries={"max_attempts": 1}, read_timeout=30, connect_timeout=5))


class Account:
    def __init__(self, server: Server, account: str) -> None:
        self.id = account
        self.sqs = client(server, "sqs", account)
        self.sns = client(server, "sns", account)


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return Account(server, OWNER)


@pytest.fixture(scope="module")
def other(server: Server) -> Account:
    return Account(server, OTHER)


@pytest.fixture(scope="module")
def third(server: Server) -> Account:
    return Account(server, THIRD)


def query(server: Server, account: str, service: str, params: dict[str, str]) -> requests.Response:
    """A raw query-protocol request signed (in form only) by ``account``'s access key."""
    auth = (f"AWS4-HMAC-SHA256 Credential={account}/20250101/{REGION}/{service}/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, Signature=" + "0" * 64)
    return requests.post(server.endpoint + "/", data=params, headers={"Authorization": auth}, timeout=10)


def accounting(server: Server) -> dict[str, Any]:
    r = requests.get(server.endpoint + "/_postroom/accounting", timeout=10)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def sub_counts(server: Server, sub_arn: str) -> dict[str, int]:
    return dict(accounting(server).get("subscriptions", {}).get(sub_arn, {}))
