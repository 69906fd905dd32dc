"""The ``postroom`` command line."""

from __future__ import annotations

from pathlib import Path

import click

from postroom import __version__
from postroom.cli import consume, recover, topology
from postroom.cli.db import db


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="postroom")
def main() -> None:
    """postroom: a durable message bus that speaks the AWS SNS and SQS APIs.

    Point any AWS SDK at it with an endpoint URL, e.g.
    aws --endpoint-url http://127.0.0.1:9700 sqs list-queues
    """


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
def serve(host: str, port: int, data_dir: Path, store_url: str | None, account_id: str, region: str, log_level: str,
          durability: str, aws_timing: bool, debug_clock: bool) -> None:
    """Serve the SQS API (JSON 1.0 and query protocols) on HOST:PORT."""
    from postroom.server.config import ServerConfig
    from postroom.server.run import serve as run_server

    run_server(ServerConfig(host=host, port=port, data_dir=data_dir, store_url=store_url,
                            account_id=account_id, region=region,
                            log_level=log_level, durability=durability, aws_timing=aws_timing,
                            debug_clock=debug_clock))


main.add_command(db)
for _command in (*topology.COMMANDS, *recover.COMMANDS, *consume.COMMANDS):
    main.add_command(_command)

if __name__ == "__main__":
    main()
