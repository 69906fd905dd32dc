"""Open the store a ``--store`` URL names.

``sqlite:///path/to/file.db`` (or none: ``<data dir>/postroom.db``) is the embedded
store; ``postgresql://user@host:port/db[?schema=name]`` is the shared one.
"""

from __future__ import annotations

from pathlib import Path

from postroom.store.base import Store


def is_postgres(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("postgresql://", "postgres://"))


def sqlite_path(url: str | None, data_dir: Path) -> Path:
    if not url:
        return data_dir / "postroom.db"
    if not url.startswith("sqlite:///"):
        raise ValueError(f"unsupported store URL {url!r}: use sqlite:///path or postgresql://…")
    return Path(url[len("sqlite:///"):] or str(data_dir / "postroom.db"))


async def open_store(url: str | None, data_dir: Path, durability: str = "full") -> Store:
    if is_postgres(url):
        from postroom.store.postgres.store import PostgresStore

        assert url is not None
        return await PostgresStore.open(url)
    from postroom.store.sqlite.store import SqliteStore

    path = sqlite_path(url, data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteStore(path, durability)
