"""CLI: ``postroom consume QUEUE --handler module:function`` — run a handler over a queue.

A thin front end to :class:`postroom.consumer.Consumer`; it speaks only the public SQS API, so it
works against postroom, AWS and moto alike. SIGTERM/SIGINT finish the handlers in progress, release
what was received but not started (visibility 0) and exit 0.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any
from urllib.parse import urlsplit

import click
from botocore.exceptions import ClientError

from postroom.cli.aws_options import aws_options, target_from
from postroom.consumer import Consumer, Message, SnsVerifier, load_handler


def resolve_queue_url(client: Any, queue: str) -> str:
    """A queue URL as given; a name or an SQS ARN through GetQueueUrl."""
    if queue.startswith(("http://", "https://")):
        return queue
    kwargs: dict[str, str] = {"QueueName": queue}
    if queue.startswith("arn:"):
        parts = queue.split(":")
        if len(parts) != 6 or parts[2] != "sqs":
            raise click.BadParameter(f"not an SQS queue ARN: {queue}", param_hint="QUEUE")
        kwargs = {"QueueName": parts[5], "QueueOwnerAWSAccountId": parts[4]}
    try:
        url: str = client.get_queue_url(**kwargs)["QueueUrl"]
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise click.ClickException(f"queue {queue!r}: {err.get('Code')}: {err.get('Message')}") from None
    return url


def _attribute_key(name: str) -> Any:
    def key(message: Message) -> str | None:
        return message.string_attribute(name)

    return key


@click.command("consume")
@click.argument("queue")
@click.option("--handler", "handler_spec", required=True, metavar="MODULE:FUNCTION",
              help="The handler: called with each postroom.consumer.Message; raise to fail. May be async.")
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Handlers running at once (across FIFO message groups).")
@click.option("--batch-size", default=10, show_default=True, type=click.IntRange(1, 10),
              help="MaxNumberOfMessages per receive.")
@click.option("--wait-time", default=20, show_default=True, type=click.IntRange(0, 20),
              help="Long-poll seconds per receive (also the longest a shutdown waits for a poll).")
@click.option("--visibility-timeout", default=None, type=click.IntRange(0, 43200),
              help="Visibility timeout for received messages (default: the queue's).")
@click.option("--retry-delay", default=None, type=click.FloatRange(0, 43200),
              help="Seconds before a failed message is retried (default: when its visibility timeout ends).")
@click.option("--no-heartbeat", is_flag=True, help="Do not extend the visibility of long-running messages.")
@click.option("--order-attribute", default=None, metavar="NAME",
              help="Standard queues: handle messages with the same value of this message attribute one at a time.")
@click.option("--raw", "no_unwrap", is_flag=True, help="Do not unwrap SNS envelopes.")
@click.option("--verify-sns", is_flag=True,
              help="Verify SNS envelope signatures (certificates from AWS, --sns-cert-host, or --endpoint-url).")
@click.option("--sns-cert-host", multiple=True, metavar="HOST[:PORT]",
              help="Also trust signing certificates served by this host (repeatable; HTTP allowed).")
@click.option("--sns-ca-bundle", default=None, envvar="AWS_CA_BUNDLE", metavar="PEM",
              help="Extra trusted CA certificates for fetching signing certificates over HTTPS (default: "
                   "$AWS_CA_BUNDLE, e.g. the certificate of `postroom serve --tls-self-signed`).")
@click.option("--max-messages", default=None, type=click.IntRange(1),
              help="Exit after handling this many messages.")
@click.option("--idle-timeout", default=None, type=click.FloatRange(0),
              help="Exit after this many seconds without a message.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False))
@aws_options
def consume(queue: str, handler_spec: str, concurrency: int, batch_size: int, wait_time: int,
            visibility_timeout: int | None, retry_delay: float | None, no_heartbeat: bool,
            order_attribute: str | None, no_unwrap: bool, verify_sns: bool, sns_cert_host: tuple[str, ...],
            sns_ca_bundle: str | None,
            max_messages: int | None, idle_timeout: float | None, log_level: str,
            endpoint_url: str | None, region: str | None, profile: str | None) -> None:
    """Consume QUEUE (URL, name or ARN) with a handler, in order per FIFO message group."""
    logging.basicConfig(level=log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        handler = load_handler(handler_spec)
    except (ImportError, AttributeError, ValueError, TypeError) as exc:
        raise click.BadParameter(str(exc), param_hint="--handler") from None
    client = target_from(endpoint_url, region, profile).client(
        "sqs", max_pool_connections=concurrency + 4, read_timeout=wait_time + 30.0)
    queue_url = resolve_queue_url(client, queue)
    verifier = None
    if verify_sns:
        hosts = list(sns_cert_host)
        if endpoint_url:
            hosts.append(urlsplit(endpoint_url).netloc)
        verifier = SnsVerifier(hosts=hosts, allow_http=True, ca_bundle=sns_ca_bundle)
    consumer = Consumer(queue_url, handler, client=client, concurrency=concurrency, batch_size=batch_size,
                        wait_time=wait_time, visibility_timeout=visibility_timeout, heartbeat=not no_heartbeat,
                        retry_delay=retry_delay, order_key=_attribute_key(order_attribute) if order_attribute else None,
                        unwrap_sns=not no_unwrap, verifier=verifier)
    stats = consumer.run(max_messages=max_messages, idle_timeout=idle_timeout)
    click.echo(json.dumps({"queue": queue_url, **stats.as_dict()}), err=True)


COMMANDS: list[click.Command] = [consume]
