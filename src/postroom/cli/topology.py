"""CLI: topology as code — plan, approve, apply, verify, checklist, export, import-asyncapi.

``plan`` is a pure comparison of the file with the live state (it changes nothing); ``apply``
executes a saved, reviewed plan. Exit codes follow terraform's ``-detailed-exitcode``: ``plan``
exits 0 with no changes, 2 with changes, 1 on errors or blocking findings; every other command
exits 0 on success and 1 on a problem.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from botocore.exceptions import BotoCoreError, ClientError

from postroom.cli.aws_options import aws_options, target_from
from postroom.topology.model import Change, Declared, Finding

F = TypeVar("F", bound=Callable[..., Any])

SYMBOLS = {"create": ("+", "green"), "update": ("~", "yellow"), "delete": ("-", "red")}


def _endpoint_errors(f: F) -> F:
    """AWS errors end the command with exit 1 and AWS's own message, not a traceback."""
    @wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except ClientError as e:
            err = e.response.get("Error", {})
            raise click.ClickException(f"{e.operation_name}: {err.get('Code')}: {err.get('Message')}") from e
        except BotoCoreError as e:
            raise click.ClickException(str(e)) from e
    return wrapper  # type: ignore[return-value]


def _load(file: Path, env: str | None) -> Declared:
    from postroom.topology.loader import SpecError, load

    try:
        return load(file, env)
    except SpecError as e:
        click.echo(str(e), err=True)
        raise SystemExit(1) from e


def _step_line(step: Change) -> str:
    from postroom.topology.checklist import describe

    symbol, colour = SYMBOLS[step.action]
    text = f"  {symbol} {describe(step).replace('`', '')}"
    if step.destructive:
        return click.style(text + "   DESTRUCTIVE", fg="red", bold=True)
    return click.style(text, fg=colour)


def _finding_lines(findings: list[Finding]) -> list[str]:
    colours = {"error": "red", "warning": "yellow", "info": "cyan"}
    out: list[str] = []
    for f in findings:
        out.append(click.style(f"  {f.severity.upper()} {f.check}", fg=colours[f.severity], bold=True)
                   + f": {f.message}")
        out.append(f"      fix: {f.fix}")
    return out


def route_table(routes: list[dict[str, str]]) -> list[str]:
    """The plan's short route table (route, before, after), lost routes first and marked ✗."""
    if not routes:
        return []
    marks = {"lost": "✗", "retired": "–", "changed": "~", "moved": "→", "new": "+"}
    width = min(60, max(len("route"), *(len(r["route"]) for r in routes)))
    before_width = min(30, max(len("before"), *(len(r["before"]) for r in routes)))
    out = [f"    {'route':<{width}}  {'before':<{before_width}}  after"]
    for r in routes:
        line = f"  {marks.get(r['status'], ' ')} {r['route']:<{width}}  {r['before']:<{before_width}}  {r['after']}"
        out.append(click.style(line, fg="red", bold=True) if r["status"] == "lost" else line)
    return out


