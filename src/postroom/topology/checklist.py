"""``postroom checklist plan.json``: the plan as a Markdown checklist for the human review of the
change — first what blocks it and the routes it changes (route, before, after; lost routes first),
then what changes (destructive steps first, in bold), the findings, the approvals, what to watch
once it is applied, and how to roll it back.

The incident behind postroom was a hand-made change that dropped one subscriber and that no one
else looked at; this page is what the second pair of eyes reads, and what the person applying
ticks off.
"""

from __future__ import annotations

from typing import Any

from postroom.topology.model import Change
from postroom.topology.planfile import Plan, approval_problems, approval_reason


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fmt(doc: dict[str, Any] | None) -> str:
    """A create's or delete's fields: ``VisibilityTimeout=30, dlq=billing-dlq, tags={team=billing}``."""
    parts: list[str] = []
    for key, value in (doc or {}).items():
        if key == "attributes":
            parts += [f"{k}={v}" for k, v in value.items()]
        elif key == "tags":
            if value:
                parts.append(f"tags={_value(value)}")
        elif value is not None and value is not False and not (key == "filter_scope" and value == "MessageAttributes"):
            parts.append(f"{key}={_value(value)}")
    return ", ".join(parts)


def _delta(before: dict[str, Any], after: dict[str, Any]) -> str:
    """An update's differences: ``VisibilityTimeout 30 → 60; tags {team=a} → {team=b}``."""
    parts: list[str] = []
    for key, value in after.items():
        if key == "attributes":
            old = before.get("attributes") or {}
            parts += [f"{k} {_value(old.get(k))} → {_value(v)}" for k, v in value.items()]
        else:
            parts.append(f"{key} {_value(before.get(key))} → {_value(value)}")
    return "; ".join(parts)


def describe(step: Change) -> str:
    """One line for a step: ``create queue billing.fifo (VisibilityTimeout=30, dlq=…)``."""
    if step.action == "update":
        detail = _delta(step.before or {}, step.after or {})
    elif step.action == "create":
        detail = _fmt(step.after)
    else:
        depth = (step.before or {}).get("depth") if step.kind == "queue" else None
        detail = f"holds {depth} message(s) at plan time" if depth else ""
    text = f"{step.action} {step.kind} `{step.name}`"
    return f"{text} ({detail})" if detail else text


def replacement_of(step: Change, plan: Plan) -> Change | None:
    """The created subscription that takes over a deleted one: same protocol and endpoint, or the
    endpoint's ``.fifo`` successor (the migration the incident was)."""
    protocol, endpoint = step.key[1], step.key[2]
    for c in plan.steps:
        if c.kind == "subscription" and c.action == "create" and c.key[1] == protocol \
                and c.key[2] in (endpoint, endpoint + ".fifo"):
            return c
    return None


def _inverse(step: Change) -> str:
    if step.action == "create":
        if step.kind == "queue":
            return f"delete queue `{step.name}` (after moving any messages it received since)"
        return f"delete {step.kind} `{step.name}`"
    if step.action == "update":
        return f"set {step.kind} `{step.name}` back to {_fmt(step.before) or 'its previous values'}"
    if step.kind == "queue":
        kept = {k: v for k, v in (step.before or {}).items() if k != "depth"}
        return f"recreate queue `{step.name}` with {_fmt(kept)} — **its messages cannot be restored**"
    if step.kind == "topic":
        return f"recreate topic `{step.name}` with {_fmt(step.before) or 'its attributes'} (and its subscriptions)"
    return f"subscribe `{step.name}` again with {_fmt(step.before) or 'default attributes'}"


