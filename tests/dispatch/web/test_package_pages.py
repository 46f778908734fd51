"""Care package pages (issue 14): the list (waiting for my decision first), building a package
from the tariff with the cost worked out by the server, submit, and the home page's list of
packages waiting for a decision."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_day import office_client

NHS = "9434765919"


def _patient(session: so.Session) -> m.Patient:
    network = f.network(session)
    patient = f.patient(session, nhs_number=NHS, given_name="Joe", family_name="Bloggs",
                        network_id=network.id, lat=51.512, lon=-0.225)
    session.commit()
    return patient


def _form(action: str, hours: str = "10", weeks: str = "6") -> dict[str, str]:
    return {"nhs_number": "943 476 5919", "start_date": "2026-12-07", "end_date": "",
            "code_0": "home_care_hour", "units_0": hours, "weeks_0": weeks, "action": action}


def test_work_out_the_cost_shows_it_and_saves_nothing(app: Flask, session: so.Session) -> None:
    """10 hours a week for 6 weeks at £33.50: £335.00 a week, £2,010.00 in all, approved by a
    coordinator; nothing stored."""
    _patient(session)
    client, _ = office_client(app, session, "coordinator")

    page = client.post("/packages/new", data=_form("quote")).get_data(as_text=True)

    assert "Weekly <strong>£335.00</strong>, in total <strong>£2,010.00</strong>" in page
    assert 'id="quote-approver">coordinator<' in page
    assert session.query(m.CarePackage).count() == 0


def test_save_and_send_then_the_manager_sees_it_first(app: Flask, session: so.Session) -> None:
    """Above the coordinator's £5,000: saved and sent, it waits for a manager, who finds it on
    their home page and first in their list, with the patient and builder by name."""
    _patient(session)
    coordinator, _ = office_client(app, session, "coordinator")

    saved = coordinator.post("/packages/new", data=_form("submit", hours="14", weeks="12"))

    assert saved.status_code == 303
    package = session.query(m.CarePackage).one()
    assert package.status == "submitted" and package.total_cost_pence == 562_800
    manager, _ = office_client(app, session, "manager")
    home = manager.get("/home").get_data(as_text=True)
    assert "1 care package waiting for your decision" in home
    listing = manager.get("/packages").get_data(as_text=True)
    first = listing.split('id="packages-decide"')[1].split("</table>")[0]
    assert f"Package {package.id}" in first and "Joe BLOGGS" in first
    assert "Test coordinator" in first
    assert "28 Feb 2027" in first  # 12 weeks from Monday 7 December 2026
    assert "waiting for your decision" not in coordinator.get("/board").get_data(as_text=True)


def test_the_coordinators_board_lists_packages_waiting_for_them(
    app: Flask, session: so.Session,
) -> None:
    """Within the coordinator's limit, a submitted package is linked from their board (their
    home page) and their /home."""
    _patient(session)
    coordinator, _ = office_client(app, session, "coordinator")
    coordinator.post("/packages/new", data=_form("submit"))

    board = coordinator.get("/board").get_data(as_text=True)

    assert "1 care package waiting for your decision" in board
    assert "1 care package waiting for your decision" in coordinator.get("/home").get_data(
        as_text=True)


def test_bad_lines_are_422_with_the_field(app: Flask, session: so.Session) -> None:
    """No patient number, and a line without numbers: 422 naming each field; nothing stored."""
    client, _ = office_client(app, session, "coordinator")

    answer = client.post("/packages/new", data={**_form("draft", hours="lots"),
                                                "nhs_number": ""})

    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'href="#nhs_number"' in page and 'href="#units_0"' in page
    assert session.query(m.CarePackage).count() == 0


def test_draft_submit_then_activate_and_end_from_the_page(app: Flask,
                                                          session: so.Session) -> None:
    """A draft is sent from its page; once approved it starts and ends from its page."""
    _patient(session)
    client, _ = office_client(app, session, "coordinator")
    client.post("/packages/new", data=_form("draft"))
    package = session.query(m.CarePackage).one()

    assert client.post(f"/packages/{package.id}/submit").status_code == 303
    assert client.post(f"/packages/{package.id}/approve", data={}).status_code == 303
    assert client.post(f"/packages/{package.id}/activate").status_code == 303
    session.expire_all()
    assert session.get(m.CarePackage, package.id).status == "active"  # type: ignore[union-attr]
    assert client.post(f"/packages/{package.id}/end").status_code == 303
    session.expire_all()
    assert session.get(m.CarePackage, package.id).status == "ended"  # type: ignore[union-attr]


def test_a_draft_is_changed_and_priced_again(app: Flask, session: so.Session) -> None:
    """Change the draft's 10 hours a week to 12: the form opens filled in as saved; saved, the
    package costs £402.00 a week (£2,412.00 for 6 weeks), and a submitted one cannot change."""
    _patient(session)
    client, _ = office_client(app, session, "coordinator")
    client.post("/packages/new", data=_form("draft"))
    package = session.query(m.CarePackage).one()

    form = client.get(f"/packages/{package.id}/edit").get_data(as_text=True)
    assert 'name="units_0" type="text" inputmode="decimal" value="10"' in form
    assert "in total <strong>£2,010.00</strong>" in form
    saved = client.post(f"/packages/{package.id}/edit", data=_form("draft", hours="12"))

    assert saved.status_code == 303
    session.expire_all()
    changed = session.get(m.CarePackage, package.id)
    assert changed is not None and changed.total_cost_pence == 241_200
    assert [i.units_per_week for i in changed.items] == [12.0]
    client.post(f"/packages/{package.id}/submit")
    refused = client.post(f"/packages/{package.id}/edit", data=_form("draft", hours="1"))
    assert refused.status_code == 303
    session.expire_all()
    assert session.get(m.CarePackage, package.id).total_cost_pence == 241_200  # type: ignore[union-attr]


def test_the_package_list_finds_packages_by_the_patients_name(
    app: Flask, session: so.Session,
) -> None:
    """"joe bloggs" lists Joe's package only; "Ann Smith" none, with a way back to all; a
    name too long to be one is a 422 on the search box."""
    _patient(session)
    other = f.patient(session, nhs_number="9434765870", given_name="Ann", family_name="Jones",
                      network_id=session.query(m.Network).one().id)
    session.commit()
    coordinator, _ = office_client(app, session, "coordinator")
    coordinator.post("/packages/new", data=_form("draft"))
    coordinator.post("/packages/new", data={**_form("draft"), "nhs_number": "943 476 5870"})
    joes, anns = (session.query(m.CarePackage).filter_by(patient_id=p).one().id
                  for p in (session.query(m.Patient).filter_by(family_name="Bloggs").one().id,
                            other.id))

    page = coordinator.get("/packages?patient=joe+bloggs").get_data(as_text=True)

    assert f"Package {joes}<" in page and f"Package {anns}<" not in page
    assert "Packages for patients called <strong>joe bloggs</strong>" in page
    nobody = coordinator.get("/packages?patient=Ann+Smith").get_data(as_text=True)
    assert f"Package {joes}<" not in nobody and "Show every package" in nobody
    too_long = coordinator.get("/packages?patient=" + "x" * 81)
    assert too_long.status_code == 422
    assert 'id="patient-error"' in too_long.get_data(as_text=True)


def test_a_package_with_six_items_is_built_with_add_another_item(
    app: Flask, session: so.Session,
) -> None:
    """Four rows at first; "Add another item" adds a fifth and a sixth (nothing saved);
    saved with six items, all six are kept, and its edit form shows all six plus a spare."""
    _patient(session)
    client, _ = office_client(app, session, "coordinator")
    codes = ["home_care_hour", "reablement_visit", "medication_visit", "therapy_session",
             "carer_respite_hour", "telecare"]
    data = {"nhs_number": "943 476 5919", "start_date": "2026-12-07", "end_date": ""}

    first = client.get("/packages/new").get_data(as_text=True)
    assert 'id="code_3"' in first and 'id="code_4"' not in first
    for n, code in enumerate(codes[:4]):
        data.update({f"code_{n}": code, f"units_{n}": "1", f"weeks_{n}": "4"})
    more = client.post("/packages/new", data={**data, "rows": "4", "action": "add_line"})
    assert more.status_code == 200 and 'id="code_5"' in more.get_data(as_text=True)
    assert session.query(m.CarePackage).count() == 0
    for n, code in enumerate(codes[4:], start=4):
        data.update({f"code_{n}": code, f"units_{n}": "1", f"weeks_{n}": "4"})
    saved = client.post("/packages/new", data={**data, "rows": "6", "action": "draft"})

    assert saved.status_code == 303, saved.get_data(as_text=True)
    package = session.query(m.CarePackage).one()
    assert len(package.items) == 6
    edit = client.get(f"/packages/{package.id}/edit").get_data(as_text=True)
    assert 'id="code_6"' in edit and 'value="telecare" selected' in edit