@click.command()
@click.option("-f", "--file", "file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The postroom.yaml to plan from.")
@click.option("--env", default=None, help="Environment of the file to plan (its variables, scope, protection).")
@click.option("-o", "--out", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Save the plan here, for approve / checklist / apply.")
@click.option("--author", default=None, help="Who makes the plan (default: $POSTROOM_AUTHOR, git user.name, $USER).")
@aws_options
@_endpoint_errors
def plan(file: Path, env: str | None, out: Path | None, author: str | None, endpoint_url: str | None,
         region: str | None, profile: str | None) -> None:
    """Compare FILE with the live state and show the changes and the checks' findings.

    Changes nothing. Exit 0: no changes; 2: changes; 1: errors or blocking findings."""
    from postroom.topology.checks import run_checks_detailed
    from postroom.topology.diff import compute_changes
    from postroom.topology.live import read_live
    from postroom.topology.planfile import accounting_url, default_identity, make_plan, target_identity

    declared = _load(file, env)
    aws = target_from(endpoint_url, region, profile)
    target = target_identity(aws)
    live = read_live(aws)
    changes = compute_changes(declared, live)
    result = run_checks_detailed(declared, live, changes)
    where = f"{target['endpoint_url'] or 'AWS'} (account {target['account']}, region {target['region']})"
    click.echo(f"Plan for {'environment ' + declared.environment if declared.environment else file.name} "
               f"against {where}:")
    # the summary first: what blocks the plan, and every route it changes (the long lists follow)
    if result.errors:
        click.echo(click.style(f"\nBlocking ({len(result.errors)}) — apply will refuse this plan:", fg="red",
                               bold=True))
        for line in _finding_lines(result.errors):
            click.echo(line)
    routes = [r.as_dict() for r in result.routes]
    if routes:
        lost = sum(r["status"] == "lost" for r in routes)
        click.echo(f"\nRoutes ({len(routes)} changed" + (f", {lost} LOST" if lost else "") + "):")
        for line in route_table(routes):
            click.echo(line)
    click.echo("\nChanges:")
    if changes:
        for step in changes:
            click.echo(_step_line(step))
        counts = {a: sum(1 for c in changes if c.action == a) for a in ("create", "update", "delete")}
        n_destructive = sum(1 for c in changes if c.destructive)
        click.echo(f"{len(changes)} change(s): {counts['create']} to create, {counts['update']} to change, "
                   f"{counts['delete']} to delete" + (f" — {n_destructive} DESTRUCTIVE" if n_destructive else ""))
    else:
        click.echo("  No changes: the live state matches the file.")
    others = [f for f in result.findings if f.severity != "error"]
    if others:
        click.echo("\nFindings:")
        for line in _finding_lines(others):
            click.echo(line)
    for finding, override in result.silenced:
        click.echo(f"  silenced {finding.check} on {override.resource} ({override.reason})")
    if out is not None:
        target["accounting_url"] = accounting_url(aws.endpoint_url)
        saved = make_plan(declared=declared, live=live, changes=changes, findings=result.findings,
                          silenced=result.silenced, file_path=file, author=author or default_identity(),
                          target=target, routes=routes,
                          related=({lk.old for lk in result.likely if lk.kind == "queue"},
                                   {lk.old for lk in result.likely if lk.kind == "topic"}))
        saved.save(out)
        click.echo(f"\nPlan saved to {out} (plan_hash {saved.plan_hash[:12]}, author {saved.author}).")
    if result.errors:
        click.echo(click.style(f"\n{len(result.errors)} blocking finding(s): apply will refuse this plan.",
                               fg="red", bold=True), err=True)
        raise SystemExit(1)
    raise SystemExit(2 if changes else 0)


@click.command()
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", required=True, help="The reviewer's name (must not be the plan's author).")
@click.option("--comment", default="", help="What was checked, or conditions.")
def approve(plan_file: Path, by: str, comment: str) -> None:
    """Record an approval in PLAN_FILE, bound to the plan's content hash."""
    from postroom.topology.planfile import Plan, PlanError
    from postroom.topology.planfile import approve as do_approve

    try:
        p = Plan.load(plan_file)
        a = do_approve(p, by, comment)
    except PlanError as e:
        raise click.ClickException(str(e)) from e
    p.save(plan_file)
    click.echo(f"Approved plan {a.plan_hash[:12]} (author {p.author}) by {a.by}.")


