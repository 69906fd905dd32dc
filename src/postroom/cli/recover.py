"""CLI: ``postroom recover`` — messages dug out of logs, reported, then (with --execute) re-sent."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import IO, Any

import click

from postroom.cli.aws_options import aws_options, target_from
from postroom.recovery import checkpoint as checkpoints
from postroom.recovery.filters import FilterError, Where, Window, parse_where
from postroom.recovery.mapping import Extractor, Mapping, MappingError, finalize, line_parser, load_mapping, override
from postroom.recovery.model import Recovered, ScanStats
from postroom.recovery.plan import Plan, build_plan
from postroom.recovery.report import report_json as build_report_json
from postroom.recovery.report import report_text, summary_text
from postroom.recovery.rules import TargetRules
from postroom.recovery.scan import RejectSink, scan
from postroom.recovery.sender import Sender
from postroom.recovery.sources import InputError, expand_inputs, read_lines
from postroom.recovery.target import Target, TargetError, TargetRef, parse_target
from postroom.recovery.timeparse import TimeError, parse_time

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    out = {}
    for item in values:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise click.BadParameter(f"{item!r}: expected NAME=path", param_hint=option)
        out[name] = path
    return out


def _time_option(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except TimeError as e:
        raise click.BadParameter(str(e), param_hint=option) from None


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command("recover")
@click.argument("inputs", nargs=-1)
@click.option("--to", "to", default=None, metavar="TARGET",
              help="Queue URL, queue name, queue ARN or topic ARN to recover into.")
@click.option("--execute", is_flag=True, help="Send. Without it, only report what would be sent.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "logfmt", "regex"]), default=None,
              help="Log line format (default jsonl, or the mapping file's).")
@click.option("--pattern", default=None, help="Regular expression with named groups (format regex).")
@click.option("--marker", default=None,
              help="Substring every message line carries; such a line that does not parse is rejected.")
@click.option("--mapping", "mapping_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="YAML mapping file (format, pattern, marker, fields, attributes).")
@click.option("--save-mapping", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the effective mapping to this YAML file for reuse.")
@click.option("--body-field", default=None, help="Path of the message body (default: body).")
@click.option("--group-field", default=None, help="Path of the MessageGroupId (FIFO targets).")
@click.option("--dedup-field", default=None, help="Path of the original MessageDeduplicationId.")
@click.option("--id-field", default=None, help="Path of the original message id.")
@click.option("--time-field", default=None, help="Path of the time the message was logged.")
@click.option("--sequence-field", default=None, help="Path of an explicit integer sequence to order by.")
@click.option("--time-format", default=None, help="strptime format of the time field (default: ISO 8601 or epoch).")
@click.option("--attr-field", multiple=True, metavar="NAME=PATH", help="Message attribute NAME from PATH.")
@click.option("--since", default=None, help="Keep messages at or after this time (ISO 8601 or epoch).")
@click.option("--until", default=None, help="Keep messages before this time (ISO 8601 or epoch).")
@click.option("--where", multiple=True, metavar="PATH=VALUE",
              help="Keep records whose field equals (PATH=VALUE) or differs (PATH!=VALUE); repeatable.")
@click.option("--reject-file", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("postroom-recover.rejects.jsonl"), show_default=True,
              help="Where rejected lines go, one JSON line each with its reason.")
@click.option("--checkpoint", "checkpoint_path", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("postroom-recover.checkpoint.json"), show_default=True,
              help="Progress file; running the same command again resumes from it.")
@click.option("--report-json", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the full report (every group's count) as JSON.")
@click.option("--rate", type=click.FloatRange(min=0.1), default=None, help="At most this many messages/s.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=16, show_default=True,
              help="Concurrent senders (each owns a set of groups, so per-group order holds).")
@click.option("--max-retries", type=click.IntRange(0, 100), default=8, show_default=True,
              help="Retries of a throttled or failing batch before the run stops (resumably).")
@click.option("--force", is_flag=True, help="Ignore an existing checkpoint and send everything again.")
@click.option("--top-groups", type=int, default=10, show_default=True, help="Groups listed in the report.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
@aws_options
def recover(inputs: tuple[str, ...], to: str | None, execute: bool, fmt: str | None, pattern: str | None,
            marker: str | None, mapping_file: Path | None, save_mapping: Path | None, body_field: str | None,
            group_field: str | None, dedup_field: str | None, id_field: str | None, time_field: str | None,
            sequence_field: str | None, time_format: str | None, attr_field: tuple[str, ...], since: str | None,
            until: str | None, where: tuple[str, ...], reject_file: Path, checkpoint_path: Path,
            report_json: Path | None, rate: float | None, concurrency: int, max_retries: int, force: bool,
            top_groups: int, progress: bool | None, endpoint_url: str | None, region: str | None,
            profile: str | None) -> None:
    """Recover messages from log files (or stdin) into a queue or topic.

    INPUTS are files, globs, directories or '-' for stdin; .gz files are read transparently.
    Without --execute nothing is sent: the report shows what was found, per-group counts, the time
    span, duplicates collapsed and rejected lines. With --execute, messages are sent in order, in
    batches, with a checkpoint: re-running the same command resumes, and after completion sends
    nothing unless --force.

    \b
    Example:
      postroom recover 'logs/orders-*.log*' --id-field message_id --group-field customer \\
          --time-field ts --body-field payload --since 2026-11-28T22:00Z --until 2026-11-29T08:00Z \\
          --to orders.fifo            # report
      ... --to orders.fifo --execute  # send
    """
    try:
        base = load_mapping(mapping_file) if mapping_file else Mapping()
        mapping = finalize(override(
            base, format=fmt, pattern=pattern, marker=marker, time_format=time_format,
            fields={"body": body_field, "group": group_field, "dedup": dedup_field, "id": id_field,
                    "time": time_field, "sequence": sequence_field},
            attributes=_pairs(attr_field, "--attr-field")))
        wheres = parse_where(where)
    except (MappingError, FilterError) as e:
        raise click.UsageError(str(e)) from None
    window = Window(_time_option(since, "--since"), _time_option(until, "--until"))
    if window.active and "time" not in mapping.fields:
        raise click.UsageError("--since/--until need a time field (--time-field or 'time' in the mapping)")
    if save_mapping is not None:
        save_mapping.write_text(mapping.to_yaml())
        click.echo(f"mapping saved to {save_mapping}", err=True)
    if execute and to is None:
        raise click.UsageError("--execute needs --to TARGET")
    try:
        ref: TargetRef | None = parse_target(to) if to else None
    except TargetError as e:
        raise click.BadParameter(str(e), param_hint="--to") from None
    try:
        files = expand_inputs(list(inputs))
    except InputError as e:
        raise click.UsageError(str(e)) from None

    rules = ref.rules if ref else TargetRules()
    with open(reject_file, "w", encoding="utf-8") as reject_stream:
        sink = RejectSink(reject_stream)
        found, stats = _scan(files, mapping, rules, wheres, window, sink)
    plan = build_plan(found, ref.identity if ref else "")
    if report_json is not None:
        report_json.write_text(json.dumps(build_report_json(stats, plan, ref, str(reject_file)), indent=1))
    show_progress = sys.stderr.isatty() if progress is None else progress
    if not execute:
        click.echo(report_text(stats, plan, ref, str(reject_file), top_groups, dry_run=True))
        _show_existing_checkpoint(checkpoint_path, plan.fingerprint)
        return
    assert ref is not None
    click.echo(report_text(stats, plan, ref, str(reject_file), top_groups, dry_run=False), err=True)
    _execute(ref, plan, stats, files, checkpoint_path, str(reject_file), force=force, concurrency=concurrency,
             rate=rate, max_retries=max_retries, progress=show_progress,
             client=target_from(endpoint_url, region, profile).client(
                 "sns" if ref.kind == "topic" else "sqs", max_pool_connections=concurrency + 2,
                 # every entry was checked against the target's rules while scanning
                 parameter_validation=False))


def _scan(files: list[str], mapping: Mapping, rules: TargetRules, wheres: list[Where], window: Window,
          sink: RejectSink) -> tuple[list[Recovered], ScanStats]:
    return scan(read_lines(files), files, line_parser(mapping), Extractor(mapping, rules), wheres, window, sink)


def _show_existing_checkpoint(path: Path, fingerprint: str) -> None:
    try:
        state = checkpoints.read(path)
    except checkpoints.CheckpointError as e:
        click.echo(f"note: {e}")
        return
    if state is None:
        return
    if state.fingerprint != fingerprint:
        click.echo(f"note: checkpoint {path} belongs to another recovery; --execute would refuse it")
    else:
        status = "complete" if state.complete else f"{state.done:,} of {state.total:,} done"
        click.echo(f"checkpoint     {path}: {status}; --execute {'sends nothing' if state.complete else 'resumes'}")


def _execute(ref: TargetRef, plan: Plan, stats: ScanStats, files: list[str], checkpoint_path: Path, reject_file: str, *,
             force: bool, concurrency: int, rate: float | None, max_retries: int, progress: bool, client: Any) -> None:
    target = Target(ref, client)
    try:
        target.resolve()
        cp = checkpoints.open_checkpoint(checkpoint_path, fingerprint=plan.fingerprint, target=ref.identity,
                                         total=len(plan.messages), partitions=concurrency, force=force)
    except (TargetError, checkpoints.CheckpointError) as e:
        raise click.ClickException(str(e)) from None
    state = cp.state
    if state.complete:
        click.echo(f"checkpoint {checkpoint_path} says this recovery is complete "
                   f"({state.sent:,} sent); nothing to send (--force sends again)", err=True)
    elif state.done:
        click.echo(f"resuming from {checkpoint_path}: {state.done:,} of {state.total:,} done", err=True)
    if state.partitions != concurrency and not state.complete:
        click.echo(f"note: keeping the checkpoint's {state.partitions} senders", err=True)
    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, _raise_interrupt)
    try:
        sender = Sender(target, plan, cp, files, rate=rate, max_retries=max_retries, progress=progress)
        outcome = sender.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    out: IO[str] = sys.stdout
    click.echo(summary_text(outcome, cp.state, stats, plan, ref, reject_file, str(checkpoint_path)), file=out)
    if outcome.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if outcome.aborted or cp.state.failures:
        sys.exit(EXIT_FAILED)


COMMANDS: list[click.Command] = [recover]
