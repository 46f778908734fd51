"""Coordinators assigning, unassigning and pinning by hand, with the checks a planner would make.

Before saving, :func:`check_assignment` asks the questions the solver's hard constraints ask:
does the worker hold every skill, are they on shift then, can they be there before the
deadline (travel from their base with the configured travel model), are they already busy
then? Problems come back as warnings; the change is saved only when there are none or the
coordinator confirms.

No double-booking: every assignment (by hand or by the planner) first locks the worker's
``staff`` row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises writers anyway) and
re-checks the worker's other visits under that lock, travel between them included
(:mod:`dispatch.planning.invariants`, hazard H-013). Two coordinators changing the same visit
are told apart by its ``version`` (optimistic locking): the second gets a 409.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.actors import Actor
from dispatch.config import LONDON
from dispatch.errors import Conflict, NotFound
from dispatch.models import Absence, Patient, Shift, Staff, StaffBase, Visit
from dispatch.planning import invariants, jeopardy, pin_costs
from dispatch.planning.invariants import lock_worker
from dispatch.planning.jeopardy import moves_for
from dispatch.planning.problem import is_urgent
from dispatch.services import network_scope, pairs, strata, visit_actions
from routing.travel import TravelTimeProvider

#: Skill codes whose words are not just the code with spaces.
_SKILL_WORDS = {"iv_therapy": "IV therapy"}


def skill_name(code: str) -> str:
    """The skill in words: ``catheter_care`` -> "catheter care" (never the code)."""
    return _SKILL_WORDS.get(code, code.replace("_", " "))


def skill_names(codes: Iterable[str]) -> str:
    """Several skills in words, joined with commas and "and"."""
    names = [skill_name(c) for c in sorted(codes)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


#: How each absence reason reads (as dispatch.services.absence.REASON_WORDS).
ABSENCE_WORDS = {"sick": "off sick", "absent": "absent", "finishing_early": "finishing early"}


def hm(moment: datetime, now: datetime | None = None) -> str:
    """London wall-clock time, with the day when it is not ``now``'s day."""
    local = moment.astimezone(LONDON)
    if now is not None and local.date() != now.astimezone(LONDON).date():
        return f"{local:%a %d %b %H:%M}"
    return f"{local:%H:%M}"


@dataclass
class AssignmentCheck:
    warnings: list[str] = field(default_factory=list)
    shift: Shift | None = None
    #: Another booking of the worker's clashes: never saved, even confirmed.
    double_booked: bool = False

    @property
    def ok(self) -> bool:
        return not self.warnings


@dataclass(frozen=True)
class ManualResult:
    visit: Visit
    applied: bool
    warnings: tuple[str, ...]
    #: Refused outright (confirming would not help): the worker is booked elsewhere then.
    double_booked: bool = False
    #: What the pin costs: 2-hour visits it leaves unassigned, in words (also in warnings).
    costs: tuple[str, ...] = ()


