"""Hostile input and faults (issue #15): a real server process per module, spoken to over raw
HTTP, so that requests no SDK would send can be sent."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from tests.api.conftest import EXTERNAL, FAKE_AUTH, REGION, Server, _launch, _shutdown, make_client

JSON_TYPE = "application/x-amz-json-1.0"
FORM_TYPE = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    if EXTERNAL:
        pytest.skip("hostile-input tests start their own server")
    srv = _launch()
    yield srv
    _shutdown(srv)


@pytest.fixture(scope="module")
def sqs(server: Server) -> Any:
    return make_client(server.endpoint)


@pytest.fixture(scope="module")
def sns(server: Server) -> Any:
    return boto3.session.Session().client(
        "sns", endpoint_url=server.endpoint, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}))


def unique(prefix: str = "h") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def post_json(server: Server, action: str, body: bytes | str | dict[str, Any], **headers: str) -> requests.Response:
    """An SQS JSON request, the body sent exactly as given (a dict is dumped, escapes kept)."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body.encode() if isinstance(body, str) else body
    return requests.post(server.endpoint + "/", data=data, timeout=30, headers={
        "Content-Type": JSON_TYPE, "X-Amz-Target": f"AmazonSQS.{action}",
        "Authorization": FAKE_AUTH.format(region=REGION), **headers})


def post_form(server: Server, body: bytes | str, service: str = "sqs", **headers: str) -> requests.Response:
    data = body.encode() if isinstance(body, str) else body
    auth = FAKE_AUTH.format(region=REGION).replace("/sqs/", f"/{service}/")
    return requests.post(server.endpoint + "/", data=data, timeout=30, headers={
        "Content-Type": FORM_TYPE, "Authorization": auth, **headers})


def error_type(r: requests.Response) -> str:
    return str(r.json()["__type"]).rpartition("#")[2]
