"""KPIs on a hand-made day whose answers are worked out by hand, then the loader and the API."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import SYSTEM
from dispatch.config import LONDON
from dispatch.reports import charts, export, metrics
from dispatch.reports.types import DayRows, DeclineRow, ResponseRow, WorkerDay
from dispatch.services import audit, kpis
from tests.dispatch import factories as f


def at(hhmm: str, day: int = 1) -> datetime:
    """A time on 1 December 2026 (London is on UTC in December)."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2026, 12, day, hours, minutes, tzinfo=UTC)


AS_OF = at("22:00")


def nov30(hhmm: str) -> datetime:
    """A time on 30 November 2026, the recorded day of the database tests."""
    return at(hhmm) - timedelta(days=1)


def response(rid: int, category: str, received: str, deadline: datetime,
             arrived: datetime | None, team: str = "district_nurse",
             causes: tuple[tuple[datetime, str], ...] = ()) -> ResponseRow:
    return ResponseRow(referral_id=rid, network_id=1, category=category, received_at=at(received),
                       deadline=deadline, first_arrival=arrived, team=team, causes=causes,
                       visit_reference=str(1000 + rid))


@pytest.fixture
def day() -> DayRows:
    """The hand-made day (answers worked out in each test's docstring).

    2-hour: A 09:00 -> 10:00 (60 min, met); B 12:00 -> 14:30 (150, breached, late_arrival
    warned at 13:50); C 15:00 -> 16:30 (90, met, hybrid); D 21:00 out of hours (excluded);
    E 19:00, nobody by 22:00, deadline 21:00 (breached, unassigned warned at 19:15).
    24-hour: F 08:30 -> 12:30 (240, met); G 10:00 not yet, deadline tomorrow (pending);
    H 07:00 -> 18:00 (660, met).
    """
    u, d = "urgent_2h", "response_24h"
    return DayRows(
        responses=(
            response(1, u, "09:00", at("11:00"), at("10:00")),
            response(2, u, "12:00", at("14:00"), at("14:30"),
                     causes=((at("13:50"), "late_arrival"),)),
            response(3, u, "15:00", at("17:00"), at("16:30"), team="hybrid_worker"),
            response(4, u, "21:00", at("10:00", 2), at("09:00", 2)),
            response(5, u, "19:00", at("21:00"), None, team="unattended",
                     causes=((at("19:15"), "unassigned"),)),
            response(6, d, "08:30", at("08:30", 2), at("12:30"), team="hybrid_worker"),
            response(7, d, "10:00", at("10:00", 2), None, team="unattended"),
            response(8, d, "07:00", at("07:00", 2), at("18:00")),
        ),
        workers=(
            WorkerDay(1, "Nurse One", "district_nurse", 1, 480, 180, 60, 4),
            WorkerDay(2, "Hybrid Two", "hybrid_worker", 1, 420, 210, 105, 3),
        ),
        declines=(
            DeclineRow(at("11:00"), 1, "hybrid_worker", 2, "1002", "too far"),
            DeclineRow(at("12:00"), 1, "district_nurse", 1, "1003", "too far"),
            DeclineRow(at("13:00"), 1, "hybrid_worker", 2, "1005", "no reason given"),
        ),
        networks={1: ("HF-N1", "H&F North")},
    )


def test_two_hour_compliance_counts_in_hours_urgent_only(day: DayRows) -> None:
    """A, B, C, E are urgent in hours (D at 21:00 is not): 2 met of 4 decided = 50%."""
    summary = metrics.summarise(day, AS_OF)
    assert summary["urgent_2h"] == {"count": 4, "met": 2, "breached": 2, "pending": 0,
                                    "compliance": 0.5}
    assert summary["urgent_2h_out_of_hours"]["count"] == 1


def test_day_compliance_leaves_pending_out(day: DayRows) -> None:
    """F and H met, G still has time: 2 of 2 decided, 1 pending."""
    assert metrics.summarise(day, AS_OF)["response_24h"] == {
        "count": 2, "met": 2, "breached": 0, "pending": 1, "compliance": 1.0}