def check_assignment(
    session: so.Session,
    *,
    visit: Visit,
    staff: Staff,
    start: datetime,
    provider: TravelTimeProvider,
    now: datetime | None = None,
) -> AssignmentCheck:
    """Warnings for assigning ``visit`` to ``staff`` at ``start`` (empty when it is fine).

    ``now`` places visits under way (default ``start``)."""
    check = AssignmentCheck()
    end = start + timedelta(minutes=visit.duration_minutes)
    missing = set(visit.skills) - set(staff.skills)
    if missing:
        check.warnings.append(f"{staff.name} lacks {skill_names(missing)}")
    if staff.id in (visit.excluded_staff_ids or []):
        check.warnings.append(f"{staff.name} declined this visit or was taken off it")
    check.shift = session.scalar(
        sa.select(Shift).where(
            Shift.staff_id == staff.id, Shift.starts_at <= start, Shift.ends_at >= end
        )
    )
    if check.shift is None:
        check.warnings.append(f"{staff.name} is not on shift for the whole visit")
    elif check.shift.sick_from is not None and check.shift.sick_from < end:
        check.warnings.append(
            f"{staff.name} is off sick from {hm(check.shift.sick_from, now or start)}"
        )
    for absence in session.scalars(sa.select(Absence).where(
            Absence.staff_id == staff.id, Absence.cancelled_at.is_(None),
            Absence.starts_at < end, Absence.ends_at > start)):
        if check.shift is not None and check.shift.sick_from == absence.starts_at:
            continue  # said above
        check.warnings.append(
            f"{staff.name} is {ABSENCE_WORDS[absence.reason]} from "
            f"{hm(absence.starts_at, now or start)} until {hm(absence.ends_at, now or start)}")
    if start > visit.deadline:
        late = int((start - visit.deadline).total_seconds() // 60)
        check.warnings.append(
            f"starts {late} min after the deadline ({hm(visit.deadline, now or start)})")
    if start < visit.earliest_start:
        check.warnings.append(
            f"starts before the visit's earliest start ({hm(visit.earliest_start, now or start)})")
    travel = _travel_from_base(session, staff, check.shift, visit, provider)
    if travel is not None and check.shift is not None and start - travel < check.shift.starts_at:
        check.warnings.append(
            f"needs {int(travel.total_seconds() // 60)} min travel from base "
            "after the shift starts; cannot arrive by then"
        )
    for other in clashes(session, visit=visit, staff=staff, start=start, provider=provider,
                         now=now or start):
        check.double_booked = True
        check.warnings.append(
            f"{staff.name} {clash_text(session, other, now or start)} "
            "(or cannot travel between the two in time)")
    _check_partner(session, check, visit=visit, staff=staff, start=start, now=now or start)
    return check


def _check_partner(session: so.Session, check: AssignmentCheck, *, visit: Visit, staff: Staff,
                   start: datetime, now: datetime) -> None:
    """A double-handed visit needs a second person at the same time (issue 15, H-130): its
    other half's worker is refused (never saved), another start is a warning."""
    other = pairs.partner(session, visit)
    if other is None or other.visit.status in states.VISIT_FINAL_STATUSES:
        return
    if other.link.workers == "different" and other.visit.assigned_staff_id == staff.id:
        check.double_booked = True
        check.warnings.append(
            f"{staff.name} already has the other half of this visit (visit "
            f"{other.visit.reference}); it needs a second person")
    elif other.kind == pairs.DOUBLE_HANDED and other.visit.planned_start is not None \
            and other.visit.planned_start != start:
        check.warnings.append(
            f"the other carer starts at {hm(other.visit.planned_start, now)}; a two-staff "
            "visit starts together")


def clashes(
    session: so.Session, *, visit: Visit, staff: Staff, start: datetime,
    provider: TravelTimeProvider, now: datetime,
) -> list[invariants.Held]:
    """The worker's other bookings that ``visit`` at ``start`` cannot be kept with, earliest
    first."""
    where = invariants.location_of(session.get(Patient, visit.patient_id))
    candidate = invariants.Held(visit.id, staff.id, start,
                                start + timedelta(minutes=visit.duration_minutes), where)
    others = invariants.holdings(session, [staff.id], now, exclude=[visit.id])
    travel = invariants.Travel(provider, invariants.staff_modes(session, {staff.id}))
    ids = set(invariants.clashes_with(candidate, others, travel))
    return sorted((h for h in others if h.visit_id in ids), key=lambda h: (h.start, h.visit_id))


def clash_text(session: so.Session, held: invariants.Held, now: datetime) -> str:
    """"already has visit 3134 from 14:10 to 14:55"."""
    row = session.get(Visit, held.visit_id)
    reference = row.reference if row is not None else str(held.visit_id)
    return f"already has visit {reference} from {hm(held.start, now)} to {hm(held.end, now)}"


def _travel_from_base(
    session: so.Session,
    staff: Staff,
    shift: Shift | None,
    visit: Visit,
    provider: TravelTimeProvider,
) -> timedelta | None:
    base = session.get(StaffBase, shift.base_id if shift else (staff.base_id or -1))
    patient = session.get(Patient, visit.patient_id)
    if base is None or patient is None or patient.lat is None or patient.lon is None:
        return None
    seconds = provider.matrix(
        [(base.lat, base.lon)], [(patient.lat, patient.lon)], mode=staff.travel_mode
    )[0][0]
    return timedelta(seconds=int(seconds))


def assign_manually(
    session: so.Session,
    *,
    visit_id: int,
    staff_id: int,
    start: datetime,
    version: int,
    confirm: bool,
    pin: bool,
    actor: Actor,
    now: datetime,
    provider: TravelTimeProvider,
) -> ManualResult:
    """Assign a visit by hand; unsaved (with warnings) unless the checks pass or ``confirm``.

    Raises
    ------
    NotFound
        No such visit.
    Forbidden
        A visit of a network ``actor`` does not coordinate (checked first).
    Conflict
        ``version`` is stale (someone else changed the visit), or the state machine refuses.
    """
    visit = visit_at_version(session, actor, visit_id, version, now)
    staff = lock_worker(session, staff_id)
    tier_refusal = strata.worker_refusal(session, staff=staff, visit=visit)
    if tier_refusal is not None:
        # Never "assign anyway": who serves whom by risk tier is the network's rule (H-232).
        raise Conflict(tier_refusal)
    check = check_assignment(session, visit=visit, staff=staff, start=start, provider=provider,
                             now=now)
    if check.double_booked:
        # It may fit by pushing the worker's later visits on (a candidate's ``pushes``).
        check = _push_later(session, visit=visit, staff=staff, start=start, now=now,
                            provider=provider, check=check, actor=actor)
    if check.double_booked or (check.warnings and not confirm):
        # Double-booking is never allowed, even confirmed: one person, one place.
        return ManualResult(visit, False, tuple(check.warnings), check.double_booked)
    # What the pin may cost: the open 2-hour visits that only this worker could reach in time.
    before = pin_costs.reachers(session, {visit.network_id, staff.network_id}, now=now,
                                provider=provider, excluding=[visit.id]) if pin else {}
    watched = pin_costs.sole_reacher_of(before, staff.id)
    visit_actions.assign(
        session,
        visit=visit,
        staff=staff,
        shift=check.shift,
        planned_start=start,
        now=now,
        actor=actor,
    )
    if pin:
        visit.pinned = True
        session.flush()
    costs: tuple[str, ...] = ()
    if watched:
        lost = pin_costs.lost(session, before, staff, now=now, provider=provider)
        costs = tuple(pin_costs.cost_text(u, staff.name, estimate=False) for u in lost)
        if costs and not confirm:
            # Saved only when the coordinator decides so ("Assign anyway"): the caller rolls
            # the flushed assignment back.
            return ManualResult(visit, False, (*check.warnings, *costs), costs=costs)
        for urgent in lost:  # the board names the pin at once, before the next re-plan
            pin_costs.note_blocker(urgent, visit.id)
        if lost:
            from dispatch.services import audit

            audit.record(session, actor=actor, action="pin_despite_cost", now=now,
                         patient_id=visit.patient_id, entity=("visit", visit.id),
                         purpose="manual dispatch",
                         details={"reference": visit.reference, "staff_id": staff.id,
                                  "leaves_unassigned": [u.reference for u in lost]})
        session.flush()
    return ManualResult(visit, True, (*check.warnings, *costs), costs=costs)


#: Statuses of the worker's other visits that an assignment may push later.
PUSHABLE = ("assigned", "offered", "accepted")


def _push_later(
    session: so.Session, *, visit: Visit, staff: Staff, start: datetime, now: datetime,
    provider: TravelTimeProvider, check: AssignmentCheck, actor: Actor,
) -> AssignmentCheck:
    """Re-time the worker's later visits round ``visit`` at ``start`` when that is what
    clashes, then check again. Never pushes a visit under way, a visit the coordinator
    pinned, or a 2-hour visit past its deadline (hazard H-110): the clash then stands.
    Changes are only flushed; the caller rolls back when nothing is saved."""
    moves = moves_for(session, visit, staff, start, now=now, provider=provider)
    if not moves:
        return check
    for other, new in moves:
        if other.status not in PUSHABLE or (other.pinned and other.status != "accepted"):
            return check
        if is_urgent(other) and new > other.deadline and other.late_allowed_until is None:
            check.warnings.append(
                f"would push 2-hour visit {other.reference} past its deadline "
                f"({hm(other.deadline, now)}); choose another worker or time")
            return check
    for other, new in moves:
        if other.status == "accepted":
            visit_actions.retime_accepted(session, visit=other, planned_start=new, now=now)
        else:
            other.planned_start = new
        from dispatch.services import audit

        audit.record(session, actor=actor, action="retime_visit", now=now,
                     patient_id=other.patient_id, entity=("visit", other.id),
                     purpose="pushed later by a manual assignment",
                     details={"reference": other.reference, "staff_id": staff.id,
                              "planned_start": new.isoformat(), "for": visit.reference})
    session.flush()
    again = check_assignment(session, visit=visit, staff=staff, start=start, provider=provider,
                             now=now)
    again.warnings.extend(
        f"visit {other.reference} would then start after its deadline ({hm(other.deadline, now)})"
        for other, new in moves if new > other.deadline)
    return again


def unassign_manually(
    session: so.Session, *, visit_id: int, version: int, reason: str, actor: Actor, now: datetime,
    keep_off: bool = True,
) -> Visit:
    """Take a visit off its worker by hand (it returns to the planner).

    With ``keep_off`` (the default) the worker is kept off the visit: they join
    ``excluded_staff_ids``, so neither the planner nor the candidates list offers it to them
    again (a coordinator may still assign them by hand, with a warning). Without it an offer
    still waiting for its answer is withdrawn as unanswered (the planner asks someone else
    first, and that worker again only if no one else can do as well), and an assignment
    simply returns to the planner.

    :raise Forbidden: a visit of a network ``actor`` does not coordinate (checked first).
    """
    visit = visit_at_version(session, actor, visit_id, version, now)
    if not keep_off and visit.status == "offered" and visit.assigned_staff_id is not None:
        return visit_actions.withdraw_unanswered(session, visit=visit, now=now, reason=reason,
                                                 actor=actor)
    previous = visit.assigned_staff_id
    visit = visit_actions.unassign(session, visit=visit, now=now, reason=reason, actor=actor)
    if keep_off and previous is not None and previous not in (visit.excluded_staff_ids or []):
        visit.excluded_staff_ids = sorted({*(visit.excluded_staff_ids or []), previous})
        visit_actions._flush(session, visit)
    return visit


def double_handed(
    session: so.Session, *, visit_id: int, version: int, reason: str, actor: Actor,
    now: datetime,
) -> Visit:
    """A coordinator's decision that a visit needs two staff at once (issue 15): a second
    worker's half is created and linked; the planner places both together and re-plans now.

    :raise NotFound: no such visit. :raise Conflict: stale version, closed, under way or
    already linked.
    """
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    if visit.version != version:
        raise Conflict(stale_message(session, visit, now))
    pairs.make_double_handed(session, visit=visit, now=now, actor=actor, reason=reason)
    visit_actions.replan_after_commit(session, visit.network_id)
    return visit


#: What each audited change to a visit did, in words (the 409 message says it).
_CHANGES = {
    "assign_visit": "assigned to {staff}", "unassign_visit": "taken off {staff}",
    "retime_visit": "re-timed for {staff}", "accept_visit": "accepted by {staff}",
    "decline_visit": "declined by {staff}", "arrive_visit": "{staff} arrived",
    "complete_visit": "completed by {staff}", "cancel_visit": "cancelled",
    "pin_visit": "pinned", "unpin_visit": "unpinned",
    "jeopardy_decision": "a decision on its jeopardy was recorded",
    "make_double_handed": "made double-handed (two staff)",
    "ask_cover": "moved to another network's cover",
}


def stale_message(session: so.Session, visit: Visit, now: datetime) -> str:
    """A version clash in words: who changed what, when, and how the visit stands now.

    "Visit 4821 was changed by alice at 14:03: assigned to Sam Lee. It is now offered to Sam
    Lee for 14:30. Your change was not saved; check it and try again." (not "version 13, you
    had 11"). The change is the visit's latest audited change (the system's planner shows as
    "system").
    """
    from dispatch.models import AuditEvent

    event = session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "visit", AuditEvent.entity_id == str(visit.id),
            AuditEvent.action.in_(_CHANGES))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1))
    worker = session.get(Staff, visit.assigned_staff_id) if visit.assigned_staff_id else None
    state = visit.status.replace("_", " ")
    if worker is not None:
        state += f" {'to' if visit.status == 'offered' else 'with'} {worker.name}"
        if visit.planned_start is not None:
            state += f" for {hm(visit.planned_start, now)}"
    if visit.pinned:
        state += " (pinned)"
    if event is None:
        change = f"Visit {visit.reference} was changed by someone else"
    else:
        staff_id = (event.details or {}).get("staff_id")
        named = session.get(Staff, staff_id) if isinstance(staff_id, int) else None
        what = _CHANGES[event.action].format(staff=named.name if named else "a worker")
        change = (f"Visit {visit.reference} was changed by {event.username or 'system'} at "
                  f"{hm(event.at, now)}: {what}")
    return f"{change}. It is now {state}. Your change was not saved; check it and try again."


