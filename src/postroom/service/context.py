"""Who is asking, and where: the parts of a request the service layer needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from postroom.errors import InvalidAddress, QueueDoesNotExist
from postroom.ids import new_uuid


@dataclass(frozen=True)
class RequestContext:
    """``account`` and ``region`` come from the request's SigV4 credential scope and the
    server's configuration; ``host`` is the Host header, used to build queue URLs
    (AWS: ``https://sqs.<region>.amazonaws.com/<account>/<name>``; postroom:
    ``http://<Host>/<account>/<name>``)."""

    account: str
    region: str
    host: str
    scheme: str = "http"
    sender_id: str = ""

    def queue_url(self, account: str, name: str) -> str:
        return f"{self.scheme}://{self.host}/{account}/{name}"


@dataclass(frozen=True)
class ServiceSettings:
    """``aws_timing`` turns on AWS's distribution timing rules: 60 s before a deleted
    queue's name can be reused, one PurgeQueue per queue per 60 s."""

    aws_timing: bool = False
    new_id: Callable[[], str] = field(default=new_uuid)


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
