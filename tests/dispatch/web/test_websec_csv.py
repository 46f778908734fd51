"""CSV formula injection (issue 20 item 10) in the files we hand out: /admin/audit.csv and
``dispatch roster export``. The cell rule itself is tested in tests/rosters/test_csv_cells.py."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import orm as so

from dispatch.cli import main
from dispatch.services.audit_view import CSV_COLUMNS
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_day import office_client

EVIL = '=HYPERLINK("https://evil.example","Open")'
HEADER = ("staff_id,name,role,skills,phone,network,base,travel_mode,shift_id,shift_start,"
          "shift_end,shift_base,breaks\n")


@pytest.mark.safety("H-082")
def test_audit_csv_request_id_from_client_cannot_become_formula(
    app: Flask, session: so.Session
) -> None:
    """The caller's X-Request-Id lands in the audit trail; in the CSV it is inert text."""
    client, _ = office_client(app, session, "admin")
    client.get("/admin/audit", headers={"X-Request-Id": "+cmd|' /C calc'!A0"})

    response = client.get("/admin/audit.csv?action=view_audit")

    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    request_ids = [row["request_id"] for row in rows]
    assert "'+cmd|' /C calc'!A0" in request_ids
    for row in rows:
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row.values())


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'roster.sqlite3'}"
    monkeypatch.setenv("DISPATCH_DATABASE_URL", url)
    monkeypatch.setenv("DISPATCH_INSTANCE_PATH", str(tmp_path))
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    from dispatch.db import make_engine

    engine = make_engine(url)
    with so.Session(engine) as session:
        f.network(session)
        session.commit()
    engine.dispose()
    return url


@pytest.mark.safety("H-082")
def test_roster_export_staff_name_formula_neutralised_and_reimports(
    cli_db: str, tmp_path: Path
) -> None:
    """A staff name that is a formula is exported with an apostrophe (the phone stays E.164)
    and importing that export again keeps the name and phone exactly."""
    source = tmp_path / "in.csv"
    source.write_text(HEADER + (
        f'dn-1,"{EVIL.replace(chr(34), chr(34) * 2)}",district_nurse,,07700 900101,HF-N1,W12,'
        "car,sh-1,2026-12-01T08:00,2026-12-01T16:00,,\n"))
    assert CliRunner().invoke(main, ["roster", "import", str(source)]).exit_code == 0
    out = tmp_path / "out.csv"

    assert CliRunner().invoke(main, ["roster", "export", str(out)]).exit_code == 0

    [row] = list(csv.DictReader(io.StringIO(out.read_text())))
    assert row["name"] == "'" + EVIL and row["phone"] == "+447700900101"
    again = CliRunner().invoke(main, ["roster", "import", str(out)])
    assert again.exit_code == 0, again.output
    from dispatch import models as m
    from dispatch.db import make_engine

    engine = make_engine(cli_db)
    with so.Session(engine) as session:
        [staff] = session.scalars(sa.select(m.Staff)).all()
        assert (staff.name, staff.phone) == (EVIL, "+447700900101")
    engine.dispose()