def set_pin(
    session: so.Session, *, visit_id: int, version: int, pinned: bool, actor: Actor, now: datetime
) -> Visit:
    """Pin (or unpin) an assigned visit so the planner keeps it with its worker.

    :raise Forbidden: a visit of a network ``actor`` does not coordinate (checked first).
    """
    visit = visit_at_version(session, actor, visit_id, version, now)
    if pinned and visit.assigned_staff_id is None:
        raise Conflict(f"visit {visit.reference} has no worker to pin it to")
    if not pinned and visit.status in states.VISIT_PINNED_STATUSES:
        raise Conflict(f"visit {visit.reference} is {visit.status}; its worker has committed")
    visit.pinned = pinned
    from dispatch.services import audit

    audit.record(
        session,
        actor=actor,
        action="pin_visit" if pinned else "unpin_visit",
        now=now,
        patient_id=visit.patient_id,
        entity=("visit", visit.id),
        purpose="manual dispatch",
    )
    visit_actions._flush(session, visit)
    return visit


def jeopardy_options(
    session: so.Session, visit_id: int, *, actor: Actor, now: datetime,
    provider: TravelTimeProvider,
) -> jeopardy.Options:
    """The on-call coordinator's choices for a visit in jeopardy (:func:`jeopardy.options_for`).

    :raise NotFound: no such visit. :raise Forbidden: a network ``actor`` does not coordinate.
    """
    network_scope.require_visit(session, actor, visit_id)
    return jeopardy.options_for(session, visit_id, now=now, provider=provider)


