"""Schema changes, only ever through Alembic.

The scripts live in the repository's top-level ``migrations/`` folder, which is installed as the
``dispatch.migrations`` package (setup.py maps it), so a checkout (editable install) and an
installed wheel find them the same way: through :mod:`importlib.resources`.
"""

from __future__ import annotations

from contextlib import ExitStack
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

_resources = ExitStack()


def migrations_dir() -> Path:
    """The folder holding ``env.py`` and ``versions/`` (a real folder: Alembic needs paths)."""
    traversable = resources.files("dispatch.migrations")
    # as_file is a no-op for a normal install or a checkout; it extracts from a zipped install.
    return Path(_resources.enter_context(resources.as_file(traversable)))


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and at ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Create or upgrade the schema at ``url`` to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def heads() -> tuple[str, ...]:
    """The newest revision(s) the installed scripts know."""
    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current(url: str) -> str | None:
    """The revision the database at ``url`` is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    from dispatch.database import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
