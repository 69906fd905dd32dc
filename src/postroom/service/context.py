"""Who is asking, and where: the parts of a request the service layer needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from postroom.core.archive import ArchiveSettings
from postroom.core.model import ResourceKey
from postroom.errors import InvalidAddress, InvalidParameter, QueueDoesNotExist
from postroom.ids import new_uuid


@dataclass(frozen=True)
class RequestContext:
    """Resolved once, at the protocol boundary: ``account`` and ``region`` come from the
    request's SigV4 credential scope and the server's configuration; ``host`` is the Host
    header, used to build queue URLs (AWS: ``https://sqs.<region>.amazonaws.com/<account>/
    <name>``; postroom: ``http://<Host>/<account>/<name>``, the region being the
    request's, as the endpoint's is on AWS)."""

    account: str
    region: str
    host: str
    scheme: str = "http"
    sender_id: str = ""
    signed: bool = True
    """Whether ``region`` came from the request's signature. SNS's own links
    (SubscribeURL, UnsubscribeURL) arrive unsigned; their ARN says the region."""

    def queue_url(self, account: str, name: str) -> str:
        return f"{self.scheme}://{self.host}/{account}/{name}"

    def queue_key(self, queue_url: str) -> ResourceKey:
        """The queue a QueueUrl names, in the request's region (regions are isolated)."""
        account, name = parse_queue_url(queue_url)
        return ResourceKey(account, self.region, name)

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


def parse_queue_url(url: str) -> tuple[str, str]:
    """Return (account, queue name) from a queue URL.

    AWS accepts the URL of a queue as ``<scheme>://<host>/<account-id>/<queue-name>``;
    only the path decides which queue is meant.
    """
    if not url:
        raise QueueDoesNotExist("The specified queue does not exist.")
    path = urlsplit(url).path if "://" in url else url
    parts = [p for p in path.split("/") if p]
    if len(parts) != 2:
        if len(parts) == 1 and "://" not in url:
            raise InvalidAddress(f"The address {url} is not valid for this endpoint.")
        raise QueueDoesNotExist("The specified queue does not exist.")
    return parts[0], parts[1]
