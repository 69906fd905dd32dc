"""AWS Signature Version 4, checked the way AWS checks it: pure functions, no I/O.

A request is signed in one of two forms:

- **header**: ``Authorization: AWS4-HMAC-SHA256 Credential=<key>/<yyyymmdd>/<region>/<service>/
  aws4_request, SignedHeaders=<h1;h2…>, Signature=<hex>`` with the time in ``X-Amz-Date`` (or
  ``Date``) and a session token, if any, in ``X-Amz-Security-Token``;
- **presigned query**: ``X-Amz-Algorithm``, ``X-Amz-Credential``, ``X-Amz-Date``,
  ``X-Amz-Expires``, ``X-Amz-SignedHeaders``, ``X-Amz-Signature`` (and ``X-Amz-Security-Token``)
  in the URL's query string.

The canonical request is rebuilt from what arrived, exactly as botocore (``botocore/auth.py``,
``SigV4Auth.canonical_request``) and the other SDKs build it before sending:

- the method;
- the path as sent, dot segments and empty segments removed, then URI-encoded once more
  (every character but ``A-Z a-z 0-9 - _ . ~ /``): AWS's services other than S3 encode the
  path twice;
- the query parameters, each name and value decoded and re-encoded with RFC 3986's unreserved
  set, sorted by name then value (``X-Amz-Signature`` left out of a presigned URL's);
- the signed headers, names lower-cased, values trimmed with inner runs of spaces collapsed,
  repeated headers joined with commas, sorted, then the ``SignedHeaders`` list;
- the payload hash: ``x-amz-content-sha256`` when the request sends it (the literal
  ``UNSIGNED-PAYLOAD`` included, as AWS allows when that header is itself signed), otherwise the
  SHA-256 of the body; a presigned URL is accepted with either the body's hash or
  ``UNSIGNED-PAYLOAD``.

The string to sign is ``AWS4-HMAC-SHA256\\n<amz date>\\n<scope>\\n<hex sha256 of the canonical
request>``; the signing key is HMAC-SHA256 chained over ``AWS4<secret>``, the date, the region,
the service and ``aws4_request``. Signing keys are cached per (secret, date, region, service):
they change once a day, so a request costs two SHA-256s and one HMAC.

Time: a header-signed request must be dated within 15 minutes of the server's clock either
way; a presigned URL is good from 15 minutes before its ``X-Amz-Date`` until ``X-Amz-Expires``
seconds after it (at most 7 days).

Errors carry AWS's codes and texts (AWS's "Common Errors" and recorded responses):
``IncompleteSignature`` (400) for an Authorization header or presigned query that is not
well formed, ``SignatureDoesNotMatch`` (403) for a wrong signature, a skewed clock ("Signature
expired: …") or a credential scope that does not fit, ``RequestExpired`` (400) for a presigned
URL past its expiry, ``MissingAuthenticationToken`` (403) when nothing is signed at all.
"""

from __future__ import annotations

import calendar
import datetime
import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SKEW_SECONDS = 15 * 60
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600
TIME_FORMAT = "%Y%m%dT%H%M%SZ"

INCOMPLETE_SIGNATURE = "IncompleteSignature"
SIGNATURE_DOES_NOT_MATCH = "SignatureDoesNotMatch"
REQUEST_EXPIRED = "RequestExpired"
MISSING_AUTHENTICATION_TOKEN = "MissingAuthenticationToken"

MISMATCH_MESSAGE = ("The request signature we calculated does not match the signature you provided. Check your "
                    "AWS Secret Access Key and signing method. Consult the service documentation for details.")
MISSING_TOKEN_MESSAGE = "Request is missing Authentication Token"

_UNRESERVED = "-_.~"
_PRESIGN_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                   "X-Amz-Signature")


