"""CreateQueue / GetQueueUrl / ListQueues / DeleteQueue / PurgeQueue."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import EXTERNAL, _launch, _shutdown, assert_error, counts, make_client, qattrs, unique


def test_create_queue_returns_url_from_host_and_account(sqs, server):
    name = unique()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    try:
        assert url == f"{server.endpoint}/{server.account_id}/{name}"
        assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_create_queue_is_idempotent_for_identical_attributes(sqs, queue):
    name = unique()
    url = queue(name, VisibilityTimeout=45)
    again = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    assert again == url
    assert len([u for u in sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", []) if u == url]) == 1


def test_create_queue_with_different_attributes_is_queue_name_exists(sqs, queue):
    name = unique()
    url = queue(name, VisibilityTimeout=45)
    with pytest.raises(ClientError) as ei:
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "46"})
    assert_error(ei, "QueueNameExists", "QueueAlreadyExists")
    assert isinstance(ei.value, sqs.exceptions.QueueNameExists)
    assert qattrs(sqs, url, "VisibilityTimeout") == {"VisibilityTimeout": "45"}


def test_create_queue_with_tags(sqs, queue):
    url = queue(tags={"team": "billing", "env": "test"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "billing", "env": "test"}


@pytest.mark.parametrize("name", ["", "a" * 81, "has space", "bad/slash", "dot.name", "ünïcode"])
def test_create_queue_rejects_invalid_names(sqs, name):
    with pytest.raises(ClientError) as ei:
        sqs.create_queue(QueueName=name)
    assert_error(ei, "InvalidParameterValue")
    if name:
        assert not any(u.endswith("/" + name) for u in sqs.list_queues().get("QueueUrls", []))


def test_create_queue_accepts_80_char_name_with_hyphen_and_underscore(sqs, queue):
    name = ("a-b_" + unique())[:80].ljust(80, "z")
    url = queue(name)
    assert url.endswith("/" + name)


def test_fifo_attribute_requires_fifo_suffix(sqs):
    name = unique()
    with pytest.raises(ClientError) as ei:
        sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})
    assert_error(ei, "InvalidParameterValue")
    with pytest.raises(ClientError):
        sqs.get_queue_url(QueueName=name)


def test_fifo_suffix_requires_fifo_attribute(sqs):
    name = unique() + ".fifo"
    with pytest.raises(ClientError) as ei:
        sqs.create_queue(QueueName=name)
    assert_error(ei, "InvalidParameterValue")


def test_get_queue_url_of_missing_queue(sqs):
    with pytest.raises(ClientError) as ei:
        sqs.get_queue_url(QueueName=unique("missing"))
    assert_error(ei, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")
    assert isinstance(ei.value, sqs.exceptions.QueueDoesNotExist)


def test_get_queue_url_with_owner_account(sqs, queue, server):
    name = unique()
    url = queue(name)
    assert sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=server.account_id)["QueueUrl"] == url


def test_list_queues_prefix(sqs, queue):
    prefix = unique("lp")
    mine = sorted(queue(f"{prefix}-{i}") for i in range(3))
    other = queue(unique("other"))
    listed = sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    assert sorted(listed) == mine
    assert other not in listed
    assert sqs.list_queues(QueueNamePrefix=unique("nothing")).get("QueueUrls", []) == []


def test_list_queues_paging(sqs, queue):
    prefix = unique("pg")
    mine = {queue(f"{prefix}-{i:02d}") for i in range(7)}
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        kwargs = {"QueueNamePrefix": prefix, "MaxResults": 3}
        if token:
            kwargs["NextToken"] = token
        page = sqs.list_queues(**kwargs)
        assert len(page.get("QueueUrls", [])) <= 3
        seen += page.get("QueueUrls", [])
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
        assert pages < 10
    assert pages == 3
    assert sorted(seen) == sorted(mine)


def test_list_queues_without_max_results_has_no_next_token(sqs, queue):
    prefix = unique("nt")
    for i in range(3):
        queue(f"{prefix}-{i}")
    page = sqs.list_queues(QueueNamePrefix=prefix)
    assert len(page["QueueUrls"]) == 3
    assert "NextToken" not in page


@pytest.mark.parametrize("max_results", [0, 1001])
def test_list_queues_max_results_out_of_range(sqs, max_results):
    with pytest.raises(ClientError) as ei:
        sqs.list_queues(MaxResults=max_results)
    assert_error(ei, "InvalidParameterValue")


def test_delete_queue(sqs, server):
    name = unique()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError) as ei:
        sqs.get_queue_url(QueueName=name)
    assert_error(ei, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")
    with pytest.raises(ClientError) as ei:
        sqs.send_message(QueueUrl=url, MessageBody="x")
    assert_error(ei, "QueueDoesNotExist")
    assert url not in sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    with pytest.raises(ClientError) as ei:
        sqs.delete_queue(QueueUrl=url)
    assert_error(ei, "QueueDoesNotExist")


def test_recreate_after_delete_starts_empty_without_aws_timing(sqs, server):
    name = unique()
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "40"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    sqs.delete_queue(QueueUrl=url)
    url2 = sqs.create_queue(QueueName=name)["QueueUrl"]
    try:
        assert url2 == url
        assert qattrs(sqs, url2, "VisibilityTimeout")["VisibilityTimeout"] == "30"
        assert "Messages" not in sqs.receive_message(QueueUrl=url2)
    finally:
        sqs.delete_queue(QueueUrl=url2)


def test_purge_queue(sqs, queue):
    url = queue()
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(5)])
    inflight = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    assert len(inflight) == 1
    sqs.purge_queue(QueueUrl=url)
    assert counts(sqs, url) == (0, 0, 0)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    # the queue still works after a purge
    sqs.send_message(QueueUrl=url, MessageBody="after")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "after"


def test_purge_missing_queue(sqs, server):
    with pytest.raises(ClientError) as ei:
        sqs.purge_queue(QueueUrl=f"{server.endpoint}/{server.account_id}/{unique('missing')}")
    assert_error(ei, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")


# --- --aws-timing ----------------------------------------------------------------------------


def test_aws_timing_queue_deleted_recently(timing_server):
    sqs = make_client(timing_server.endpoint)
    name = unique()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError) as ei:
        sqs.create_queue(QueueName=name)
    assert_error(ei, "QueueDeletedRecently", "AWS.SimpleQueueService.QueueDeletedRecently")
    with pytest.raises(ClientError):
        sqs.get_queue_url(QueueName=name)
    timing_server.advance(61)
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url


def test_aws_timing_purge_queue_in_progress(timing_server):
    sqs = make_client(timing_server.endpoint)
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.purge_queue(QueueUrl=url)
    timing_server.advance(30)
    with pytest.raises(ClientError) as ei:
        sqs.purge_queue(QueueUrl=url)
    assert_error(ei, "PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress")
    timing_server.advance(31)
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_aws_timing_off_allows_back_to_back_purges(sqs, queue, server):
    server._require_control("a server known to run without --aws-timing")
    url = queue()
    sqs.purge_queue(QueueUrl=url)
    sqs.purge_queue(QueueUrl=url)


def test_queue_url_follows_host_header(server):
    local = make_client(server.endpoint.replace("127.0.0.1", "localhost"))
    name = unique()
    url = local.create_queue(QueueName=name)["QueueUrl"]
    try:
        assert url == f"http://localhost:{server.port}/{server.account_id}/{name}"
    finally:
        local.delete_queue(QueueUrl=url)


@pytest.mark.skipif(bool(EXTERNAL), reason="starts its own server with --account-id")
def test_account_id_option():
    srv = _launch(("--account-id", "123456789012"))
    try:
        sqs = make_client(srv.endpoint)
        name = unique()
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        assert url == f"{srv.endpoint}/123456789012/{name}"
        assert qattrs(sqs, url, "QueueArn")["QueueArn"] == f"arn:aws:sqs:us-east-1:123456789012:{name}"
    finally:
        _shutdown(srv)


def test_console_script_help():
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("postroom")
    out = subprocess.run([str(exe), "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    for opt in ("--host", "--port", "--data-dir", "--account-id", "--debug-clock", "--aws-timing"):
        assert opt in out.stdout
