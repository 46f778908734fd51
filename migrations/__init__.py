"""Alembic migrations, installed as ``dispatch.migrations`` (see pyproject ``package-dir``)."""
