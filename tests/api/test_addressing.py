"""Queue URLs, regions and accounts: every address a client is handed says where the queue
lives, and is accepted back.

AWS: a queue URL is ``https://sqs.<region>.amazonaws.com/<account-id>/<queue-name>``; the same
name in two Regions gives two URLs (LocalStack's AWS-validated
``test_endpoint_strategy_with_multi_region`` asserts ``queue_region1 != queue_region2`` and that
the second Region appears in its URL). SDKs that send to the queue URL's own endpoint (the AWS
SDK for Ruby, the AWS SDK for JavaScript v3 without a custom endpoint) reach the URL's Region
whatever Region their client was made for. A request's account is its access key's; moto and
LocalStack map a 12-digit access key id to that account, which postroom does too.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from tests.api.conftest import NS, REGION, Query, Server, _launch, _shutdown, assert_error, unique

OTHER_REGION = "eu-north-1"
OTHER_ACCOUNT = "111122223333"


def client(server: Server, region: str = REGION, key: str = "x", service: str = "sqs") -> Any:
    return boto3.session.Session().client(
        service, endpoint_url=server.endpoint, region_name=region, aws_access_key_id=key,
        aws_secret_access_key="x", config=Config(retries={"max_attempts": 1}))


def _arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def test_same_name_in_two_regions_gives_two_urls_each_saying_its_region(server: Server) -> None:
    """Two regions, one name: two URLs; the one outside the server's region says its region
    (AWS's URLs always do; postroom's own region keeps the short ``/<account>/<name>`` form)."""
    name = unique("addr")
    home, away = client(server), client(server, OTHER_REGION)
    url_home = home.create_queue(QueueName=name)["QueueUrl"]
    url_away = away.create_queue(QueueName=name)["QueueUrl"]
    assert url_home != url_away
    assert OTHER_REGION in url_away
    assert url_home == f"{server.endpoint}/{server.account_id}/{name}"
    assert url_away == f"{server.endpoint}/queue/{OTHER_REGION}/{server.account_id}/{name}"
    assert away.get_queue_url(QueueName=name)["QueueUrl"] == url_away
    assert url_away in away.list_queues(QueueNamePrefix=name)["QueueUrls"]
    assert away.list_queues(QueueNamePrefix=name)["QueueUrls"] == [url_away]
    assert home.list_queues(QueueNamePrefix=name)["QueueUrls"] == [url_home]


def test_a_url_that_says_its_region_reaches_that_regions_queue(server: Server) -> None:
    """A client made for us-east-1 given the eu-north-1 queue's URL reaches the eu-north-1 queue,
    as the SDKs that send to the queue URL's endpoint do on AWS; the home-region queue of the same
    name is untouched."""
    name = unique("addr-x")
    home, away = client(server), client(server, OTHER_REGION)
    url_home = home.create_queue(QueueName=name)["QueueUrl"]
    url_away = away.create_queue(QueueName=name)["QueueUrl"]
    home.send_message(QueueUrl=url_away, MessageBody="via the away URL")
    assert _arn(home, url_away) == f"arn:aws:sqs:{OTHER_REGION}:{server.account_id}:{name}"
    got = away.receive_message(QueueUrl=url_away, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in got] == ["via the away URL"]
    assert home.receive_message(QueueUrl=url_home, WaitTimeSeconds=0).get("Messages", []) == []


def test_aws_style_host_is_kept_in_urls_and_names_the_region(server: Server) -> None:
    """A client that reaches postroom as ``sqs.<region>.<domain>`` (a hosts entry, or DNS) gets
    URLs of AWS's own form on that host, and such a URL names its region when used."""
    name = unique("addr-h")
    away = client(server, OTHER_REGION)
    away.create_queue(QueueName=name)
    host = f"sqs.{OTHER_REGION}.postroom.test:{server.port}"
    q = Query(server.endpoint)
    q.http.headers["Host"] = host
    r = q("GetQueueUrl", {"QueueName": name}, region=OTHER_REGION)
    url = r.findtext("q:GetQueueUrlResult/q:QueueUrl")
    assert url == f"http://{host}/{server.account_id}/{name}"
    # the AWS-form URL, given to a client of the home region, still names eu-north-1's queue
    assert url is not None
    assert _arn(client(server), url).split(":")[3] == OTHER_REGION


def test_query_post_to_a_region_path_url(server: Server, query: Query) -> None:
    """The query protocol may POST to the queue URL itself instead of naming QueueUrl (AWS
    accepts both); that works for the ``/queue/<region>/<account>/<name>`` form too."""
    name = unique("addr-p")
    away = client(server, OTHER_REGION)
    url = away.create_queue(QueueName=name)["QueueUrl"]
    path = url[len(server.endpoint):]
    sent = query("SendMessage", {"MessageBody": "posted to the URL"}, path=path, region=REGION)
    assert sent.status == 200, sent.text
    got = away.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in got] == ["posted to the URL"]


