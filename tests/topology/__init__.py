"""Tests of topology as code (issue #5): plan, approve, apply, verify, checklist, export."""