def test_median_and_nearest_rank_p90(day: DayRows) -> None:
    """2-hour 60, 90, 150: median 90, p90 the 3rd = 150. 24-hour 240, 660: median 450, p90
    660. Out of hours: D's 720. All six: median (150 + 240) / 2 = 195, p90 the 6th = 720."""
    times = metrics.summarise(day, AS_OF)["response_minutes"]
    assert times["urgent_2h"] == {"n": 3, "median": 90, "p90": 150}
    assert times["response_24h"] == {"n": 2, "median": 450, "p90": 660}
    assert times["urgent_2h_out_of_hours"] == {"n": 1, "median": 720, "p90": 720}
    assert times["all"] == {"n": 6, "median": 195, "p90": 720}


def test_breaches_name_their_causes(day: DayRows) -> None:
    """B arrived 30 min late after a late_arrival warning; E is an hour past its deadline with
    nobody there, warned as unassigned."""
    summary = metrics.summarise(day, AS_OF)
    found = {b["referral_id"]: (b["cause"], b["minutes_late"]) for b in summary["breaches"]}
    assert found == {2: ("late_arrival", 30.0), 5: ("unassigned", 60.0)}
    assert {b["line"] for b in summary["breaches"]} == {"urgent_2h"}
    assert summary["breach_causes"] == {"late_arrival": 1, "unassigned": 1}


@pytest.mark.safety("H-008")
def test_out_of_hours_urgent_referrals_have_their_own_line_and_breaches(day: DayRows) -> None:
    """Issue 13, hazard 8: urgent referrals received 20:00-08:00 were in no figure and no
    breach list. Now D (21:00, met by its 10:00 deadline), I (22:30, nobody by its 00:30
    deadline, warned unassigned at 23:00) and J (06:00, arrived 08:45 for an 08:00 deadline,
    no warning) make their own line: 1 met of 3 decided; I and J are listed as breaches with
    their causes, marked out of hours, and in-hours 2-hour compliance is unchanged."""
    u = "urgent_2h"
    late_evening = ResponseRow(
        referral_id=9, network_id=1, category=u, received_at=at("22:30"),
        deadline=at("00:30", 2), first_arrival=None, visit_reference="1009",
        causes=((at("23:00"), "unassigned"),))
    early = ResponseRow(
        referral_id=10, network_id=1, category=u, received_at=at("06:00"),
        deadline=at("08:00"), first_arrival=at("08:45"), team="district_nurse",
        visit_reference="1010")
    rows = DayRows(responses=(*day.responses, late_evening, early), networks=day.networks)

    summary = metrics.summarise(rows, at("01:00", 2))

    assert summary["urgent_2h_out_of_hours"] == {"count": 3, "met": 1, "breached": 2,
                                                 "pending": 0, "compliance": 0.3333}
    assert summary["urgent_2h"] == metrics.summarise(day, at("01:00", 2))["urgent_2h"]
    ooh = {b["referral_id"]: (b["cause"], b["minutes_late"], b["line"])
           for b in summary["breaches"] if b["out_of_hours"]}
    assert ooh == {9: ("unassigned", 30.0, "urgent_2h_out_of_hours"),
                   10: ("late_arrival", 45.0, "urgent_2h_out_of_hours")}
    assert summary["breach_causes"]["unassigned"] == 2
    team = {t["team"]: t for t in metrics.report(rows, at("01:00", 2))["networks"][0]["teams"]}
    assert team["unattended"]["urgent_2h_out_of_hours"]["breached"] == 1


def test_every_referral_is_in_exactly_one_line(day: DayRows) -> None:
    """The CSV says which compliance line each referral counts in; urgent ones are in hours or
    out of hours, never neither (the hole hazard 8 was)."""
    assert [metrics.line(r) for r in day.responses] == [
        "urgent_2h", "urgent_2h", "urgent_2h", "urgent_2h_out_of_hours", "urgent_2h",
        "response_24h", "response_24h", "response_24h"]
    text = export.to_csv(day, table="responses", as_of=AS_OF)
    assert ",line," in text.split("\r\n")[0] and text.count("urgent_2h_out_of_hours") == 1


def test_breach_cause_fallbacks() -> None:
    """No warning: a decline names it; else late arrival, or not attended at all."""
    late = response(1, "urgent_2h", "09:00", at("11:00"), at("11:30"))
    assert metrics.breach_cause(late) == "late_arrival"
    assert metrics.breach_cause(response(2, "urgent_2h", "09:00", at("11:00"), None)) == \
        "not_attended"
    declined = ResponseRow(**{**late.__dict__, "declined": 1})
    assert metrics.breach_cause(declined) == "declined"


