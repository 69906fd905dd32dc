"""Who is asking, and where: the parts of a request the service layer needs."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from postroom.core.model import ResourceKey
from postroom.core.sns.archive import ArchiveSettings
from postroom.errors import InvalidAddress, InvalidParameter, QueueDoesNotExist
from postroom.ids import new_uuid


@dataclass(frozen=True)
class RequestContext:
    """Resolved once, at the protocol boundary (``protocol/caller.py``): ``account`` and
    ``region`` come from the request's SigV4 credential scope and the server's
    configuration; ``scheme`` and ``host`` are the address the caller used, for the URLs
    handed back to them."""

    account: str
    region: str
    host: str
    scheme: str = "http"
    sender_id: str = ""
    signed: bool = True
    """Whether ``region`` came from the request's signature. SNS's own links
    (SubscribeURL, UnsubscribeURL) arrive unsigned; their ARN says the region."""
    home_region: str = ""
    """The server's own region (``--region``): its queue URLs need not say it."""
    trace_header: str | None = None
    """The request's X-Ray trace header (``X-Amzn-Trace-Id``), passed on by SNS to SQS."""

    def queue_url(self, account: str, name: str) -> str:
        """A queue URL that says the region, as AWS's do (``https://sqs.<region>.amazonaws.com/
        <account>/<name>``) while staying reachable at the address the client used:

        - reached as ``sqs.<region>.<domain>`` (a hosts entry, DNS, ``--public-url``), the
          host already says it: ``http://sqs.<region>.<domain>/<account>/<name>``;
        - in the server's own region: ``http://<host>/<account>/<name>`` (the familiar form);
        - in any other region: ``http://<host>/queue/<region>/<account>/<name>``.

        Every form is accepted back wherever a QueueUrl is expected."""
        if self.region == self.home_region or region_of_host(self.host) == self.region or not self.home_region:
            return f"{self.scheme}://{self.host}/{account}/{name}"
        return f"{self.scheme}://{self.host}/queue/{self.region}/{account}/{name}"

    def queue_key(self, queue_url: str) -> ResourceKey:
        """The queue a QueueUrl names. A URL that says its region (in the host or the
        ``/queue/<region>/`` path) names that region's queue, as the SDKs that send to the
        queue URL's own endpoint reach it on AWS; a plain ``/<account>/<name>`` URL, or a bare
        queue name (which AWS also accepts), names a queue of the request's region."""
        region, account, name = parse_queue_url(queue_url)
        return ResourceKey(account or self.account, region or self.region, name)

    def key(self, name: str) -> ResourceKey:
        """A resource of the caller's own account, in the request's region."""
        return ResourceKey(self.account, self.region, name)

    def topic_key(self, arn: str | None, what: str = "TopicArn") -> ResourceKey:
        """The topic an ARN names. SNS answers "Invalid parameter: TopicArn" for an ARN
        of another region than the endpoint's, as for a malformed one."""
        key = parse_topic_arn(arn, what)
        if self.signed and key.region != self.region:
            raise InvalidParameter(f"Invalid parameter: {what}")
        return key


@dataclass(frozen=True)
class ServiceSettings:
    """``aws_timing`` turns on AWS's distribution timing rules: 60 s before a deleted
    queue's name can be reused, one PurgeQueue per queue per 60 s. ``archive``: how long
    topics without an ArchivePolicy, and messages that reached no one, are kept."""

    aws_timing: bool = False
    new_id: Callable[[], str] = field(default=new_uuid)
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)


def parse_topic_arn(arn: str | None, what: str = "TopicArn") -> ResourceKey:
    """``arn:aws:sns:<region>:<account>:<name>``; anything else is "Invalid parameter: TopicArn"."""
    parts = (arn or "").split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sns" or not parts[5]:
        raise InvalidParameter(f"Invalid parameter: {what}")
    return ResourceKey(parts[4], parts[3], parts[5])


def parse_queue_url(url: str) -> tuple[str | None, str | None, str]:
    """(region or None, account or None, queue name) from a queue URL.

    AWS reads only what names the queue: ``<scheme>://<host>/<account-id>/<queue-name>``,
    the host saying the region (``sqs.<region>.…``, or the legacy ``<region>.queue.…``).
    postroom also takes ``/queue/<region>/<account>/<name>`` (the path-style form of a
    queue outside the server's region) and a bare queue name, as AWS does. A URL whose path
    names no queue is QueueDoesNotExist, as on AWS (which does not validate the rest).
    """
    if not url:
        raise QueueDoesNotExist("The specified queue does not exist.")
    if "://" not in url and "/" not in url:
        return None, None, url
    try:
        parsed = urlsplit(url) if "://" in url else None
    except ValueError:  # not a URL at all ("http://[x/..."): names no queue
        raise QueueDoesNotExist("The specified queue does not exist.") from None
    path = parsed.path if parsed is not None else url
    parts = [p for p in path.split("/") if p]
    if len(parts) == 4 and parts[0] == "queue":
        return parts[1], parts[2], parts[3]
    if len(parts) != 2:
        if len(parts) == 1 and parsed is None:
            raise InvalidAddress(f"The address {url} is not valid for this endpoint.")
        raise QueueDoesNotExist("The specified queue does not exist.")
    return (region_of_host(parsed.netloc) if parsed is not None else None), parts[0], parts[1]


_REGION_HOST = re.compile(r"^(?:sqs\.([a-z]{2}(?:-[a-z]+)+-\d+)\.|([a-z]{2}(?:-[a-z]+)+-\d+)\.queue\.)")


def region_of_host(host: str) -> str | None:
    """The region an AWS-style SQS host names: ``sqs.<region>.…`` or ``<region>.queue.…``."""
    found = _REGION_HOST.match(host.lower())
    if not found:
        return None
    return found.group(1) or found.group(2)
