"""The PostgreSQL store's named queries (``queries.sql``)."""

from __future__ import annotations

from postroom.store.sql import load_queries

Q = load_queries("postroom.store.postgres")
