"""A demo-like server with something on every page, and the list of every page a role may open
(no tests here; used by the accessibility test).

The pages are read from the app's own URL map and permission table, so a page added later is
visited without anyone remembering to list it: its path parameters are filled from the seeded
rows by name (``visit_id``, ``reference``, ``patient_id``...). A page with a parameter not known
here makes :func:`pages_for` fail, naming it, rather than be skipped in silence.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from tests.browser.board_day import add_open_visits
from tests.browser.support import FIXED_NOW

#: GET endpoints that are not pages a person reads (JSON for scripts, downloads, redirects,
#: files).
NOT_PAGES = frozenset({
    "web.vendor", "web.nhsuk_assets", "web.favicon", "web.index", "web.board_data",
    "web.messages_data",
    "web.audit_csv", "web.kpi_csv", "web.kpi_chart",
})
#: Path parameters of pages (carers, case conferences, groups, onward referrals, capacity runs)
#: whose rows the small demo may not hold: such a page is skipped when there is no row, not
#: failed. Seeding them is still to do.
UNSEEDED = frozenset({"carer_id", "conference_id", "group_id", "onward_id", "run_id"})
#: Extra states of a page worth their own check (query strings the pages link to).
VARIANTS = {
    "web.board": ("?network=all",),
    "web.new_referral": ("?register=1", "?patient={patient_id}"),
}
#: The same page for other rows (path parameter -> the seeded id to use instead).
OTHER_ROWS = {
    "web.visit_page": ({"reference": "reference_on_site"}, {"reference": "reference_completed"}),
    "web.board_visit": ({"visit_id": "assigned_visit_id"},),
}


@dataclass
class EveryPage:
    """The server's address, the demo sign-ins (role -> (username, password)) and the ids
    that fill path parameters."""

    base: str
    sign_ins: dict[str, tuple[str, str]]
    ids: dict[str, Any]
    app: Any = field(repr=False)


def start(tmp_path_factory: Any) -> Iterator[EveryPage]:
    """Load the demo (a small register) with open visits, a logged referral, a package and
    a field worker's visits in three states; serve it on a free port."""
    from werkzeug.serving import make_server

    from dispatch import create_app
    from dispatch.db import get_database
    from dispatch.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('every-page-db') / 'dispatch.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests", "FIXED_NOW": FIXED_NOW,
                      "PLANS_IN_BACKGROUND": False})
    sign_ins, ids = _seed(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="every-page", daemon=True)
    thread.start()
    try:
        yield EveryPage(f"http://127.0.0.1:{server.server_port}", sign_ins, ids, app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        get_database(app).dispose()


def _seed(app: Any) -> tuple[dict[str, tuple[str, str]], dict[str, Any]]:
    import sqlalchemy as sa

    from dispatch import models as m
    from dispatch.actors import Actor
    from dispatch.api.schemas import ReferralCreateSchema
    from dispatch.db import get_database
    from dispatch.demo.load import load_demo
    from dispatch.services import packages, referrals, tariffs

    now = datetime.fromisoformat(FIXED_NOW)
    database = get_database(app)
    summary = load_demo(database.engine, seed=5, patients=200, now=now)
    sign_ins = {u.role: (u.username, u.password) for u in summary.users}
    with database.session_scope() as session:
        add_open_visits(session, now=now, count=40)
        worker = session.scalars(sa.select(m.User).where(m.User.role == "field_staff")).one()
        handler = session.scalars(sa.select(m.User).where(m.User.role == "call_handler")).one()
        made = referrals.create_referral(
            session, actor=Actor(handler.id, handler.username, "call_handler"), now=now,
            command=ReferralCreateSchema().load({
                "source": "111", "referrer": {"name": "Ann Handler"}, "received_at": FIXED_NOW,
                "patient_id": session.scalars(sa.select(m.Patient.id)).first(),
                "needs": ["fall_no_injury"], "red_flags": [],
                "observations": {"respiration_rate": 22, "pulse": 95}}))
        referral = made.referral
        ids: dict[str, Any] = {"referral_id": referral.id, "patient_id": referral.patient_id,
                               "nhs_number": session.get(m.Patient, referral.patient_id).nhs_number}
        ids.update(_worker_visits(session, worker.staff_id, now))
        some_visit = session.scalars(sa.select(m.Visit).where(
            m.Visit.status == "unassigned").order_by(m.Visit.id)).first()
        assert some_visit is not None
        ids["visit_id"] = some_visit.id
        ids["network_id"] = some_visit.network_id
        ids["staff_id"] = worker.staff_id
        tariffs.ensure_default_tariff(session, date(2026, 12, 1))
        coordinator = session.scalars(sa.select(m.User).where(m.User.role == "coordinator")).one()
        actor = Actor(coordinator.id, coordinator.username, "coordinator")
        package = packages.create_package(
            session, patient_id=referral.patient_id, start_date=date(2026, 12, 1),
            end_date=None, lines=[packages.LineRequest("home_care_hour", 7, 4)], actor=actor,
            now=now)
        packages.submit_package(session, package_id=package.id, actor=actor, now=now)
        ids["package_id"] = package.id
        ids["user_id"] = worker.id
        for name, model in (("carer_id", m.Carer), ("conference_id", m.CaseConference),
                            ("group_id", m.MdGroup), ("onward_id", m.OnwardReferral)):
            row_id = session.scalars(sa.select(model.id).order_by(model.id)).first()
            if row_id is not None:
                ids[name] = row_id
    return sign_ins, ids


def _worker_visits(session: Any, staff_id: int, now: datetime) -> dict[str, Any]:
    """Give the demo field worker an offered visit, one on site and one done this morning."""
    import sqlalchemy as sa

    from dispatch import models as m

    shift = session.scalars(sa.select(m.Shift).where(
        m.Shift.staff_id == staff_id, m.Shift.starts_at <= now,
        m.Shift.ends_at > now)).first()
    assert shift is not None, "the demo field worker is not on shift at FIXED_NOW"
    network_id = session.get(m.Staff, staff_id).network_id
    rows = session.scalars(sa.select(m.Visit).where(
        m.Visit.status.in_(("offered", "accepted")), m.Visit.network_id == network_id).order_by(
        m.Visit.id.desc()).limit(3)).all()
    refs = {}
    for visit, status, offset in zip(rows, ("offered", "on_site", "completed"), (60, 0, -90),
                                     strict=True):
        visit.assigned_staff_id, visit.shift_id = staff_id, shift.id
        visit.planned_start = now + timedelta(minutes=offset)
        visit.status = status
        visit.pinned = status != "offered"
        visit.offered_at = now - timedelta(minutes=100)
        if status in ("on_site", "completed"):
            visit.accepted_at = visit.arrived_at = now + timedelta(minutes=offset - 5)
        if status == "completed":
            visit.completed_at = now - timedelta(minutes=40)
            visit.outcome = "visit_completed"
        refs[status] = visit.reference
    session.flush()
    return {"reference": refs["offered"], "reference_on_site": refs["on_site"],
            "reference_completed": refs["completed"], "assigned_visit_id": rows[0].id}


def pages_for(app: Any, role: str, ids: dict[str, Any]) -> list[str]:
    """Every HTML page ``role`` may GET, with its path parameters filled in (and variants).

    Raises
    ------
    KeyError
        A page has a path parameter this module cannot fill: add it to the seed.
    """
    from dispatch.permissions import allowed, rule_for

    paths: list[str] = ["/sign-in"] if role == "anonymous" else []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("web.") or rule.endpoint in NOT_PAGES:
            continue
        if "GET" not in (rule.methods or ()):
            continue
        permission = rule_for(rule.endpoint, "GET")
        if permission is None or not allowed(permission, role) or rule.endpoint == "web.sign_in":
            continue
        missing = [a for a in rule.arguments if a not in ids]
        if missing and set(missing) <= UNSEEDED:
            continue  # the demo has no such row yet (see UNSEEDED)
        if missing:
            raise KeyError(f"{rule.endpoint} ({rule.rule}) needs {missing}: seed them")
        with app.test_request_context():
            from flask import url_for

            path = url_for(rule.endpoint, **{a: ids[a] for a in rule.arguments})
            others = [url_for(rule.endpoint, **{a: ids[other.get(a, a)] for a in rule.arguments})
                      for other in OTHER_ROWS.get(rule.endpoint, ())]
        paths.append(path)
        paths.extend(path + v.format(**ids) for v in VARIANTS.get(rule.endpoint, ()))
        paths.extend(others)
    return paths
