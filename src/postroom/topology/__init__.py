"""Topology as code (issue #5): a postroom.yaml declares queues, topics, subscriptions and who
consumes what; ``plan`` compares it with the live state read through the public SNS/SQS APIs and
runs the checks (MIGRATION-GAP and friends); ``approve`` binds a reviewer's approval to the plan's
content; ``apply`` executes exactly the saved plan in a safe order, resumably; ``verify`` reports
drift and probes routes; ``export`` adopts an existing setup.

Modules: ``model`` (the shared shape), ``loader``/``export``/``asyncapi`` (the file), ``live``
(reading the endpoint), ``diff`` (changes, in safe order), ``checks``/``verify``, ``planfile``
(the saved plan, fingerprint, approvals), ``apply``, ``checklist``.
"""
