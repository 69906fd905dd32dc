"""The dry-run report and the final summary, as text for people and as JSON for scripts."""

from __future__ import annotations

from typing import Any

from postroom.recovery.checkpoint import State
from postroom.recovery.model import ScanStats
from postroom.recovery.plan import Plan
from postroom.recovery.sender import Outcome
from postroom.recovery.target import TargetRef
from postroom.recovery.timeparse import format_time


def _span(seconds: float) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {int(seconds) % 60} s"


def report_text(stats: ScanStats, plan: Plan, target: TargetRef | None, reject_file: str | None,
                top_groups: int, dry_run: bool) -> str:
    lines = []
    if dry_run:
        lines.append("postroom recover: dry run, nothing sent (add --execute to send)")
    shown_inputs = ["stdin" if i == "-" else i for i in stats.inputs[:4]]
    more = f", … ({len(stats.inputs) - 4} more)" if len(stats.inputs) > 4 else ""
    lines.append(f"inputs         {len(stats.inputs)}: {', '.join(shown_inputs)}{more}")
    lines.append(f"lines read     {stats.lines:,}")
    lines.append(f"  unrelated    {stats.unrelated:,}  not messages (other log output), ignored")
    where = f" → {reject_file}" if reject_file else ""
    lines.append(f"  rejected     {stats.rejected:,}  looked like messages but did not parse{where}")
    for reason, n in sorted(stats.reject_reasons.items(), key=lambda kv: -kv[1]):
        lines.append(f"                 {n:,} × {reason}")
    lines.append(f"  filtered     {stats.filtered_where:,} by --where, "
                 f"{stats.filtered_window:,} outside --since/--until")
    lines.append(f"  found        {stats.found:,} messages")
    lines.append(f"duplicates     {plan.duplicates:,} collapsed (the same message logged more than once)")
    groups = f" in {len(plan.groups):,} groups" if plan.groups else ""
    lines.append(f"to send        {len(plan.messages):,} unique messages{groups}")
    if plan.first_time is not None and plan.last_time is not None:
        lines.append(f"time span      {format_time(plan.first_time)} … {format_time(plan.last_time)} "
                     f"({_span(plan.last_time - plan.first_time)})")
    if target is not None:
        kind = "FIFO " if target.fifo else "standard "
        extra = " (MessageGroupId from the mapping, MessageDeduplicationId = recovery id)" if target.fifo else ""
        lines.append(f"target         {kind}{target.kind} {target.name}{extra}")
    if plan.groups and top_groups > 0:
        shown = plan.groups.most_common(top_groups)
        lines.append(f"per group      (largest {len(shown)} of {len(plan.groups):,}; all in --report-json)")
        width = max(len(g) for g, _ in shown)
        for g, n in shown:
            lines.append(f"  {g:<{width}}  {n:,}")
    for kept, dropped in plan.duplicate_examples[:3]:
        lines.append(f"  duplicate: {stats.inputs[dropped.source]}:{dropped.line} = "
                     f"{stats.inputs[kept.source]}:{kept.line}")
    return "\n".join(lines)


def report_json(stats: ScanStats, plan: Plan, target: TargetRef | None, reject_file: str | None) -> dict[str, Any]:
    return {
        "inputs": stats.inputs, "lines": stats.lines, "unrelated": stats.unrelated, "rejected": stats.rejected,
        "reject_reasons": stats.reject_reasons, "reject_file": reject_file,
        "filtered_where": stats.filtered_where, "filtered_window": stats.filtered_window,
        "found": stats.found, "duplicates": plan.duplicates, "messages": len(plan.messages),
        "groups": dict(plan.groups.most_common()),
        "first_time": plan.first_time and format_time(plan.first_time),
        "last_time": plan.last_time and format_time(plan.last_time),
        "target": target and {"kind": target.kind, "name": target.name, "fifo": target.fifo},
        "fingerprint": plan.fingerprint,
    }


def summary_text(outcome: Outcome, state: State, stats: ScanStats, plan: Plan, target: TargetRef,
                 reject_file: str | None, checkpoint_path: str) -> str:
    earlier = state.sent - outcome.sent
    lines = [f"recovery into {target.kind} {target.name}"]
    lines.append(f"  sent           {state.sent:,}" + (f"  (this run {outcome.sent:,}, earlier runs {earlier:,})"
                                                       if earlier else ""))
    lines.append(f"  deduplicated   {plan.duplicates:,}  duplicates in the logs, collapsed before sending")
    to_file = f"  → {reject_file}" if reject_file and stats.rejected else ""
    lines.append(f"  rejected       {stats.rejected:,}{to_file}")
    lines.append(f"  failed         {len(state.failures):,}")
    for f in state.failures[:10]:
        lines.append(f"    {f.source}:{f.line}  {f.reason}")
    if len(state.failures) > 10:
        lines.append(f"    … {len(state.failures) - 10:,} more in {checkpoint_path}")
    if outcome.retries:
        lines.append(f"  retries        {outcome.retries:,}")
    status = "complete" if state.complete else f"{state.done:,} of {state.total:,} done"
    lines.append(f"checkpoint       {checkpoint_path} ({status})")
    if outcome.aborted:
        lines.append(f"STOPPED: {outcome.aborted}\n  run the same command again to resume")
    elif outcome.interrupted:
        lines.append("INTERRUPTED: run the same command again to resume")
    return "\n".join(lines)
