"""The whole flow as users run it — every command a real ``postroom`` subprocess, against postroom
and against moto's server: one file, two environments (staging, and prod marked protected) with
different names; plan → checklist → approve → apply; verify reports hand-made drift; export of the
live state plans to no changes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.endpoints import Endpoint
from tests.topology.conftest import invoke, run_cli


def spec_text(p: str) -> str:
    return f"""version: 1
variables:
  env: dev
environments:
  staging:
    variables: {{env: stg}}
    scope: ["{p}stg-*"]
  prod:
    variables: {{env: prod}}
    scope: ["{p}prod-*"]
    protected: true
queues:
  {p}${{env}}-billing-dlq: {{}}
  {p}${{env}}-billing:
    visibility_timeout: 40
    dlq: {p}${{env}}-billing-dlq
    max_receive_count: 4
    tags: {{team: billing, env: "${{env}}"}}
topics:
  {p}${{env}}-orders:
    display_name: Orders
subscriptions:
  - topic: {p}${{env}}-orders
    queue: {p}${{env}}-billing
    raw: true
consumers:
  billing: {{queue: "{p}${{env}}-billing", receives: ["{p}${{env}}-orders"]}}
producers:
  checkout: {{publishes: ["{p}${{env}}-orders"]}}
checks:
  - {{check: QUEUE-POLICY, resource: "*", severity: "off", reason: "postroom and moto do not enforce policies"}}
"""


def test_full_flow_two_environments(endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    p = prefix
    spec = tmp_path / "postroom.yaml"
    spec.write_text(spec_text(p))

    # staging: not protected, creates only → no approval needed
    stg_plan = tmp_path / "staging.json"
    r = run_cli(endpoint, "plan", "-f", str(spec), "--env", "staging", "-o", str(stg_plan), "--author", "dana")
    assert r.code == 2, r.text
    assert f"+ create queue {p}stg-billing-dlq" in r.out and f"+ create subscription {p}stg-orders" in r.out
    assert f"{p}prod-" not in r.out, "one environment's plan never touches the other's names"
    r = run_cli(endpoint, "apply", str(stg_plan), "--by", "dana")
    assert r.code == 0, r.text

    # prod: protected → the subscription change needs someone else's approval
    prod_plan = tmp_path / "prod.json"
    r = run_cli(endpoint, "plan", "-f", str(spec), "--env", "prod", "-o", str(prod_plan), "--author", "dana")
    assert r.code == 2, r.text
    assert f"{p}prod-billing" in r.out and f"{p}stg-" not in r.out, "staging's resources are out of prod's scope"
    r = invoke(endpoint, "apply", str(prod_plan), "--by", "dana")
    assert r.code == 1 and "needs an approval by someone other than the author dana" in r.err, r.text
    assert "protected environment prod" in r.err
    r = invoke(endpoint, "approve", str(prod_plan), "--by", "dana")
    assert r.code == 1 and "dana wrote this plan" in r.err, "self-approval is refused"

    checklist = tmp_path / "prod.md"
    r = run_cli(endpoint, "checklist", str(prod_plan), "-o", str(checklist))
    assert r.code == 0, r.text
    md = checklist.read_text()
    assert "# Change checklist — prod (protected)" in md
    assert f"create subscription `{p}prod-orders → sqs:{p}prod-billing`" in md
    assert "## Watch afterwards" in md and "## Roll back" in md and "**Missing:**" in md
    if endpoint.name == "postroom":
        assert "/_postroom/accounting" in md, "postroom's accounting is named in what to watch"

    r = run_cli(endpoint, "approve", str(prod_plan), "--by", "erin", "--comment", "checked the route")
    assert r.code == 0, r.text
    assert json.loads(prod_plan.read_text())["approvals"][0]["by"] == "erin"
    r = run_cli(endpoint, "apply", str(prod_plan), "--by", "dana")
    assert r.code == 0, r.text

    # the checks below run in-process (click's CliRunner: the same command code, no interpreter start-up)
    for env in ("staging", "prod"):
        r = invoke(endpoint, "plan", "-f", str(spec), "--env", env)
        assert r.code == 0, f"{env}: {r.text}"
        r = invoke(endpoint, "verify", "-f", str(spec), "--env", env)
        assert r.code == 0, f"{env}: {r.text}"

    # drift: someone changes staging's queue by hand; verify reports it, prod is unaffected
    sqs = endpoint.client("sqs")
    sqs.set_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=f"{p}stg-billing")["QueueUrl"],
                             Attributes={"VisibilityTimeout": "5"})
    r = invoke(endpoint, "verify", "-f", str(spec), "--env", "staging")
    assert r.code == 1 and "drift: 1 difference" in r.out and f"queue {p}stg-billing" in r.out, r.text
    assert "VisibilityTimeout" in r.out
    assert invoke(endpoint, "verify", "-f", str(spec), "--env", "prod").code == 0
    r = invoke(endpoint, "plan", "-f", str(spec), "--env", "staging")
    assert r.code == 2 and f"~ update queue {p}stg-billing" in r.out and "VisibilityTimeout" in r.out, r.text

    # export → plan of the exported file shows no changes
    exported = tmp_path / "exported.yaml"
    r = invoke(endpoint, "export", "-o", str(exported))
    assert r.code == 0, r.text
    assert f"{p}prod-billing" in exported.read_text()
    r = invoke(endpoint, "plan", "-f", str(exported))
    assert r.code == 0 and "No changes" in r.out, r.text
