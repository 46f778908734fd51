"""Pages for practices, multidisciplinary groups and coordinators' caseloads (issue 16).

The practices page names no patient (counts only) and is not audited against a patient; the
caseload sizes page likewise. A coordinator's own caseload (``dispatch.web.caseload``) names
patients and audits each one.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import sqlalchemy as sa
from flask import render_template

from dispatch.db import get_session
from dispatch.models import GpPractice, Network, PracticeRegistration, User
from dispatch.services import practices as service
from dispatch.web.common import bp


@bp.get("/practices")
def practices_page() -> str:
    """Every network's GP practices (with how many patients each has registered) and groups."""
    session = get_session()
    networks = list(session.scalars(sa.select(Network).order_by(Network.name)))
    by_network: dict[int, list[GpPractice]] = defaultdict(list)
    for practice in service.list_practices(session):
        by_network[practice.network_id].append(practice)
    groups: dict[int, list[object]] = defaultdict(list)
    managers: dict[int, str] = {}
    for group in service.list_groups(session):
        groups[group.network_id].append(group)
        if group.manager_user_id:
            manager = session.get(User, group.manager_user_id)
            managers[group.id] = manager.display_name if manager else ""
    registered: Counter[int] = Counter()
    for practice_id, count in session.execute(
            sa.select(PracticeRegistration.practice_id, sa.func.count())
            .group_by(PracticeRegistration.practice_id)):
        registered[practice_id] = count
    session.commit()
    return render_template("integrated/practices.html", networks=networks,
                           practices_by_network=by_network, groups_by_network=groups,
                           managers=managers, registered=registered)


@bp.get("/caseloads")
def caseloads_page() -> str:
    """Each coordinator's caseload by risk tier; top-tier patients with no coordinator."""
    session = get_session()
    rows = service.caseloads(session)
    uncoordinated = service.uncoordinated_count(session)
    session.commit()
    return render_template("integrated/caseloads.html", coordinators=rows,
                           uncoordinated=uncoordinated)