@click.command()
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", default=None, help="Who applies (default: $POSTROOM_AUTHOR, git user.name, $USER).")
@aws_options
@_endpoint_errors
def apply(plan_file: Path, by: str | None, endpoint_url: str | None, region: str | None,
          profile: str | None) -> None:
    """Apply exactly the steps saved in PLAN_FILE, in their safe order.

    Refuses, changing nothing, if the live state changed since the plan, the plan changed after
    approval, required approvals are missing or the plan has blocking findings. Re-running after a
    failure finishes the remaining steps (progress is journaled in PLAN_FILE.applied)."""
    from postroom.topology.apply import ApplyFailed, ApplyRefused, apply_plan
    from postroom.topology.planfile import PlanError, default_identity

    aws = target_from(endpoint_url, region, profile)
    try:
        result = apply_plan(plan_file, aws, by or default_identity(), log=click.echo)
    except (ApplyRefused, PlanError) as e:
        click.echo(click.style("apply refused — nothing was changed:", fg="red", bold=True), err=True)
        click.echo(str(e), err=True)
        raise SystemExit(1) from e
    except ApplyFailed as e:
        click.echo(click.style("apply failed:", fg="red", bold=True) + f" {e}", err=True)
        raise SystemExit(1) from e
    click.echo(f"Applied: {len(result.applied)} step(s) run, {len(result.already_done)} already done, "
               f"{result.total} in the plan.")


@click.command()
@click.option("-f", "--file", "file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--env", default=None)
@click.option("--probe", is_flag=True, help="Send a marked probe along every declared topic → queue route.")
@click.option("--consume", is_flag=True, help="With --probe: answer the probes here (for queues no consumer reads).")
@click.option("--timeout", default=20.0, show_default=True, help="Seconds to wait for probe replies.")
@aws_options
@_endpoint_errors
def verify(file: Path, env: str | None, probe: bool, consume: bool, timeout: float, endpoint_url: str | None,
           region: str | None, profile: str | None) -> None:
    """Report drift between the live state and FILE, and the health checks. Exit 0: ok; 1: problems."""
    from postroom.topology.live import read_live
    from postroom.topology.verify import verify as do_verify

    declared = _load(file, env)
    aws = target_from(endpoint_url, region, profile)
    report = do_verify(declared, read_live(aws), aws, probe=probe, consume=consume, timeout=timeout)
    click.echo(report.render())
    raise SystemExit(0 if report.ok else 1)


@click.command()
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", default=None, type=click.Path(dir_okay=False, path_type=Path))
def checklist(plan_file: Path, out: Path | None) -> None:
    """Write PLAN_FILE as a Markdown checklist for the human review of the change."""
    from postroom.topology.checklist import render_checklist
    from postroom.topology.planfile import Plan, PlanError

    try:
        text = render_checklist(Plan.load(plan_file))
    except PlanError as e:
        raise click.ClickException(str(e)) from e
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text)
        click.echo(f"Checklist written to {out}.")


@click.command()
@click.option("-o", "--out", default=None, type=click.Path(dir_okay=False, path_type=Path))
@aws_options
@_endpoint_errors
def export(out: Path | None, endpoint_url: str | None, region: str | None, profile: str | None) -> None:
    """Write the live topology as a postroom.yaml, to adopt an existing setup."""
    from postroom.topology.export import export_yaml
    from postroom.topology.live import read_live

    text = export_yaml(read_live(target_from(endpoint_url, region, profile)))
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text)
        click.echo(f"Exported to {out}.", err=True)


@click.command("import-asyncapi")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", default=None, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--prefix", default="", help="Put before every queue and topic name, e.g. '${prefix}'.")
def import_asyncapi(spec: Path, out: Path | None, prefix: str) -> None:
    """Derive consumers:/producers: from an AsyncAPI 3 document's receive/send operations."""
    from postroom.topology.asyncapi import AsyncApiError
    from postroom.topology.asyncapi import import_asyncapi as do_import

    try:
        text = do_import(spec, prefix)
    except AsyncApiError as e:
        click.echo(str(e), err=True)
        raise SystemExit(1) from e
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text)
        click.echo(f"Written to {out}.", err=True)


COMMANDS: list[click.Command] = [plan, approve, apply, verify, checklist, export, import_asyncapi]