def render_checklist(plan: Plan) -> str:
    lines: list[str] = []
    env = plan.environment or "default environment"
    lines += [f"# Change checklist — {env}{' (protected)' if plan.protected else ''}", "",
              f"- Plan `{plan.plan_hash[:12]}` by **{plan.author}**, {plan.created_at}",
              f"- From `{plan.file.get('path')}` (sha256 `{str(plan.file.get('sha256'))[:12]}`)",
              f"- Against `{plan.target.get('endpoint_url') or 'AWS'}`, region `{plan.target.get('region')}`, "
              f"account `{plan.target.get('account')}`", ""]

    if plan.blocking:
        lines += [f"## Blocking — apply will refuse this plan ({len(plan.blocking)})", ""]
        lines += [f"- **{f.check}**: {f.message} — fix: {f.fix}" for f in plan.blocking] + [""]
    if plan.routes:
        lines += [f"## Routes ({len(plan.routes)} changed)", "", "| | route | before | after |",
                  "| --- | --- | --- | --- |"]
        marks = {"lost": "**LOST**", "retired": "retired", "changed": "changed", "moved": "moved", "new": "new"}
        for r in plan.routes:
            cells = [marks.get(r["status"], r["status"]), f"`{r['route']}`", r["before"], r["after"]]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        lines.append("")

    destructive = [(i, s) for i, s in enumerate(plan.steps) if s.destructive]
    others = [(i, s) for i, s in enumerate(plan.steps) if not s.destructive]
    lines += [f"## What changes ({len(plan.steps)} step(s), applied in this order)", ""]
    if not plan.steps:
        lines += ["No changes: the live state already matches the file.", ""]
    if destructive:
        lines += ["### Destructive — read these first", ""]
        lines += [f"- [ ] **{i + 1}. DESTRUCTIVE: {describe(s)}**" for i, s in destructive] + [""]
    for kind, title in (("queue", "Queues"), ("topic", "Topics"), ("subscription", "Subscriptions")):
        group = [(i, s) for i, s in others if s.kind == kind]
        if group:
            lines += [f"### {title}", ""] + [f"- [ ] {i + 1}. {describe(s)}" for i, s in group] + [""]

    lines += ["## Findings", ""]
    if not plan.findings:
        lines.append("None.")
    for f in plan.findings:
        if f.severity == "error":
            continue  # listed under Blocking above
        lines.append(f"- **{f.severity} {f.check}**: {f.message} — fix: {f.fix}")
    for entry in plan.silenced:
        sf, so = entry["finding"], entry["override"]
        lines.append(f"- silenced {sf['check']} on `{so['resource']}`: {sf['message']} (reason: {so['reason']})")
    lines.append("")

    lines += ["## Approvals", ""]
    reason = approval_reason(plan)
    lines.append(f"Needed: {reason}." if reason else "Not required by the policy (no destructive step, "
                 "no subscription change in a protected environment).")
    for a in plan.approvals:
        ok = "" if a.plan_hash == plan.compute_hash() else " — **stale: approved different content**"
        lines.append(f"- approved by **{a.by}** at {a.at}{': ' + a.comment if a.comment else ''}{ok}")
    problems = approval_problems(plan)
    lines += [f"- **Missing:** {p}" for p in problems]
    lines += ["", f"- [ ] Reviewed by someone other than {plan.author}"]
    for i, s in enumerate(plan.steps):
        if s.kind == "topic" and s.action == "delete":
            lines.append(f"- [ ] Every publisher has moved off `{s.name}` before step {i + 1} deletes it (after it, "
                         "a publish to it fails with NotFound; before it, every old subscription still delivers)")
    lines += ["- [ ] Apply: `postroom apply PLAN.json --by YOUR-NAME`", ""]

    lines += ["## Watch afterwards", ""]
    watched = False
    for s in plan.steps:
        if s.kind == "subscription" and s.action == "create":
            watched = True
            target = f"queue `{s.key[2]}`'s depth (ApproximateNumberOfMessages)" if s.key[1] == "sqs" else \
                f"requests arriving at {s.key[2]} (and the subscription being confirmed)"
            lines.append(f"- [ ] `{s.key[0]}` → messages arrive: watch {target}")
        if s.kind == "subscription" and s.action == "delete":
            watched = True
            repl = replacement_of(s, plan)
            lines.append(f"- [ ] removed `{s.name}`: its replacement is " +
                         (f"`{repl.name}` — confirm it receives" if repl else "**none in this plan** — confirm no "
                          "one still needs these messages"))
    url = plan.target.get("accounting_url")
    if url:
        watched = True
        lines.append(f"- [ ] postroom accounting ({url}): per topic, *published while no subscription* stays 0; "
                     "per subscription, *delivered* grows and *failed* does not")
    if not watched:
        lines.append("- [ ] `postroom verify -f FILE` reports no drift")
    else:
        lines.append("- [ ] `postroom verify -f FILE --probe` confirms every declared route")
    lines.append("")

    lines += ["## Roll back", ""]
    if not plan.steps:
        lines.append("Nothing to roll back.")
    else:
        lines.append("Undo in reverse order. Queue deletions run last and cannot be undone (a deleted queue's "
                     "messages are lost): if anything looks wrong, roll back before they run.")
        lines.append("")
        lines += [f"{n}. {_inverse(s)}" for n, s in enumerate(reversed(plan.steps), 1)]
    lines.append("")
    return "\n".join(lines)
