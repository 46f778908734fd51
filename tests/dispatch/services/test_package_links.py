"""Package lines as care is delivered (issue 15): two staff a visit, "then X within N-M
minutes", "at least N hours apart"; visits created linked; nonsense refused with 422."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import Actor
from dispatch.errors import InvalidInput
from dispatch.services import packages as svc
from dispatch.services import pairs
from tests.dispatch.services.test_packages import NOW, _user, priced  # noqa: F401  (fixture)

COORD = Actor(None, "coord", "coordinator")


def _active(session: so.Session, patient: m.Patient, *lines: svc.LineRequest) -> list[m.Visit]:
    package = svc.create_package(session, patient_id=patient.id, start_date=date(2026, 12, 2),
                                 end_date=None, lines=list(lines), actor=COORD, now=NOW)
    manager = _user(session, "manager")
    svc.submit_package(session, package_id=package.id, actor=manager, now=NOW)
    svc.approve_package(session, package_id=package.id, actor=manager, now=NOW)
    return svc.activate_package(session, package_id=package.id, actor=COORD, now=NOW)


def test_two_staff_line_makes_each_visit_a_linked_pair(
    session: so.Session, priced: m.Patient  # noqa: F811
) -> None:
    """A week of daily hoist calls with two staff: 7 visits, 7 second halves, each pair linked
    double-handed; the line costs two workers' time; the package counts 7 visits."""
    visits = _active(session, priced, svc.LineRequest("home_care_hour", 7, 1, staff=2))
    assert len(visits) == 14
    links = pairs.links_among(session, [v.id for v in visits])
    assert len(links) == 7 and {ln.kind for ln in links} == {"double_handed"}
    package = session.get(m.CarePackage, visits[0].package_id)
    assert package is not None and package.weekly_cost_pence == 2 * 7 * 3_350
    assert svc.describe(session, package).visit_count == 7


def test_follow_on_line_is_linked_to_its_leader_each_day(
    session: so.Session, priced: m.Patient  # noqa: F811
) -> None:
    """Medication prompt daily, then personal care 30-60 minutes later: each day's care visit
    is linked to that day's prompt with the gap, and its window follows the prompt's."""
    visits = _active(session, priced, svc.LineRequest("medication_visit", 7, 1),
                     svc.LineRequest("home_care_hour", 7, 1, follows=0, follow_min_minutes=30,
                                     follow_max_minutes=60))
    links = pairs.links_among(session, [v.id for v in visits])
    assert len(links) == 7
    by_id = {v.id: v for v in visits}
    for link in links:
        first, second = by_id[link.first_visit_id], by_id[link.second_visit_id]
        assert (link.kind, link.min_gap_minutes, link.max_gap_minutes, link.workers) == (
            "follow_on", 30, 60, "any")
        assert first.skills == ["medication_prompt"] and second.skills == ["personal_care"]
        assert second.earliest_start == first.earliest_start + timedelta(minutes=30)
        assert second.deadline == first.deadline + timedelta(minutes=60)


def test_spacing_moves_a_days_later_windows_apart(
    session: so.Session, priced: m.Patient  # noqa: F811
) -> None:
    """Three calls a day at least 5 hours apart: each window opens 5 hours after the one
    before it closes (08-10, then 15-17, then 22-24 London)."""
    visits = _active(session, priced, svc.LineRequest("medication_visit", 21, 1,
                                                      min_spacing_hours=5))
    first_day = sorted((v for v in visits if v.earliest_start.date() == date(2026, 12, 2)),
                       key=lambda v: v.earliest_start)
    assert [(v.earliest_start.hour, v.deadline.hour) for v in first_day] == [
        (8, 10), (15, 17), (22, 0)]


@pytest.mark.parametrize(("line", "field"), [
    ({"follows": 0, "follow_min_minutes": 60, "follow_max_minutes": 30}, "items.1.follow_gap"),
    ({"follows": 0, "follow_min_minutes": -5, "follow_max_minutes": 30},
     "items.1.follow_min_minutes"),
    ({"follows": 1, "follow_min_minutes": 0, "follow_max_minutes": 30}, "items.1.follows"),
    ({"follows": 7, "follow_min_minutes": 0, "follow_max_minutes": 30}, "items.1.follows"),
    ({"follow_min_minutes": 0, "follow_max_minutes": 30}, "items.1.follows"),
    ({"follows": 0, "follow_min_minutes": 0, "follow_max_minutes": 30, "staff": 2},
     "items.1.follows"),
    ({"staff": 3}, "items.1.staff"),
    ({"min_spacing_hours": -1}, "items.1.min_spacing_hours"),
], ids=["min_above_max", "negative", "itself", "no_such_item", "gap_without_item",
        "two_staff_follow", "three_staff", "negative_spacing"])
def test_api_refuses_nonsense_links_with_422(
    client: FlaskClient, token_for: Callable[..., dict[str, str]],
    priced: m.Patient, line: dict[str, int], field: str,  # noqa: F811
) -> None:
    """Each nonsense setting is a 422 naming the field; nothing is written."""
    body = {"patient_id": priced.id, "start_date": "2026-12-02", "items": [
        {"tariff_code": "medication_visit", "units_per_week": 7, "weeks": 1},
        {"tariff_code": "home_care_hour", "units_per_week": 7, "weeks": 1, **line}]}
    response = client.post("/api/packages", json=body, headers=token_for("coordinator"))
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    flat = {f"{k}.{n}.{leaf}" for k, v in errors.get("json", {}).items()
            for n, inner in (v.items() if isinstance(v, dict) else [])
            for leaf in (inner if isinstance(inner, dict) else {})}
    assert field in errors or field in flat, errors


def test_api_shows_the_links_of_a_line(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    priced: m.Patient,  # noqa: F811
) -> None:
    """The package's lines say their staff, what they follow and their gap."""
    body = {"patient_id": priced.id, "start_date": "2026-12-02", "items": [
        {"tariff_code": "medication_visit", "units_per_week": 7, "weeks": 1},
        {"tariff_code": "home_care_hour", "units_per_week": 7, "weeks": 1, "follows": 0,
         "follow_min_minutes": 30, "follow_max_minutes": 60}]}
    created = client.post("/api/packages", json=body, headers=token_for("coordinator"))
    assert created.status_code == 201, created.json
    first, second = created.json["items"]
    assert second["follows_item_id"] == first["id"]
    assert (second["follow_min_minutes"], second["follow_max_minutes"], second["staff"]) == (
        30, 60, 1)
    assert session.scalar(sa.select(sa.func.count()).select_from(m.CarePackageItem)) == 2


def test_service_refuses_a_follow_chain(session: so.Session, priced: m.Patient) -> None:  # noqa: F811
    """A line that follows another cannot itself be followed (a visit has one link)."""
    with pytest.raises(InvalidInput) as found:
        svc.create_package(session, patient_id=priced.id, start_date=date(2026, 12, 2),
                           end_date=None, actor=COORD, now=NOW, lines=[
                               svc.LineRequest("medication_visit", 7, 1),
                               svc.LineRequest("home_care_hour", 7, 1, follows=0,
                                               follow_min_minutes=0, follow_max_minutes=30),
                               svc.LineRequest("reablement_visit", 7, 1, follows=1,
                                               follow_min_minutes=0, follow_max_minutes=30)])
    assert "items.2.follows" in found.value.errors or "items.1.follows" in found.value.errors
