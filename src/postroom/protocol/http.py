"""The HTTP exchange as every protocol handler sees it: one request in, one response out, and
the query protocol's form parameters (shared by SQS's query protocol and SNS)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from postroom.errors import InvalidParameterValue

XML_CONTENT_TYPE = b"text/xml"


@dataclass
class Response:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    action: str = "-"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query_string: bytes
    headers: Mapping[bytes, bytes]
    body: bytes


def parse_form(req: Request) -> dict[str, str]:
    """The query protocol's parameters: the URL's query string and a form-encoded body."""
    try:
        form = dict(parse_qsl(req.query_string.decode("latin-1"), keep_blank_values=True, errors="strict"))
        if req.body:
            form.update(parse_qsl(req.body.decode("utf-8"), keep_blank_values=True, errors="strict"))
    except UnicodeDecodeError as exc:
        raise InvalidParameterValue("The request parameters are not valid UTF-8.") from exc
    return form