def test_utilisation_and_travel_per_visit(day: DayRows) -> None:
    """Nurse (180+60)/480 = 0.5, 15 min a visit; hybrid (210+105)/420 = 0.75, 35 a visit;
    overall 555/900 = 0.6167 and 165/7 = 23.6 min a visit."""
    result = metrics.utilisation(day.workers)
    by_name = {w["name"]: (w["utilisation"], w["travel_minutes_per_visit"])
               for w in result["workers"]}
    assert by_name == {"Nurse One": (0.5, 15.0), "Hybrid Two": (0.75, 35.0)}
    assert (result["overall"], result["travel_minutes_per_visit"]) == (0.6167, 23.6)


def test_declines_counted_by_reason(day: DayRows) -> None:
    """Two 'too far', one without a reason, most common first."""
    result = metrics.declines(day.declines)
    assert result["count"] == 3
    assert list(result["by_reason"].items()) == [("too far", 2), ("no reason given", 1)]


def test_team_split(day: DayRows) -> None:
    """District nurses attended A and B first (1 of 2); the unattended E is its own group."""
    report = metrics.report(day, AS_OF)
    teams = {t["team"]: t for t in report["networks"][0]["teams"]}
    assert list(teams) == ["district_nurse", "hybrid_worker", "unattended"]
    assert teams["district_nurse"]["urgent_2h"]["compliance"] == 0.5
    assert teams["hybrid_worker"]["urgent_2h"]["met"] == 1
    assert teams["unattended"]["urgent_2h"]["breached"] == 1


def test_nearest_rank_edges() -> None:
    """One value is every percentile; ten values put p90 on the 9th."""
    assert metrics.nearest_rank([7.0], 0.9) == 7.0
    assert metrics.nearest_rank([float(i) for i in range(1, 11)], 0.9) == 9.0
    assert metrics.nearest_rank([], 0.9) is None


def test_route_travel_minutes_sums_legs() -> None:
    """Base, two visits, back to base: three legs."""
    points = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (0.0, 0.0)]
    assert metrics.route_travel_minutes(points, lambda a, b: abs(a[0] - b[0]) * 10) == 40


def test_csv_names_the_network_and_uses_london_time(day: DayRows) -> None:
    """Each row names its network as well as its id, and times are on the London clock."""
    text = export.to_csv(day, table="responses", as_of=AS_OF,
                         network_names={day.responses[0].network_id: "H&F North"})
    header, first = text.split("\r\n")[:2]
    row = dict(zip(header.split(","), first.split(","), strict=True))
    assert row["network"] == "H&F North"
    received = datetime.fromisoformat(row["received_at"])
    assert received.utcoffset() == LONDON.utcoffset(received.replace(tzinfo=None))


def test_csv_has_one_row_per_referral_and_defuses_formulas(day: DayRows) -> None:
    """The responses table has a header and one row per referral; a reason starting with '='
    is written as text, not as a spreadsheet formula."""
    text = export.to_csv(day, table="responses", as_of=AS_OF)
    lines = text.strip().split("\r\n")
    assert lines[0].startswith("network_id,network,team,referral_id")
    assert len(lines) == 1 + len(day.responses)
    evil = DayRows(declines=(DeclineRow(at("11:00"), 1, "x", 1, "1", "=HYPERLINK(1)"),))
    assert "'=HYPERLINK(1)" in export.to_csv(evil, table="declines", as_of=AS_OF)


@pytest.mark.parametrize("name", charts.CHARTS)
def test_charts_are_self_contained_svg(day: DayRows, name: str) -> None:
    """Each chart is an SVG with its title and no external font or link."""
    svg = charts.render(name, day, as_of=AS_OF, label="Tue 01 Dec 2026")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "@font-face" not in svg and "http://fonts" not in svg and "<image" not in svg
    assert charts.render(name, DayRows(), as_of=AS_OF, label="empty")  # empty day draws too


# -- the loader and the API ----------------------------------------------------------------

DAY_BEFORE = "2026-11-30"


class FlatTravel:
    """Ten minutes between any two different places (a verified-by-hand fake provider)."""

    def matrix(self, origins: Sequence[tuple[float, float]],
               destinations: Sequence[tuple[float, float]], mode: str = "car") -> list[list[int]]:
        return [[0 if o == d else 600 for d in destinations] for o in origins]


