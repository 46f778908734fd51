"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings
from datetime import date
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
        with engine.connect() as conn, warnings.catch_warnings():
            # SQLite's reflection skips expression indexes (ix_patients_family_name_lower_dob,
            # lower(family_name)); test_name_search_index_exists checks that one directly.
            warnings.filterwarnings("ignore", message=".*expression-based index.*")
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


def test_name_search_index_exists_and_is_used(database_url: str) -> None:
    """The handler's search by name uses ix_patients_family_name_lower_dob, not a scan of the
    whole register (issue 18 part 6: a sequential scan of 9 million patients)."""
    from dispatch.models import Patient

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:  # (SQLite's reflection skips expression indexes)
            names = set(conn.scalars(sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'patients'"
                if engine.dialect.name == "sqlite" else
                "SELECT indexname FROM pg_indexes WHERE tablename = 'patients'")))
        assert "ix_patients_family_name_lower_dob" in names
        query = (sa.select(Patient.id)
                 .where(sa.func.lower(Patient.family_name) == "bloggs",
                        Patient.date_of_birth == date(1940, 1, 1)))
        compiled = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                plan = " ".join(str(r[-1]) for r in conn.execute(
                    sa.text(f"EXPLAIN QUERY PLAN {compiled}")))
            else:
                conn.execute(sa.text("SET enable_seqscan = off"))
                plan = " ".join(r[0] for r in conn.execute(sa.text(f"EXPLAIN {compiled}")))
        assert "ix_patients_family_name_lower_dob" in plan, plan
    finally:
        engine.dispose()


def test_every_london_borough_is_allowed_after_the_boroughs_migration(tmp_path: Path) -> None:
    """Issue 18: a London deployment has networks in all 33 local authorities. Before the
    migration the check knew the tri-borough's three; at head each of the 33 is stored,
    anything else is refused, and the two lists agree with the model's vocabulary."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from dispatch.models.vocab import BOROUGHS, LONDON_BOROUGHS, TRI_BOROUGHS

    url = f"sqlite:///{tmp_path / 'boroughs.sqlite3'}"
    scripts = ScriptDirectory.from_config(alembic_config(url))
    boroughs = next(s for s in scripts.walk_revisions()
                    if s.revision.endswith("_production")
                    and "London borough" in (s.module.__doc__ or ""))
    before = boroughs.down_revision
    assert isinstance(before, str)
    command.upgrade(alembic_config(url), before)
    engine = make_engine(url)

    def insert(conn: sa.Connection, code: str, borough: str) -> None:
        conn.execute(sa.text("INSERT INTO networks (code, name, borough, plan_generation) "
                             "VALUES (:c, :c, :b, 0)"), {"c": code, "b": borough})

    try:
        with engine.begin() as conn:
            insert(conn, "TRI", "Kensington & Chelsea")
        try:
            with engine.begin() as conn:
                insert(conn, "CAM", "Camden")
            raise AssertionError(f"{before} took Camden")
        except sa.exc.IntegrityError:
            pass
        upgrade(url)
        with engine.begin() as conn:
            for i, name in enumerate(BOROUGHS):
                insert(conn, f"N{i}", name)
        for bad in ("Camden Town", "Hammersmith and Fulham", "Surrey"):
            try:
                with engine.begin() as conn:
                    insert(conn, "BAD", bad)
                raise AssertionError(f"{bad!r} stored")
            except sa.exc.IntegrityError:
                pass
    finally:
        engine.dispose()
    assert len(BOROUGHS) == len(set(BOROUGHS)) == 33
    assert [code for code, _ in LONDON_BOROUGHS] == [f"E090000{i:02d}" for i in range(1, 34)]
    assert set(TRI_BOROUGHS) <= set(BOROUGHS)
    assert all(len(name) <= 40 for name in BOROUGHS)  # networks.borough is String(40)
