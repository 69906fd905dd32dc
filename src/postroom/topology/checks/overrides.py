"""Per-resource tuning of checks (``checks:`` in postroom.yaml), applied in one place.

An override names a check, a resource — a queue or topic name, a subscription as
``topic → queue-or-url`` (``topic → sqs:queue`` is accepted too), a consumer's name, or ``*`` —
a severity (``off`` silences) and a reason. It applies to a finding of that check that names the
resource among its resources. The most specific override wins: one naming a resource beats ``*``;
among equals the later one in the file wins. A silenced finding is not dropped silently: it is
returned with the override so that plan and verify can list it with its reason. An override
without a reason is not applied (the loader rejects it; this is the guard for hand-built values).
"""

from __future__ import annotations

from dataclasses import replace

from postroom.topology.model import CheckOverride, Finding


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
            kept.append(replace(f, severity=o.severity,
                                message=f"{f.message} [severity {f.severity} → {o.severity}: {o.reason}]"))
    return kept, silenced
