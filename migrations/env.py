"""Alembic environment: the URL comes from ``dispatch.migrate`` (never from alembic.ini).

This folder ships inside the wheel as ``dispatch.migrations`` (pyproject ``package-dir``), so an
installed release upgrades its own database. Revisions never import live model code: a revision
must keep meaning what it meant when written, whatever the models become. Autogenerate renders
our column types as plain SQLAlchemy types (see ``_render_item``) to keep it so.
"""

from __future__ import annotations

from alembic import context

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


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
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
