"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from dispatch.db import make_engine
from dispatch.migrate import alembic_config, current, upgrade
from dispatch.models import Base


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, Base.metadata))
    finally:
        engine.dispose()


def test_migrations_equal_models(database_url: str) -> None:
    """After `upgrade head` autogenerate finds nothing to change (this run's database)."""
    assert _diff(database_url) == []


def test_migrations_apply_to_empty_sqlite(tmp_path: Path) -> None:
    """A brand-new SQLite file is brought to head and matches the models."""
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    assert current(url) is None
    upgrade(url)
    assert current(url) == _head()
    assert _diff(url) == []


def test_migrations_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    """Downgrade to base removes every table; upgrading again restores the schema."""
    from alembic import command

    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    try:
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    upgrade(url)
    assert _diff(url) == []


def test_upgrade_is_idempotent(database_url: str) -> None:
    """Running `db upgrade` on an up-to-date database changes nothing."""
    upgrade(database_url)
    assert current(database_url) == _head()


def _head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head