@pytest.fixture
def recorded(session: so.Session) -> dict[str, object]:
    """30 November: a nurse on 08:00-16:00 with a 30-minute break; referral 1 met (arrived
    10:00, done 10:45), referral 2 late (arrived 14:30, done 15:00, warned late_arrival at
    13:50); one decline ('too far') and one booking outside the timeframe."""
    net = f.network(session)
    base = f.base(session, network_id=net.id)
    nurse = f.staff(session, network_id=net.id, base_id=base.id)
    session.add(m.Shift(code="s1", staff_id=nurse.id, base_id=base.id, starts_at=nov30("08:00"),
                        ends_at=nov30("16:00"),
                        breaks=[{"start": nov30("12:00").isoformat(),
                                 "end": nov30("12:30").isoformat()}]))
    p1 = f.patient(session, network_id=net.id, lat=51.512, lon=-0.225)
    p2 = f.patient(session, network_id=net.id, nhs_number="9434765870", lat=51.52, lon=-0.21)
    visits = []
    for i, (patient, received, arrived, done) in enumerate(
            ((p1, "09:00", "10:00", "10:45"), (p2, "12:00", "14:30", "15:00"))):
        ref = f.referral(session, patient.id, network_id=net.id, received_at=nov30(received),
                         deadline=nov30(received) + timedelta(hours=2), status="completed")
        visits.append(f.visit(
            session, ref.id, patient.id, reference=f"90{i}", network_id=net.id,
            status="completed", outcome="visit_completed", assigned_staff_id=nurse.id,
            pinned=True, arrived_at=nov30(arrived), completed_at=nov30(done),
            earliest_start=nov30(received), deadline=nov30(received) + timedelta(hours=2)))
    for action, when, details in (
            ("visit_jeopardy", "13:50", {"cause": "late_arrival"}),
            ("decline_visit", "12:10", {"staff_id": nurse.id, "reason": "too far"}),
            ("booking_outside_timeframe", "12:20", {
                "visit_reference": "901", "reason": "family", "approval_required": True,
                "approved_by": {"name": "Dr A", "role": "GP"}})):
        audit.record(session, actor=SYSTEM, action=action, now=nov30(when),
                     entity=("visit", visits[1].id), details=details)
    session.commit()
    return {"network": net, "nurse": nurse}


def test_day_rows_reads_what_happened(session: so.Session, recorded: dict[str, object]) -> None:
    """Rostered 480 - 30 = 450 min; on site 45 + 30 = 75; travel base -> p1 -> p2 -> base =
    3 legs of 10 min; the late referral's cause comes from the audit trail."""
    rows = kpis.day_rows(session, day=datetime(2026, 11, 30).date(), now=at("10:20"),
                         provider=FlatTravel())  # type: ignore[arg-type]
    worker = rows.workers[0]
    assert (worker.shift_minutes, worker.visit_minutes, worker.travel_minutes, worker.visits) \
        == (450, 75, 30, 2)
    late = next(r for r in rows.responses if r.first_arrival == nov30("14:30"))
    assert late.causes == ((nov30("13:50"), "late_arrival"),) and late.team == "district_nurse"
    assert [d.reason for d in rows.declines] == ["too far"]
    assert rows.bookings[0].approved_by == "Dr A (GP)"


def test_api_kpis_json_csv_and_charts(
    client: FlaskClient, token_for: Callable[..., dict[str, str]],
    recorded: dict[str, object],
) -> None:
    """The manager reads the day per network and team, downloads the CSV and each chart."""
    headers = token_for("manager")
    body = client.get(f"/api/kpis?date={DAY_BEFORE}", headers=headers).json
    network = body["networks"][0]
    assert network["summary"]["urgent_2h"] == {"count": 2, "met": 1, "breached": 1,
                                               "pending": 0, "compliance": 0.5}
    assert [t["team"] for t in network["teams"]] == ["district_nurse"]
    csv = client.get(f"/api/kpis.csv?date={DAY_BEFORE}&table=responses", headers=headers)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert len(csv.get_data(as_text=True).strip().split("\r\n")) == 3
    assert "9434765919" not in csv.get_data(as_text=True)
    for name in charts.CHARTS:
        svg = client.get(f"/api/kpis/charts/{name}.svg?date={DAY_BEFORE}", headers=headers)
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert client.get("/api/kpis/charts/pie.svg", headers=headers).status_code == 404
    assert client.get("/api/kpis", headers=token_for("field_staff")).status_code == 403
