"""The ``postroom`` command line."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from postroom import __version__
from postroom.cli.db import db

# The client-side tools' commands, by the module that defines them. They are imported only when
# one of them runs (or --help lists them): they pull in boto3, which would add ≈ 0.4 s to every
# `postroom serve` start.
LAZY_COMMANDS: dict[str, str] = {
    **dict.fromkeys(("plan", "approve", "apply", "verify", "checklist", "export", "import-asyncapi"),
                    "postroom.cli.topology"),
    "recover": "postroom.cli.recover",
    "consume": "postroom.cli.consume",
    "archive": "postroom.cli.archive",
    "replay": "postroom.cli.replay",
    "replays": "postroom.cli.replay",
    "audit": "postroom.cli.audit",
    "outbox": "postroom.cli.outbox",
    "watch": "postroom.cli.watch",
    "credentials": "postroom.cli.credentials",
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module on first use (click's documented pattern
    for lazily loaded subcommands)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            module = importlib.import_module(LAZY_COMMANDS[cmd_name])
            for command in module.COMMANDS:
                self.add_command(command)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="postroom")
def main() -> None:
    """postroom: a durable message bus that speaks the AWS SNS and SQS APIs.

    Point any AWS SDK at it with an endpoint URL, e.g.
    aws --endpoint-url http://127.0.0.1:9700 sqs list-queues
    """


def _public_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://")
    return value.rstrip("/") if value else None


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9700, show_default=True, type=int, help="Port to listen on.")
@click.option("--data-dir", default="./postroom-data", show_default=True, type=click.Path(path_type=Path),
              help="Where the embedded SQLite store keeps its database.")
@click.option("--store", "store_url", default=None,
              help="sqlite:///path (default: <data-dir>/postroom.db) or postgresql://user@host:port/db "
                   "[?schema=name] to share one bus between several postroom nodes.")
@click.option("--account-id", default="000000000000", show_default=True,
              help="AWS account id used in queue URLs and ARNs.")
@click.option("--region", default="us-east-1", show_default=True,
              help="Region when a request carries no SigV4 credential scope.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
              help="info logs one access line per request.")
@click.option("--durability", default="full", show_default=True, type=click.Choice(["full", "relaxed"]),
              help="full: every acknowledged message is fsync'd (survives power loss). relaxed: survives "
                   "crashes and kill -9, may lose the last commits on power loss.")
@click.option("--aws-timing", is_flag=True,
              help="Enforce AWS's timing rules: 60 s before a deleted queue's name can be reused, one "
                   "PurgeQueue per queue per 60 s. Off by default so test suites can recreate queues.")
@click.option("--debug-clock", is_flag=True,
              help="Testing aid: POST /_postroom/clock/advance?seconds=N moves the server clock forward.")
@click.option("--default-archive-days", default=7, show_default=True, type=click.IntRange(0, 365),
              help="Archive every topic without an ArchivePolicy of its own for this many days (0: off), so a "
                   "missed window can always be replayed.")
@click.option("--unrouted-days", default=7, show_default=True, type=click.IntRange(0, 365),
              help="Keep messages that reached no subscriber this many days, archived or not (0: off).")
@click.option("--public-url", default=None, metavar="URL", callback=lambda _c, _p, v: _public_url(v),
              help="Base of the URLs handed to clients (queue URLs, SigningCertURL, UnsubscribeURL) instead of "
                   "the request's Host header; may contain {region}, e.g. http://sqs.{region}.example.test:9700.")
@click.option("--tls-cert", default=None, metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Serve HTTPS with this PEM certificate (chain); needs --tls-key.")
@click.option("--tls-key", default=None, metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The PEM private key of --tls-cert.")
@click.option("--tls-self-signed", is_flag=True,
              help="Serve HTTPS with a self-signed certificate for localhost, 127.0.0.1 and --host, made in the "
                   "data dir on first start (tls-cert.pem) and reused; clients trust it with AWS_CA_BUNDLE.")
@click.option("--credentials", "credentials_file", default=None, metavar="FILE", envvar="POSTROOM_CREDENTIALS_FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Verify every request's SigV4 signature against the keys in FILE (postroom credentials add); "
                   "re-read when it changes. Also: POSTROOM_ACCESS_KEY_ID + POSTROOM_SECRET_ACCESS_KEY "
                   "[+ POSTROOM_SESSION_TOKEN] in the environment. Without either, any signature is accepted.")
def serve(host: str, port: int, data_dir: Path, store_url: str | None, account_id: str, region: str, log_level: str,
          durability: str, aws_timing: bool, debug_clock: bool, default_archive_days: int,
          unrouted_days: int, public_url: str | None,
          tls_cert: Path | None, tls_key: Path | None, tls_self_signed: bool,
          credentials_file: Path | None = None) -> None:
    """Serve the SQS API (JSON 1.0 and query protocols) and the SNS API on HOST:PORT."""
    from postroom.server.config import ServerConfig
    from postroom.server.run import serve as run_server

    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if tls_self_signed and tls_cert is not None:
        raise click.UsageError("--tls-self-signed or --tls-cert/--tls-key, not both")

    from postroom.cli.credentials import server_credentials

    env_credentials = server_credentials(credentials_file)
    run_server(ServerConfig(host=host, port=port, data_dir=data_dir, store_url=store_url,
                            account_id=account_id, region=region,
                            log_level=log_level, durability=durability, aws_timing=aws_timing,
                            debug_clock=debug_clock, default_archive_days=default_archive_days,
                            unrouted_days=unrouted_days, public_url=public_url,
                            tls_cert=tls_cert, tls_key=tls_key, tls_self_signed=tls_self_signed,
                            credentials_file=credentials_file, env_credentials=env_credentials))


main.add_command(db)

if __name__ == "__main__":
    main()