class SigV4Error(Exception):
    """A request whose signature cannot be accepted: AWS's error code and message."""

    def __init__(self, code: str, message: str, service: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.service = service
        """The credential scope's service, when the signature said one (decides the error's shape)."""


@dataclass(slots=True)
class SignedRequest:
    """What a request's signature claims: parsed, not yet verified."""

    access_key: str
    date: str
    """The credential scope's date, ``YYYYMMDD``."""
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    """The request time as signed (``YYYYMMDDTHHMMSSZ``)."""
    timestamp: float
    security_token: str | None
    presigned: bool
    expires: int = 0

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


HeaderList = Iterable[tuple[bytes, bytes]]


def header_map(headers: HeaderList) -> dict[str, str]:
    """Lower-cased header names (as ASGI delivers them) to their values, repeated headers
    joined with commas (each trimmed first, as the canonical form wants;
    :func:`canonical_request` trims the rest)."""
    listed = headers if isinstance(headers, list) else list(headers)
    out = {name.decode("latin-1"): value.decode("latin-1") for name, value in listed}
    if len(out) == len(listed):
        return out
    out = {}
    for raw_name, raw_value in listed:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name in out:
            out[name] = f"{_trim(out[name])},{_trim(value)}"
        else:
            out[name] = value
    return out


def _trim(value: str) -> str:
    """Trimall: no leading or trailing whitespace, inner runs of spaces as one."""
    return " ".join(value.split())


def query_pairs(query_string: bytes) -> list[tuple[str, str]]:
    """The query string's (name, value) pairs, percent-decoded (``+`` stays a ``+``, as AWS
    reads a query string for signing)."""
    if not query_string:
        return []
    pairs = []
    for part in query_string.decode("latin-1").split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


_TIMES: dict[str, float] = {}


def _parse_time(value: str) -> float:
    """``YYYYMMDDTHHMMSSZ`` as epoch seconds (memoised: requests of one second share it)."""
    found = _TIMES.get(value)
    if found is not None:
        return found
    try:
        if len(value) != 16 or value[8] != "T" or value[15] != "Z" or not value[:8].isdigit() \
                or not value[9:15].isdigit():
            raise ValueError(value)
        stamp = datetime.datetime(int(value[0:4]), int(value[4:6]), int(value[6:8]), int(value[9:11]),
                                  int(value[11:13]), int(value[13:15]), tzinfo=datetime.UTC)
        if len(_TIMES) > 4096:
            _TIMES.clear()
        _TIMES[value] = parsed = float(calendar.timegm(stamp.utctimetuple()))
        return parsed
    except ValueError:
        raise SigV4Error(INCOMPLETE_SIGNATURE, f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
                                               "See http://en.wikipedia.org/wiki/ISO_8601") from None


def _http_date(value: str) -> float:
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        raise SigV4Error(INCOMPLETE_SIGNATURE, f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
                                               "See http://en.wikipedia.org/wiki/ISO_8601") from None


def _credential(value: str, where: str) -> tuple[str, str, str, str]:
    parts = value.split("/")
    if len(parts) != 5:
        raise SigV4Error(INCOMPLETE_SIGNATURE, f"Credential should be scoped to a valid region. {where}")
    key, date, region, service, terminator = parts
    if terminator != "aws4_request":
        raise SigV4Error(SIGNATURE_DOES_NOT_MATCH,
                         f"Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'.",
                         service)
    if not key:
        raise SigV4Error(INCOMPLETE_SIGNATURE, f"Credential should contain an access key id. {where}", service)
    if not region:
        raise SigV4Error(SIGNATURE_DOES_NOT_MATCH, "Credential should be scoped to a valid region, not ''. ", service)
    return key, date, region, service


def parse_request(query_string: bytes, headers: Mapping[str, str]) -> SignedRequest | None:
    """The signature a request carries (header or presigned form), or None when it carries
    none. Raises :class:`SigV4Error` (IncompleteSignature) when it is not well formed."""
    auth = headers.get("authorization")
    if auth is not None:
        return _parse_header(auth, headers)
    if b"X-Amz-" in query_string or b"x-amz-" in query_string:
        params = dict(query_pairs(query_string))
        if "X-Amz-Signature" in params or "X-Amz-Credential" in params or "X-Amz-Algorithm" in params:
            return _parse_presigned(params)
    return None


_AUTH_HEADER = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request, ?"
                          r"SignedHeaders=([^,\s]+), ?Signature=([0-9a-f]{64})")


