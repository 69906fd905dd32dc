"""CLI: the topology commands (issue #5). Placeholder until the issue lands."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
