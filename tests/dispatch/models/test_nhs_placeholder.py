"""The database refuses a placeholder NHS number (hazard H-017, control C2), and the migration
that adds the rule turns a stored placeholder into a patient to trace instead of failing."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.db import make_engine
from dispatch.migrate import alembic_config, upgrade
from tests.dispatch import factories as f


@pytest.mark.safety("H-017")
def test_migration_traces_stored_placeholders_and_the_database_refuses_new_ones(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'placeholder.sqlite3'}"
    command.upgrade(alembic_config(url), "0031_lead")
    engine = make_engine(url)
    with so.Session(engine) as session:
        placeholder = f.patient(session, nhs_number="0000000000").id
        real = f.patient(session, nhs_number="9434765919", family_name="Real").id
        f.referral(session, real)  # a child row: SQLite's table copy must not delete it (H-062)
        session.commit()

    upgrade(url)
    with engine.connect() as conn:  # the name-and-birthday index survives SQLite's table copy
        assert conn.execute(sa.text(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
            "name = 'ix_patients_family_name_lower_dob'")).scalar_one() == 1
    with so.Session(engine) as session:
        traced = session.get(m.Patient, placeholder)
        assert traced is not None
        assert (traced.nhs_number, traced.nhs_number_status) == (None, "not_known")
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Referral)) == 1
        kept = session.get(m.Patient, real)
        assert kept is not None and kept.nhs_number == "9434765919"
        with (pytest.raises(sa.exc.IntegrityError, match="not_placeholder"),
              session.begin_nested()):
            session.execute(sa.text("UPDATE patients SET nhs_number = '5555555555', "
                                    "nhs_number_status = 'present' WHERE id = :id"),
                            {"id": real})
    engine.dispose()