def _parse_header(auth: str, headers: Mapping[str, str]) -> SignedRequest:
    fast = _AUTH_HEADER.fullmatch(auth)
    if fast is not None:  # the form every SDK sends
        date_header = headers.get("x-amz-date")
        signed = tuple(fast[5].split(";"))
        if date_header is not None and "host" in signed:
            return SignedRequest(fast[1], fast[2], fast[3], fast[4], signed, fast[6], date_header,
                                 _parse_time(date_header), headers.get("x-amz-security-token"), False)
    algorithm, _, rest = auth.partition(" ")
    if algorithm != ALGORITHM:
        raise SigV4Error(INCOMPLETE_SIGNATURE, f"Unsupported AWS 'algorithm': '{algorithm}'")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, eq, value = part.strip().partition("=")
        if eq:
            fields[name] = value
    where = f"Authorization={auth}"
    missing = [f"Authorization header requires '{name}' parameter." for name in ("Credential", "Signature",
                                                                                 "SignedHeaders")
               if not fields.get(name)]
    date_header = headers.get("x-amz-date")
    if date_header is None and "date" not in headers:
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if missing:
        raise SigV4Error(INCOMPLETE_SIGNATURE, " ".join(missing) + f" {where}")
    key, date, region, service = _credential(fields["Credential"], where)
    signed = tuple(fields["SignedHeaders"].split(";"))
    if "host" not in signed:
        raise SigV4Error(INCOMPLETE_SIGNATURE, f"'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                                               f"Authorization. {where}", service)
    if date_header is not None:
        amz_date, timestamp = date_header, _parse_time(date_header)
    else:
        timestamp = _http_date(headers["date"])
        amz_date = time.strftime(TIME_FORMAT, time.gmtime(timestamp))
    return SignedRequest(key, date, region, service, signed, fields["Signature"], amz_date, timestamp,
                         headers.get("x-amz-security-token"), presigned=False)


def _parse_presigned(params: Mapping[str, str]) -> SignedRequest:
    for name in _PRESIGN_PARAMS:
        if not params.get(name):
            raise SigV4Error(INCOMPLETE_SIGNATURE, f"AWS query-string parameters must include '{name}'. "
                                                   "Re-examine the query-string parameters.")
    algorithm = params["X-Amz-Algorithm"]
    if algorithm != ALGORITHM:
        raise SigV4Error(INCOMPLETE_SIGNATURE, f"Unsupported AWS 'algorithm': '{algorithm}'")
    key, date, region, service = _credential(params["X-Amz-Credential"], "Re-examine the query-string parameters.")
    try:
        expires = int(params["X-Amz-Expires"])
    except ValueError:
        expires = -1
    if not 0 <= expires <= MAX_PRESIGN_EXPIRES:
        raise SigV4Error(INCOMPLETE_SIGNATURE, "X-Amz-Expires must be a non-negative integer less than a week "
                                               f"(in seconds) that is {MAX_PRESIGN_EXPIRES}", service)
    signed = tuple(params["X-Amz-SignedHeaders"].split(";"))
    if "host" not in signed:
        raise SigV4Error(INCOMPLETE_SIGNATURE, "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                                               "Authorization.", service)
    amz_date = params["X-Amz-Date"]
    return SignedRequest(key, date, region, service, signed, params["X-Amz-Signature"], amz_date,
                         _parse_time(amz_date), params.get("X-Amz-Security-Token"), presigned=True, expires=expires)


def check_time(signed: SignedRequest, now: float) -> None:
    """AWS's clock rules: 15 minutes of skew either way; a presigned URL until it expires."""
    if signed.date != signed.amz_date[:8]:
        source = "'X-Amz-Date'" if signed.presigned else "'x-amz-date' header"
        raise SigV4Error(SIGNATURE_DOES_NOT_MATCH,
                         "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                         f"'{signed.date}' != '{signed.amz_date[:8]}', from {source}.", signed.service)
    stamp = _fmt
    if signed.timestamp > now + MAX_SKEW_SECONDS:
        raise SigV4Error(SIGNATURE_DOES_NOT_MATCH,
                         f"Signature not yet current: {signed.amz_date} is still later than "
                         f"{stamp(now + MAX_SKEW_SECONDS)} ({stamp(now)} + 15 min.)", signed.service)
    if signed.presigned:
        if now > signed.timestamp + signed.expires:
            raise SigV4Error(REQUEST_EXPIRED, "Request has expired.", signed.service)
    elif signed.timestamp < now - MAX_SKEW_SECONDS:
        raise SigV4Error(SIGNATURE_DOES_NOT_MATCH,
                         f"Signature expired: {signed.amz_date} is now earlier than "
                         f"{stamp(now - MAX_SKEW_SECONDS)} ({stamp(now)} - 15 min.)", signed.service)


def _fmt(t: float) -> str:
    return time.strftime(TIME_FORMAT, time.gmtime(t))


# ---- the canonical request ------------------------------------------------------------------

_PATHS: dict[str, str] = {}


def canonical_path(raw_path: str) -> str:
    """The path as botocore signs it: dot and empty segments removed, then URI-encoded (again).
    Memoised: a server sees the same few paths (``/`` and its queue URLs) over and over."""
    found = _PATHS.get(raw_path)
    if found is None:
        if len(_PATHS) > 4096:
            _PATHS.clear()
        _PATHS[raw_path] = found = _canonical_path(raw_path)
    return found


def _canonical_path(raw_path: str) -> str:
    if not raw_path:
        return "/"
    out: list[str] = []
    for segment in raw_path.split("/"):
        if segment and segment != ".":
            if segment == "..":
                if out:
                    out.pop()
            else:
                out.append(segment)
    path = "/" + "/".join(out)
    if raw_path.endswith("/") and path != "/":
        path += "/"
    return quote(path, safe="/~")


def canonical_query(pairs: Iterable[tuple[str, str]], presigned: bool) -> str:
    encoded = sorted((quote(name, safe=_UNRESERVED), quote(value, safe=_UNRESERVED))
                     for name, value in pairs if not (presigned and name == "X-Amz-Signature"))
    return "&".join(f"{name}={value}" for name, value in encoded)


def canonical_request(method: str, raw_path: str, query: str, headers: Mapping[str, str],
                      signed_headers: tuple[str, ...], payload_hash: str) -> str:
    lines = [f"{name}:{' '.join(headers.get(name, '').split())}" for name in signed_headers]
    return "\n".join((method, canonical_path(raw_path), query, *lines, "", ";".join(signed_headers), payload_hash))


def string_to_sign(signed: SignedRequest, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return (f"{ALGORITHM}\n{signed.amz_date}\n{signed.date}/{signed.region}/{signed.service}/aws4_request\n"
            f"{digest}")


_KEYS: dict[tuple[str, str, str, str], tuple[bytes, hmac.HMAC]] = {}
_MAX_KEYS = 4096


def _signer(secret: str, date: str, region: str, service: str) -> tuple[bytes, hmac.HMAC]:
    """The signing key, HMAC-SHA256 chained over ``AWS4<secret>``, date, region, service and
    ``aws4_request``, with an HMAC already keyed by it (copying one is half the cost of keying
    a new one). Cached: a key serves a (secret, date, region, service) for a whole day."""
    cache_key = (secret, date, region, service)
    found = _KEYS.get(cache_key)
    if found is None:
        key = f"AWS4{secret}".encode()
        for part in (date, region, service, "aws4_request"):
            key = hmac.digest(key, part.encode("utf-8"), "sha256")
        if len(_KEYS) >= _MAX_KEYS:
            _KEYS.clear()
        _KEYS[cache_key] = found = (key, hmac.new(key, digestmod=hashlib.sha256))
    return found


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    return _signer(secret, date, region, service)[0]


def compute_signature(secret: str, signed: SignedRequest, canonical: str) -> str:
    mac = _signer(secret, signed.date, signed.region, signed.service)[1].copy()
    mac.update(string_to_sign(signed, canonical).encode("utf-8"))
    return mac.hexdigest()


def verify(signed: SignedRequest, secret: str, method: str, raw_path: str, query_string: bytes,
           headers: Mapping[str, str], body: bytes) -> None:
    """Raise SignatureDoesNotMatch unless ``signed.signature`` is the request's signature under
    ``secret``. (Times are checked separately, by :func:`check_time`.)"""
    query = canonical_query(query_pairs(query_string), signed.presigned) if query_string else ""
    declared = headers.get("x-amz-content-sha256")
    candidates: tuple[str, ...]
    if declared is not None and not signed.presigned:
        if (declared != UNSIGNED_PAYLOAD and not declared.startswith("STREAMING-")
                and declared != hashlib.sha256(body).hexdigest()):
            raise SigV4Error(SIGNATURE_DOES_NOT_MATCH, "The provided 'x-amz-content-sha256' header does not "
                                                       "match what was computed.", signed.service)
        candidates = (declared,)
    else:
        body_hash = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
        candidates = (body_hash, UNSIGNED_PAYLOAD) if signed.presigned else (body_hash,)
    given = signed.signature.encode("utf-8")
    for payload_hash in candidates:
        canonical = canonical_request(method, raw_path, query, headers, signed.signed_headers, payload_hash)
        if hmac.compare_digest(compute_signature(secret, signed, canonical).encode(), given):
            return
    raise SigV4Error(SIGNATURE_DOES_NOT_MATCH, MISMATCH_MESSAGE, signed.service)
