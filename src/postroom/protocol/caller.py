"""Who is asking, and at which address: resolved once per request, at the protocol boundary.

AWS derives both from the request itself:

- **Region.** The SigV4 credential scope names it (``Credential=<key>/<date>/<region>/<service>/
  aws4_request``); on AWS it is also the endpoint's. Unsigned requests (the links SNS hands
  out) fall back to the server's region; their ARN says the rest.
- **Account.** On AWS, the access key id belongs to an account. Without a credentials file
  postroom cannot know whose key it is, so, as moto and LocalStack do, a 12-digit access key
  id *is* the account id (``AKIA…``-style keys and anything else get the server's
  ``--account-id``). That is what makes multi-account setups testable. With a credentials
  file (``--credentials``) the signature is verified first (``protocol/auth.py``) and the
  key's account is the file's: the verified :class:`Principal` is passed in.
- **Address.** Queue URLs, SigningCertURL and UnsubscribeURL are built from the address the
  client used: the ``Host`` header, with the port the server listens on when the header has
  none (the AWS SDK for Ruby v1 sends ``Host`` without a port, and the URLs would otherwise
  point at port 80), or a configured public URL (``--public-url``, which may contain
  ``{region}``: ``http://sqs.{region}.example.test:9700``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from postroom.service.context import RequestContext

_CREDENTIAL = re.compile(r"Credential=([^/,\s]*)/(\d{8})/([^/]*)/([^/]*)/")
_ACCOUNT_KEY = re.compile(r"\d{12}")
_DEFAULT_PORT = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Addressing:
    """How this server is reached: its own account and region, the port it listens on, the
    scheme it serves, and an optional public URL template that overrides the Host header."""

    account_id: str
    region: str
    port: int
    scheme: str = "http"
    public_url: str | None = None


@dataclass(slots=True)
class Principal:
    """A verified signer (``protocol/auth.py``): its access key, the account the credentials
    file gives it, and the region and service of the signature's credential scope."""

    access_key: str
    account: str
    region: str
    service: str


def credential_scope(headers: Mapping[bytes, bytes]) -> tuple[str | None, str | None, str | None]:
    """(access key id, region, service) from a SigV4 ``Authorization`` header, if present."""
    auth = headers.get(b"authorization")
    found = _CREDENTIAL.search(auth.decode("latin-1")) if auth else None
    if not found:
        return None, None, None
    return found.group(1), found.group(3) or None, found.group(4) or None


def caller_account(access_key: str | None, default: str) -> str:
    """A 12-digit access key id names its account (moto's and LocalStack's convention)."""
    if access_key and _ACCOUNT_KEY.fullmatch(access_key):
        return access_key
    return default


def public_host(headers: Mapping[bytes, bytes], addressing: Addressing, region: str) -> tuple[str, str]:
    """(scheme, host[:port]) to put in URLs handed back to this caller."""
    if addressing.public_url:
        scheme, _, rest = addressing.public_url.replace("{region}", region).partition("://")
        return scheme, rest.rstrip("/")
    host = headers.get(b"host", b"").decode("latin-1").strip() or "localhost"
    if not _has_port(host) and addressing.port != _DEFAULT_PORT.get(addressing.scheme):
        host = f"{host}:{addressing.port}"
    return addressing.scheme, host


def _has_port(host: str) -> bool:
    if host.startswith("["):  # an IPv6 literal: [::1] or [::1]:9700
        return "]:" in host
    return ":" in host


def request_context(headers: Mapping[bytes, bytes], addressing: Addressing,
                    principal: Principal | None = None) -> RequestContext:
    """The caller's account and region, and the address their URLs should carry."""
    region: str | None
    if principal is not None:
        account, region = principal.account, principal.region
    else:
        key, region, _service = credential_scope(headers)
        account = caller_account(key, addressing.account_id)
    where = region or addressing.region
    scheme, host = public_host(headers, addressing, where)
    trace = headers.get(b"x-amzn-trace-id")
    return RequestContext(account=account, region=where, host=host, scheme=scheme, sender_id=account,
                          signed=region is not None, home_region=addressing.region,
                          trace_header=trace.decode("latin-1") if trace else None)
