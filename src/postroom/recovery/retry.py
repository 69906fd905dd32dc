"""Which failures are worth retrying, and how long to wait.

Retried: throttling (AWS's throttling error codes), any 5xx, and transport failures (connection
refused or reset, timeouts) — the request may not have reached the broker, or its answer was lost.
A retried batch is the same batch: same entries, same MessageDeduplicationIds, same recovery ids,
so a FIFO broker drops what it already has. Backoff is exponential with full jitter (AWS Architecture
Blog, "Exponential Backoff And Jitter"), capped. botocore's own retries (standard mode) run first,
inside each attempt.
"""

from __future__ import annotations

import random

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError, ReadTimeoutError

THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "RequestThrottled", "RequestLimitExceeded", "SlowDown",
    "KMSThrottlingException", "KMS.ThrottlingException", "ServiceUnavailable", "InternalError", "InternalFailure",
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
})


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, ClientError):
        err = error.response.get("Error", {})
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return status >= 500 or err.get("Code") in THROTTLING_CODES
    return isinstance(error, ConnectionError | HTTPClientError | ReadTimeoutError)


def backoff(attempt: int, base: float = 0.2, cap: float = 20.0) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based)."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


def describe(error: BaseException) -> str:
    if isinstance(error, ClientError):
        err = error.response.get("Error", {})
        return f"{err.get('Code')}: {err.get('Message')}"
    return f"{type(error).__name__}: {error}"
