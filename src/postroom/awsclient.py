"""boto3 clients for postroom's client-side tools (topology, recovery, consumer).

These tools speak only the public SNS/SQS APIs, so they work against postroom, moto's server and
AWS itself. Credentials and region come from the standard AWS chain (environment, shared config
files, ``--profile``); ``--endpoint-url`` points them at a non-AWS endpoint. Against a local
endpoint with no credentials configured at all, placeholder credentials are used: postroom does not
verify signatures, and refusing to talk to it for want of a key would only get in the way.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config


@dataclass(frozen=True)
class AwsTarget:
    """Where and as whom the tools talk: the standard AWS settings, all optional."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None

    def session(self) -> Any:
        """One boto3 Session per (profile, region), shared: building one loads the service
        models and costs 0.1–0.3 s."""
        return _session(self.profile, self.region)

    def client(self, service: str, *, max_pool_connections: int = 10, read_timeout: float = 60.0,
               parameter_validation: bool = True) -> Any:
        """A boto3 client. ``parameter_validation=False`` skips botocore's client-side checks of the
        request shape — for callers that validate every value themselves (recover does; the checks
        cost ≈ 14% of its per-call CPU)."""
        session = self.session()
        region = session.region_name or "us-east-1"
        config = Config(retries={"max_attempts": 5, "mode": "standard"},
                        max_pool_connections=max_pool_connections, read_timeout=read_timeout,
                        parameter_validation=parameter_validation)
        kwargs: dict[str, Any] = {"region_name": region, "config": config}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
            if session.get_credentials() is None:
                kwargs["aws_access_key_id"] = "postroom"
                kwargs["aws_secret_access_key"] = "postroom"
        with _client_lock:  # a Session is not safe for concurrent client creation
            return session.client(service, **kwargs)


_client_lock = threading.Lock()


@lru_cache(maxsize=16)
def _session(profile: str | None, region: str | None) -> Any:
    return boto3.session.Session(profile_name=profile, region_name=region)
