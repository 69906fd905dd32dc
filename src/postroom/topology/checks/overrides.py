"""Per-resource tuning of checks (``checks:`` in postroom.yaml), applied in one place.

An override names a check, a resource — a queue or topic name, a subscription as
``topic → queue-or-url`` (``topic → sqs:queue`` is accepted too), a consumer's name, or ``*`` —
a severity (``off`` silences) and a reason. It applies to a finding of that check that names the
resource among its resources. The most specific override wins: one naming a resource beats ``*``;
among equals the later one in the file wins. A silenced finding is not dropped silently: it is
returned with the override so that plan and verify can list it with its reason. An override
without a reason is not applied (the loader rejects it; this is the guard for hand-built values).

A lost route (ROUTE-LOSS, MIGRATION-GAP) — and any other ``error`` finding of DESTRUCTIVE, such as
deleting a queue that holds messages — is accepted only resource by resource: an override on ``*``
does not apply to it (the loader refuses ``*`` for the route checks outright).
"""

from __future__ import annotations

from dataclasses import replace

from postroom.topology.model import CheckOverride, Finding
from postroom.topology.schema import ROUTE_CHECKS

NAMED_ONLY = ROUTE_CHECKS | {"DESTRUCTIVE"}
"""Checks whose error findings a ``*`` override cannot tune or silence."""


def _norm(resource: str) -> str:
    if " → " in resource:
        topic, _, rest = resource.partition(" → ")
        proto, sep, endpoint = rest.partition(":")
        if sep and proto == "sqs":
            rest = endpoint
        return f"{topic.strip()} → {rest.strip()}"
    return resource.strip()


def override_for(finding: Finding, overrides: tuple[CheckOverride, ...]) -> CheckOverride | None:
    resources = {_norm(r) for r in finding.resources}
    specific: CheckOverride | None = None
    wildcard: CheckOverride | None = None
    for o in overrides:
        if o.check != finding.check or not o.reason.strip():
            continue
        if o.resource.strip() == "*":
            if not (finding.check in NAMED_ONLY and finding.severity == "error"):
                wildcard = o
        elif _norm(o.resource) in resources:
            specific = o
    return specific or wildcard


def apply_overrides(findings: list[Finding], overrides: tuple[CheckOverride, ...]
                    ) -> tuple[list[Finding], list[tuple[Finding, CheckOverride]]]:
    kept: list[Finding] = []
    silenced: list[tuple[Finding, CheckOverride]] = []
    for f in findings:
        o = override_for(f, overrides)
        if o is None:
            kept.append(f)
        elif o.severity == "off":
            silenced.append((f, o))
        else:
            note = f"[{o.reason}]" if o.retire else f"[severity {f.severity} → {o.severity}: {o.reason}]"
            kept.append(replace(f, severity=o.severity, message=f"{f.message} {note}", accepted=o.reason))
    return kept, silenced
