"""Declarative base, naming conventions and column types shared by every model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so
from sqlalchemy.engine import Dialect

from dispatch.clock import wall_clock

# Named constraints make migrations reproducible and errors readable on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """An aware datetime stored as UTC.

    SQLite has no time zones, so a naive value read back would silently be "local". We refuse
    naive datetimes on the way in and return aware UTC datetimes on the way out, on every
    database, so that deadline arithmetic never mixes zones.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; times must carry a zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(so.DeclarativeBase):
    """Base of every ORM model."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime()}


def utcnow() -> datetime:
    """Default for audit timestamps (``created_at``); rules never call this, they take ``now``."""
    return wall_clock()


def in_list(column: str, values: tuple[str, ...]) -> str:
    """SQL text for a CHECK that ``column`` holds one of ``values``."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def created_at_column() -> so.Mapped[datetime]:
    return so.mapped_column(UTCDateTime(), default=utcnow, nullable=False)