def test_queue_name_is_accepted_where_a_queue_url_is_expected(sqs: Any, queue: Any) -> None:
    """AWS accepts the queue's name in place of its URL (observed: SendMessage with
    ``QueueUrl="<name>"`` succeeds on the caller's own queue of that name)."""
    url = queue()
    name = url.rsplit("/", 1)[1]
    sqs.send_message(QueueUrl=name, MessageBody="by name")
    attrs = sqs.get_queue_attributes(QueueUrl=name, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "1"
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in got] == ["by name"]


def test_unknown_queue_name_in_place_of_a_url_is_queue_does_not_exist(sqs: Any) -> None:
    """A name that is no queue's is answered as an unknown URL is: QueueDoesNotExist."""
    with pytest.raises(sqs.exceptions.ClientError) as exc:
        sqs.send_message(QueueUrl=unique("nope"), MessageBody="x")
    assert_error(exc, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")


def test_twelve_digit_access_key_names_the_account(server: Server) -> None:
    """A request signed with a 12-digit access key id acts as that account (moto's and
    LocalStack's convention, so multi-account setups can be tested): its queue's URL and ARN
    name that account, the default account's ListQueues does not list it, and the default
    account reaches it with GetQueueUrl's QueueOwnerAWSAccountId once the queue's policy
    grants it GetQueueUrl (AccessDenied before: issue #15, tests/auth_policy)."""
    name = unique("acct")
    other, default = client(server, key=OTHER_ACCOUNT), client(server)
    url = other.create_queue(QueueName=name)["QueueUrl"]
    assert url == f"{server.endpoint}/{OTHER_ACCOUNT}/{name}"
    assert _arn(other, url) == f"arn:aws:sqs:{REGION}:{OTHER_ACCOUNT}:{name}"
    assert other.list_queues(QueueNamePrefix=name)["QueueUrls"] == [url]
    assert default.list_queues(QueueNamePrefix=name).get("QueueUrls", []) == []
    with pytest.raises(default.exceptions.ClientError) as exc:
        default.get_queue_url(QueueName=name)
    assert_error(exc, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")
    with pytest.raises(default.exceptions.ClientError) as exc:
        default.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=OTHER_ACCOUNT)
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    other.add_permission(QueueUrl=url, Label="url", AWSAccountIds=[server.account_id], Actions=["GetQueueUrl"])
    assert default.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=OTHER_ACCOUNT)["QueueUrl"] == url


def test_a_non_numeric_access_key_is_the_servers_account(server: Server) -> None:
    """Access keys of AWS's usual form (``AKIA…``) cannot be mapped without a credentials file:
    they act as the server's ``--account-id``."""
    name = unique("acct-d")
    url = client(server, key="AKIAIOSFODNN7EXAMPLE").create_queue(QueueName=name)["QueueUrl"]
    assert url == f"{server.endpoint}/{server.account_id}/{name}"


def test_host_header_without_port_gets_the_listening_port(server: Server) -> None:
    """The AWS SDK for Ruby v1 sends ``Host`` without the port; the URLs handed back must still
    point at the port the server listens on, not at port 80."""
    name = unique("addr-port")
    client(server).create_queue(QueueName=name)
    r = requests.post(server.endpoint + "/", data={"Action": "GetQueueUrl", "QueueName": name,
                                                   "Version": "2012-11-05"}, headers={"Host": "localhost"})
    assert r.status_code == 200, r.text
    url = ET.fromstring(r.content).find("q:GetQueueUrlResult/q:QueueUrl", NS)
    assert url is not None
    assert url.text == f"http://localhost:{server.port}/{server.account_id}/{name}"


@pytest.fixture(scope="module")
def public_server() -> Iterator[Server]:
    srv = _launch(("--public-url", "http://sqs.{region}.postroom.test:4000"))
    yield srv
    _shutdown(srv)


def test_public_url_replaces_the_host_header(public_server: Server) -> None:
    """``--public-url`` (with ``{region}``) is the base of every queue URL and SNS link handed out,
    whatever Host the request carried; the URLs are accepted back."""
    name = unique("pub")
    away = client(public_server, OTHER_REGION)
    url = away.create_queue(QueueName=name)["QueueUrl"]
    assert url == f"http://sqs.{OTHER_REGION}.postroom.test:4000/{public_server.account_id}/{name}"
    away.send_message(QueueUrl=url, MessageBody="b")
    assert [m["Body"] for m in away.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]] == ["b"]
    sns = client(public_server, OTHER_REGION, service="sns")
    topic = sns.create_topic(Name=unique("pubt"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=_arn(away, url))
    sns.publish(TopicArn=topic, Message="hello")
    got = away.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    envelope = json.loads(got[0]["Body"])
    assert envelope["UnsubscribeURL"].startswith(f"http://sqs.{OTHER_REGION}.postroom.test:4000/?Action=Unsubscribe")
    assert envelope["SigningCertURL"].startswith(f"http://sqs.{OTHER_REGION}.postroom.test:4000/")
