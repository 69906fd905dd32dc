"""The standard AWS connection options shared by the client-side commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from postroom.awsclient import AwsTarget

F = TypeVar("F", bound=Callable[..., Any])


def aws_options(f: F) -> F:
    """Adds --endpoint-url, --region and --profile; the command receives ``aws: AwsTarget``."""

    f = click.option("--profile", default=None, envvar="AWS_PROFILE",
                     help="Named profile from the AWS shared config files.")(f)
    f = click.option("--region", default=None, envvar="AWS_DEFAULT_REGION",
                     help="AWS region (default: the profile's, else us-east-1).")(f)
    f = click.option("--endpoint-url", default=None, envvar="POSTROOM_ENDPOINT_URL",
                     help="SNS/SQS endpoint, e.g. http://127.0.0.1:9700 for a local postroom.")(f)
    return f


def target_from(endpoint_url: str | None, region: str | None, profile: str | None) -> AwsTarget:
    return AwsTarget(endpoint_url=endpoint_url, region=region, profile=profile)
