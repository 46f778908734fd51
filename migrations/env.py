"""Alembic environment: the URL comes from ``dispatch.migrate`` (never from alembic.ini).

This folder ships inside the wheel as ``dispatch.migrations`` (pyproject ``package-dir``), so an
installed release upgrades its own database. Revisions never import live model code: a revision
must keep meaning what it meant when written, whatever the models become. Autogenerate renders
our column types as plain SQLAlchemy types (see ``_render_item``) to keep it so.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from dispatch.db import make_engine
from dispatch.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Connection) -> None:
    """Run the migrations; on SQLite with foreign keys off while they run.

    Why: SQLite cannot alter a constraint, so batch mode rebuilds the table (copy, drop,
    rename), and dropping a parent table with ``PRAGMA foreign_keys=ON`` deletes its children
    through ``ON DELETE CASCADE`` (adding a unique constraint to ``users`` emptied
    ``user_networks``). Alembic's advice: turn the checks off for the migration (the pragma
    only takes effect outside a transaction, which is why it is set before the migration
    transaction begins), then check the foreign keys are whole before turning them back on.
    """
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _pragma(connection, "PRAGMA foreign_keys=OFF")
    try:
        _migrate(connection)
        if sqlite:
            broken = _pragma(connection, "PRAGMA foreign_key_check")
            if broken:
                raise RuntimeError(f"the migration left rows with broken foreign keys: "
                                   f"{broken[:5]}")
    finally:
        if sqlite:
            _pragma(connection, "PRAGMA foreign_keys=ON")


def _pragma(connection: Connection, sql: str) -> list[Any]:
    """Run a pragma on the DB-API connection itself: through SQLAlchemy it would begin a
    transaction first (dispatch.database emits BEGIN IMMEDIATE), where SQLite ignores
    ``foreign_keys``."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER constraints; batch mode rebuilds tables
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Render ``UTCDateTime`` as ``sa.DateTime(timezone=True)`` (what it stores), not as an
    import of ``dispatch.models.base``."""
    from dispatch.models.base import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `dispatch db upgrade`")
run_migrations_online()
