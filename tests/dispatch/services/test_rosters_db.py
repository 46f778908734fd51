"""Roster CSV import/export through the database, the API and the CLI: all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.cli import main
from tests.dispatch import factories as f

HEADER = ("staff_id,name,role,skills,phone,network,base,travel_mode,shift_id,shift_start,"
          "shift_end,shift_base,breaks\n")
GOOD = HEADER + (
    "dn-1,Ada Nurse,district_nurse,wound_care;catheter_care,07700 900101,HF-N1,W12,car,"
    "sh-1,2026-12-01T08:00,2026-12-01T16:00,,12:30-13:00\n"
    "hw-1,Bo Hybrid,hybrid_worker,personal_care,07700 900102,HF-N1,W12,bicycle,"
    "sh-2,2026-12-01T14:00,2026-12-01T22:00,,\n"
)


def _count(session: so.Session, model: type) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def test_roster_import_api_stores_staff_and_shifts(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """A good file creates staff, shifts and a base at the W12 district centre."""
    f.network(session)
    session.commit()
    response = client.post("/api/rosters/import", data=GOOD.encode(),
                           headers={**token_for("coordinator"), "Content-Type": "text/csv"})
    assert response.status_code == 200, response.json
    assert response.json == {"staff_created": 2, "staff_updated": 0,
                             "shifts_created": 2, "shifts_updated": 0, "tier_warnings": []}
    nurse = session.scalar(sa.select(m.Staff).where(m.Staff.code == "dn-1"))
    assert nurse is not None and nurse.phone == "+447700900101"
    shift = session.scalar(sa.select(m.Shift).where(m.Shift.code == "sh-1"))
    assert shift is not None and len(shift.breaks) == 1


def _moderate_personal_care(session: so.Session, network_id: int, reference: str) -> None:
    """A moderate-risk patient's 24-hour personal care, 15:00-20:00 on the roster's day (only
    GOOD's hybrid worker holds personal care, and she serves very high and high risk)."""
    patient = f.patient(session, network_id=network_id, risk_tier="moderate")
    ref = f.referral(session, patient.id, network_id=network_id)
    f.visit(session, ref.id, patient.id, reference=reference, network_id=network_id,
            skills=["personal_care"], category="response_24h", priority=3,
            earliest_start=f.NOW + timedelta(hours=6), deadline=f.NOW + timedelta(hours=11))
    session.commit()


@pytest.mark.safety("H-232")
def test_roster_import_warns_when_the_tier_rules_leave_a_booked_visit_with_nobody(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """A moderate-risk patient's 24-hour personal care at 15:00-20:00: the file rosters only a
    hybrid worker with personal care (who serves very high and high risk by the seeds'
    defaults), so the import succeeds and says the visit has nobody (H-232-C2)."""
    net = f.network(session)
    _moderate_personal_care(session, net.id, "2001")

    response = client.post("/api/rosters/import", data=GOOD.encode(),
                           headers={**token_for("coordinator"), "Content-Type": "text/csv"})

    assert response.status_code == 200, response.json
    assert response.json["tier_warnings"] == [
        f"{net.name}: 1 booked visit (2001) has nobody on the roster allowed to serve it "
        "under these tier rules"]


def test_roster_import_bad_lines_change_nothing(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """Every bad line is reported with its line and column, and nothing is written."""
    f.network(session)
    session.commit()
    bad = HEADER + (
        "dn-1,Ada Nurse,surgeon,wound_care,07700 900101,HF-N1,W12,car,sh-1,2026-12-01T08:00,"
        "2026-12-01T16:00,,\n"
        "hw-1,Bo Hybrid,hybrid_worker,personal_care,12345,HF-N1,W12,car,sh-2,2026-12-01T14:00,"
        "2026-12-01T10:00,,\n"
    )
    response = client.post("/api/rosters/import", data=bad.encode(),
                           headers={**token_for("coordinator"), "Content-Type": "text/csv"})
    assert response.status_code == 422
    errors = response.json["errors"]
    assert any(r.startswith("role:") for r in errors["line 2"])
    assert any(r.startswith("phone:") for r in errors["line 3"])
    assert _count(session, m.Staff) == 0 and _count(session, m.Shift) == 0


def test_roster_import_unknown_network_refused(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """A network the database does not know is a line error too; nothing is written."""
    response = client.post("/api/rosters/import", data=GOOD.encode(),
                           headers={**token_for("admin"), "Content-Type": "text/csv"})
    assert response.status_code == 422
    assert "unknown network" in response.json["errors"]["line 2"][0]
    assert _count(session, m.Staff) == 0


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


def test_roster_cli_round_trip(cli_db: str, tmp_path: Path) -> None:
    """import then export gives a file that parses to the same roster."""
    from rosters import parse_roster_csv

    source = tmp_path / "in.csv"
    source.write_text(GOOD)
    result = CliRunner().invoke(main, ["roster", "import", str(source)])
    assert result.exit_code == 0, result.output
    assert "staff: 2 new" in result.output
    out = tmp_path / "out.csv"
    assert CliRunner().invoke(main, ["roster", "export", str(out)]).exit_code == 0
    original, exported = parse_roster_csv(GOOD), parse_roster_csv(out.read_text())
    assert {s.id for s in exported.staff} == {s.id for s in original.staff}
    assert {(s.id, s.start, s.end, s.breaks) for s in exported.shifts} == {
        (s.id, s.start, s.end, s.breaks) for s in original.shifts}


def test_roster_cli_import_warns_of_visits_the_tier_rules_leave_with_nobody(
        cli_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The import succeeds (exit 0) and says on stderr which booked visit has nobody: a
    moderate-risk patient's personal care, which only the imported hybrid worker holds."""
    from dispatch.cli import roster as roster_cli
    from dispatch.db import make_engine

    engine = make_engine(cli_db)
    with so.Session(engine) as session:
        net = session.scalars(sa.select(m.Network)).one()
        _moderate_personal_care(session, net.id, "2002")
    engine.dispose()
    monkeypatch.setattr(roster_cli, "now", lambda: f.NOW)  # the roster's day, not today
    source = tmp_path / "in.csv"
    source.write_text(GOOD)

    result = CliRunner().invoke(main, ["roster", "import", str(source)])

    assert result.exit_code == 0, result.output
    assert "staff: 2 new" in result.stdout
    assert "Warning: H&F North: 1 booked visit (2002) has nobody" in result.stderr


def test_roster_cli_bad_file_exits_2(cli_db: str, tmp_path: Path) -> None:
    """A bad file prints each line's problem and exits 2."""
    source = tmp_path / "bad.csv"
    source.write_text(HEADER + "x,,district_nurse,,,HF-N1,W12,car,,,,,\n")
    result = CliRunner().invoke(main, ["roster", "import", str(source)])
    assert result.exit_code == 2
    assert "line 2" in result.output and "nothing was imported" in result.output


def test_triage_cli_prints_disposition(tmp_path: Path) -> None:
    """`dispatch triage FILE` prints the API's disposition shape."""
    import json

    path = tmp_path / "t.json"
    path.write_text(json.dumps({"received_at": "2026-12-01T10:00:00+00:00",
                                "red_flags": ["chest_pain"]}))
    result = CliRunner().invoke(main, ["triage", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["category"] == "emergency_999"
    assert {"category", "deadline", "priority", "skills", "news2", "reasons"} <= set(data)


@pytest.mark.parametrize("text", ["{not json", '{"needs": ["teleport"]}'])
def test_triage_cli_bad_input_exits_2(tmp_path: Path, text: str) -> None:
    """Invalid JSON or invalid fields: a message and exit status 2."""
    path = tmp_path / "t.json"
    path.write_text(text)
    result = CliRunner().invoke(main, ["triage", str(path)])
    assert result.exit_code == 2 and "error:" in result.output


def test_shifts_api_create_and_list_with_breaks(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """A shift with a break is created and listed back (found by fuzzing: listing used to 500)."""
    net = f.network(session)
    base = f.base(session, network_id=net.id)
    member = f.staff(session, network_id=net.id, base_id=base.id)
    session.commit()
    headers = token_for("coordinator")
    body = {"code": "sh-x", "staff_id": member.id, "base_id": base.id,
            "starts_at": "2026-12-01T08:00:00+00:00", "ends_at": "2026-12-01T16:00:00+00:00",
            "breaks": [{"start": "2026-12-01T12:00:00+00:00", "end": "2026-12-01T12:30:00+00:00"}]}
    created = client.post("/api/shifts", json=body, headers=headers)
    assert created.status_code == 201, created.json
    listed = client.get("/api/shifts?start=2026-12-01T00:00:00Z", headers=headers)
    assert listed.status_code == 200
    assert listed.json[0]["breaks"][0]["start"].startswith("2026-12-01T12:00")
    overlap = client.post("/api/shifts", json={**body, "code": "sh-y"}, headers=headers)
    assert overlap.status_code == 422 and "overlaps" in str(overlap.json["errors"])
    outside = {**body, "code": "sh-z", "starts_at": "2026-12-02T08:00:00+00:00",
               "ends_at": "2026-12-02T16:00:00+00:00"}
    bad_break = client.post("/api/shifts", json=outside, headers=headers)
    assert bad_break.status_code == 422
