"""CLI: consume (issue #7). Placeholder until the issue lands; replaced by the real commands."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