def decide_jeopardy(
    session: so.Session, *, visit_id: int, choice: str, actor: Actor, now: datetime,
    staff_id: int | None = None, late_minutes: int | None = None,
    network_id: int | None = None, note: str | None = None,
) -> Visit:
    """:func:`jeopardy.decide` for a visit of a network ``actor`` coordinates; flushes.

    :raise Forbidden: a network ``actor`` does not coordinate (checked first); else as
        :func:`jeopardy.decide`.
    """
    network_scope.require_visit(session, actor, visit_id)
    return jeopardy.decide(session, visit_id=visit_id, choice=choice, actor=actor, now=now,
                           staff_id=staff_id, late_minutes=late_minutes,
                           network_id=network_id, note=note)


def ask_cover(
    session: so.Session, *, visit_id: int, version: int, network_id: int | None,
    note: str | None, actor: Actor, now: datetime,
) -> Visit:
    """:func:`jeopardy.ask_cover` for a visit of a network ``actor`` coordinates, at the
    version the coordinator saw; flushes.

    :raise Forbidden: a network ``actor`` does not coordinate (checked first).
    :raise NotFound: no such visit. :raise Conflict: stale version (who changed what), or the
        visit is closed or under way. :raise InvalidInput: network or note (field named).
    """
    visit = visit_at_version(session, actor, visit_id, version, now)
    return jeopardy.ask_cover(session, visit=visit, network_id=network_id, note=note,
                              actor=actor, now=now)


def visit_at_version(session: so.Session, actor: Actor, visit_id: int, version: int,
                     now: datetime) -> Visit:
    """The visit a coordinator acts on, in the version they saw.

    :raise Forbidden: a network ``actor`` does not coordinate (checked first).
    :raise NotFound: no such visit. :raise Conflict: stale version (who changed what)."""
    network_scope.require_visit(session, actor, visit_id)
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    if visit.version != version:
        raise Conflict(stale_message(session, visit, now))
    return visit
