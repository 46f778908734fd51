"""Care packages: priced from the tariff, approved within a threshold, delivered as visits.

The rules (see ``docs/adr/0002-approval-thresholds.md``):

- **Costs are computed, never typed.** A line's weekly cost is ``units_per_week x unit cost``
  rounded half up to the penny (:func:`line_weekly_pence`); the package's weekly cost is the sum
  of its lines' weekly costs (the cost of a week in which every line runs) and its total is the
  sum of each line's weekly cost times its weeks. Integers in pence throughout.
- **Thresholds apply to the total cost** (the sum the service commits to). Each approving role
  has a default limit (:data:`DEFAULT_APPROVAL_LIMITS_PENCE`, configurable per deployment) and
  each person may have their own (``User.approval_limit_pence``), which replaces the role's.
  "At" the limit is within it. Submitting routes the package to the lowest role whose default
  covers it; anyone whose own limit covers it may decide it. Admins never approve (separation
  of duties: whoever manages users and limits must not also spend against them).
- **States**: draft -> submitted -> approved | rejected; approved -> active -> ended (and
  approved -> ended for a package no longer needed). Each change writes an audit event; the
  role a submitted package waits for is kept in the ``submit_package`` event's details.
- **Activation creates the visits** the lines imply (``dispatch.services.tariffs``): unassigned,
  category ``planned``, priority by the patient's risk tier (the network's rules,
  ``dispatch.services.strata``), for the package period; the live planner places them.
  Ending cancels the visits not yet under way.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from dispatch.models import (
    AuditEvent,
    CarePackage,
    CarePackageItem,
    Patient,
    TariffItem,
    User,
    Visit,
)
from dispatch.services import (
    audit,
    budgets,
    network_scope,
    pairs,
    strata,
    tariffs,
    visit_actions,
)
from dispatch.services.patients import name_matches
from dispatch.services.references import new_reference

COORDINATOR, MANAGER = "coordinator", "manager"
#: Roles that may approve, lowest authority first: routing picks the first that covers a total.
APPROVER_ROLES: tuple[str, ...] = (COORDINATOR, MANAGER)
#: Default limits on a package's TOTAL cost, in pence (GBP 5,000 and GBP 25,000).
DEFAULT_APPROVAL_LIMITS_PENCE: Mapping[str, int] = {COORDINATOR: 500_000, MANAGER: 2_500_000}
PACKAGE_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"submitted"}),
    "submitted": frozenset({"approved", "rejected"}),
    "approved": frozenset({"active", "ended"}),
    "rejected": frozenset(),
    "active": frozenset({"ended"}),
    "ended": frozenset(),
}
MIN_REASON = 10  # characters: a rejection must say why
MAX_WEEKS = 52
MAX_UNITS_PER_WEEK = 168.0  # hours in a week: no item is bought more often than that
#: Longest spacing a line may ask between its visits on one day.
MAX_SPACING_HOURS = 16.0
PACKAGE_VISIT_CATEGORY = "planned"
PACKAGE_VISIT_PRIORITY = 4
# Visits not yet under way: ending a package cancels these.
CANCELLABLE = ("unassigned", "assigned", "offered", "accepted")
#: Longest patient name the package list searches for (the referral form's limit).
NAME_MAX = 80


@dataclass(frozen=True)
class LineRequest:
    """One requested line: a tariff code, units a week, for how many weeks.

    Care as it is delivered (issue 15): ``staff`` 2 books two workers for each visit at once
    (a hoist); ``follows`` (the number of another line of the request, from 0) with
    ``follow_min_minutes``..``follow_max_minutes`` makes each of this line's visits follow
    one of that line's visits on the same day ("insulin, then personal care 30 to 60 minutes
    later"); ``min_spacing_hours`` keeps this line's visits on a day at least that far apart.
    """

    tariff_code: str
    units_per_week: float
    weeks: int
    staff: int = 1
    follows: int | None = None
    follow_min_minutes: int | None = None
    follow_max_minutes: int | None = None
    min_spacing_hours: float | None = None


@dataclass(frozen=True)
class Routing:
    """Who must decide a total: the role, and whether even that role's default is exceeded
    (then only someone with a high enough personal limit can approve)."""

    role: str
    above_every_default: bool


@dataclass(frozen=True)
class Line:
    """A package line as shown: the item and its computed costs."""

    item: CarePackageItem
    tariff: TariffItem
    weekly_cost_pence: int
    total_cost_pence: int


@dataclass(frozen=True)
class PackageView:
    """A package with its lines, who it waits for (if submitted) and its visit count."""

    package: CarePackage
    lines: tuple[Line, ...]
    awaiting_role: str | None
    visit_count: int
    #: For a submitted package that would take its network over its pooled budget: the
    #: figures (budget, committed, left, this package, how far over); else None.
    over_budget: str | None = None
    #: The seeds' social care spend a week for a person of the patient's risk tier (pence):
    #: what a package for such a person costs on average (dispatch.services.strata).
    tier_weekly_guide_pence: int | None = None

    @property
    def weekly_cost(self) -> str:
        """The weekly cost in pounds (``£434.00``)."""
        return pounds(self.package.weekly_cost_pence)

    @property
    def total_cost(self) -> str:
        """The total cost in pounds."""
        return pounds(self.package.total_cost_pence)


@dataclass(frozen=True)
class PackagePage:
    """What the approval page shows: the package described, its patient, the viewer's limit,
    why they may not decide it (None: they may), who must decide it, the longest line in
    weeks, and display names by username."""

    view: PackageView
    patient: Patient | None
    limit: int | None
    refusal: str | None
    routing: Routing
    weeks: int
    names: Mapping[str, str | None]

    @property
    def package(self) -> CarePackage:
        return self.view.package


@dataclass(frozen=True)
class Decision:
    """An approval or rejection: the package decided, or why it was refused (already in the
    audit trail, for the caller to commit and then show or raise)."""

    package: CarePackage | None
    refused: Forbidden | None = None


# -- pure rules ---------------------------------------------------------------------------


def line_weekly_pence(units_per_week: float, unit_cost_pence: int) -> int:
    """A line's weekly cost in whole pence, rounded half up (10.5 h at 3,333p is 34,997p).

    ``Decimal(str(x))`` takes the units as typed (0.1 stays 0.1, not 0.1000000000000000055).
    """
    exact = Decimal(str(units_per_week)) * unit_cost_pence
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def package_costs(lines: Sequence[tuple[float, int, int]]) -> tuple[int, int]:
    """(weekly, total) pence for ``(units_per_week, unit_cost_pence, weeks)`` lines."""
    weekly_lines = [(line_weekly_pence(u, c), w) for u, c, w in lines]
    return sum(x for x, _ in weekly_lines), sum(x * w for x, w in weekly_lines)


def pounds(pence: int) -> str:
    """``123456`` -> ``"£1,234.56"`` (for messages people read)."""
    return f"£{pence // 100:,}.{pence % 100:02d}"


def approval_limits(overrides: Mapping[str, Any] | None = None) -> dict[str, int]:
    """The role defaults with deployment overrides (``APPROVAL_LIMITS_PENCE`` setting).

    :raise ValueError: a role that cannot approve, or a limit that is not a whole number >= 0.
    """
    limits = dict(DEFAULT_APPROVAL_LIMITS_PENCE)
    for role, value in (overrides or {}).items():
        if role not in APPROVER_ROLES:
            raise ValueError(
                f"approval limit for {role!r}: only {', '.join(APPROVER_ROLES)} approve")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"approval limit for {role!r} must be a whole number of pence >= 0")
        limits[role] = value
    return limits


def route_for(total_pence: int, limits: Mapping[str, int]) -> Routing:
    """The lowest approving role whose default limit covers ``total_pence`` (at = covered)."""
    for role in APPROVER_ROLES:
        if total_pence <= limits[role]:
            return Routing(role, above_every_default=False)
    return Routing(APPROVER_ROLES[-1], above_every_default=True)


def effective_limit(role: str, personal_limit: int | None, limits: Mapping[str, int]) -> int | None:
    """What this person may approve: their own limit if set, else their role's; None when the
    role cannot approve at all (a personal limit does not give an admin authority)."""
    if role not in APPROVER_ROLES:
        return None
    return personal_limit if personal_limit is not None else limits[role]


def approval_refusal(
    total_pence: int, role: str, personal_limit: int | None, limits: Mapping[str, int]
) -> str | None:
    """Why this person may not decide a package of ``total_pence``, or None if they may."""
    limit = effective_limit(role, personal_limit, limits)
    needed = route_for(total_pence, limits)
    whose = f"a {needed.role}" + (" with a personal limit of at least "
                                  f"{pounds(total_pence)}" if needed.above_every_default else "")
    if limit is None:
        extra = " (separation of duties)" if role == "admin" else ""
        return (f"the {role} role cannot approve or reject care packages{extra}; "
                f"this one needs {whose}")
    if total_pence > limit:
        return (f"this package totals {pounds(total_pence)}, above your approval limit of "
                f"{pounds(limit)}; it needs {whose}")
    return None


def _move(package: CarePackage, new: str) -> str:
    current = package.status
    if new not in PACKAGE_TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(PACKAGE_TRANSITIONS.get(current, ()))) or "none (final)"
        raise IllegalTransition(f"a care package cannot move from {current!r} to {new!r}; "
                                f"allowed from {current!r}: {allowed}")
    package.status = new
    return current


# -- building and reading -----------------------------------------------------------------


def create_package(
    session: so.Session, *, patient_id: int, start_date: date, end_date: date | None,
    lines: Sequence[LineRequest], actor: Actor, now: datetime, request_id: str | None = None,
) -> CarePackage:
    """A draft package priced from the tariff in effect on ``start_date``.

    Raises
    ------
    NotFound
        No such patient.
    InvalidInput
        Keyed ``items``, ``end_date`` or ``items.<n>.<field>``: no lines, an unknown code or one
        without a price that day, units or weeks out of range, more visits a day than a pattern
        allows, an end before the start.
    """
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"patient {patient_id} not found")
    errors: dict[str, list[str]] = {}
    if not lines:
        errors["items"] = ["a package needs at least one item"]
    if end_date is not None and end_date < start_date:
        errors["end_date"] = ["must not be before start_date"]
    priced = [_price_line(session, n, line, start_date, errors) for n, line in enumerate(lines)]
    _check_links(lines, errors)
    if errors:
        raise InvalidInput("invalid care package", errors=errors)
    # A two-staff line buys two workers' time.
    weekly, total = package_costs([(ln.units_per_week * ln.staff, t.unit_cost_pence, ln.weeks)
                                   for ln, t in zip(lines, priced, strict=True) if t])
    package = CarePackage(
        patient_id=patient.id, network_id=patient.network_id, status="draft",
        start_date=start_date, end_date=end_date, weekly_cost_pence=weekly,
        total_cost_pence=total, created_by=actor.username, created_at=now,
    )
    session.add(package)
    session.flush()
    items = []
    for line, tariff in zip(lines, priced, strict=True):
        assert tariff is not None
        item = CarePackageItem(package_id=package.id, tariff_item_id=tariff.id,
                               units_per_week=line.units_per_week, weeks=line.weeks,
                               unit_cost_pence=tariff.unit_cost_pence, staff_count=line.staff,
                               follow_min_minutes=line.follow_min_minutes,
                               follow_max_minutes=line.follow_max_minutes,
                               min_spacing_hours=line.min_spacing_hours)
        session.add(item)
        items.append(item)
    session.flush()
    for line, item in zip(lines, items, strict=True):
        if line.follows is not None:
            item.follows_item_id = items[line.follows].id
    session.flush()
    _audit(session, package, actor, "create_package", now, request_id,
           weekly_cost_pence=weekly, total_cost_pence=total,
           items=[{"code": ln.tariff_code, "units_per_week": ln.units_per_week,
                   "weeks": ln.weeks, "staff": ln.staff, "follows": ln.follows,
                   "follow_gap": [ln.follow_min_minutes, ln.follow_max_minutes],
                   "min_spacing_hours": ln.min_spacing_hours} for ln in lines])
    return package


def update_draft(
    session: so.Session, *, package_id: int, start_date: date, end_date: date | None,
    lines: Sequence[LineRequest], actor: Actor, now: datetime, request_id: str | None = None,
) -> CarePackage:
    """Change a draft's dates and lines, priced again from the tariff on ``start_date``.

    :raise NotFound: no such package. :raise Conflict: not a draft (a submitted package is
        decided as it was sent). :raise InvalidInput: as :func:`create_package`.
    """
    package = get_package(session, package_id)
    if package.status != "draft":
        raise IllegalTransition(f"care package {package_id} is {package.status}: only a draft "
                                "can be changed")
    errors: dict[str, list[str]] = {}
    if not lines:
        errors["items"] = ["a package needs at least one item"]
    if end_date is not None and end_date < start_date:
        errors["end_date"] = ["must not be before start_date"]
    priced = [_price_line(session, n, line, start_date, errors) for n, line in enumerate(lines)]
    if errors:
        raise InvalidInput("invalid care package", errors=errors)
    for item in list(package.items):
        session.delete(item)
    session.flush()
    package.weekly_cost_pence, package.total_cost_pence = package_costs(
        [(ln.units_per_week, t.unit_cost_pence, ln.weeks)
         for ln, t in zip(lines, priced, strict=True) if t])
    package.start_date, package.end_date = start_date, end_date
    for line, tariff in zip(lines, priced, strict=True):
        assert tariff is not None
        session.add(CarePackageItem(package_id=package.id, tariff_item_id=tariff.id,
                                    units_per_week=line.units_per_week, weeks=line.weeks,
                                    unit_cost_pence=tariff.unit_cost_pence))
    session.flush()
    session.expire(package, ["items"])
    _audit(session, package, actor, "update_package", now, request_id,
           weekly_cost_pence=package.weekly_cost_pence,
           total_cost_pence=package.total_cost_pence,
           items=[{"code": ln.tariff_code, "units_per_week": ln.units_per_week,
                   "weeks": ln.weeks} for ln in lines])
    return package


def _price_line(
    session: so.Session, n: int, line: LineRequest, on: date, errors: dict[str, list[str]]
) -> TariffItem | None:
    key = f"items.{n}"
    if not 0 < line.units_per_week <= MAX_UNITS_PER_WEEK:
        errors[f"{key}.units_per_week"] = [
            f"must be more than 0 and at most {MAX_UNITS_PER_WEEK:g}"]
    if not 1 <= line.weeks <= MAX_WEEKS:
        errors[f"{key}.weeks"] = [f"must be between 1 and {MAX_WEEKS}"]
    elif line.units_per_week > 0 and (why := tariffs.check_pattern(line.tariff_code,
                                                                   line.units_per_week)):
        errors[f"{key}.units_per_week"] = [why]
    try:
        return tariffs.price_on(session, line.tariff_code, on)
    except NotFound as exc:
        errors[f"{key}.tariff_code"] = [exc.message]
        return None


def _check_links(lines: Sequence[LineRequest], errors: dict[str, list[str]]) -> None:
    """Errors (``items.<n>.<field>``) for two-staff, follow-on and spacing settings that make
    no sense: a gap below 0 or its minimum above its maximum, a line following itself or a
    line that does not exist, or more links on one visit than the planner allows (one)."""
    for n, line in enumerate(lines):
        key = f"items.{n}"
        if line.staff not in (1, 2):
            errors[f"{key}.staff"] = ["must be 1 or 2"]
        if line.min_spacing_hours is not None and not \
                0 < line.min_spacing_hours <= MAX_SPACING_HOURS:
            errors[f"{key}.min_spacing_hours"] = [
                f"must be more than 0 and at most {MAX_SPACING_HOURS:g}"]
        gap_given = line.follow_min_minutes is not None or line.follow_max_minutes is not None
        if line.follows is None:
            if gap_given:
                errors[f"{key}.follows"] = ["say which item this one follows, with its gap"]
            continue
        if not 0 <= line.follows < len(lines) or line.follows == n:
            errors[f"{key}.follows"] = ["must be the number of another item of this package, "
                                        "counting from 0"]
            continue
        errors.update(pairs.check_gap(line.follow_min_minutes, line.follow_max_minutes,
                                      f"{key}.follow_gap"))
        first = lines[line.follows]
        why = _follow_refusal(lines, n, line, first)
        if why:
            errors[f"{key}.follows"] = [why]


def _follow_refusal(lines: Sequence[LineRequest], n: int, line: LineRequest,
                    first: LineRequest) -> str | None:
    if line.staff == 2 or first.staff == 2:
        return "a two-staff item cannot follow or be followed (a visit has one link at most)"
    if first.follows is not None or any(other.follows == n for other in lines):
        return "an item that follows another cannot itself be followed"
    if sum(1 for other in lines if other.follows == line.follows) > 1:
        return "only one item may follow a given item"
    if tariffs.VISIT_PATTERNS.get(line.tariff_code) is None or \
            tariffs.VISIT_PATTERNS.get(first.tariff_code) is None:
        return "only items delivered as visits can follow one another"
    return None


def get_package(session: so.Session, package_id: int) -> CarePackage:
    """:raise NotFound: no such package."""
    package = session.get(CarePackage, package_id)
    if package is None:
        raise NotFound(f"care package {package_id} not found")
    return package


def get_own_package(session: so.Session, package_id: int, *, actor: Actor) -> CarePackage:
    """The package, if ``actor`` coordinates its network.

    :raise NotFound: no such package. :raise Forbidden: a network ``actor`` does not run.
    """
    package = get_package(session, package_id)
    network_scope.require(session, actor, package.network_id,
                          what=f"Care package {package.id}")
    return package


def read_package(
    session: so.Session, package_id: int, *, actor: Actor, now: datetime, purpose: str,
    request_id: str | None = None,
) -> CarePackage:
    """:func:`get_own_package`; the read is audited (``view_package``: it is patient data)."""
    package = get_own_package(session, package_id, actor=actor)
    _audit_read(session, package, actor, "view_package", now, purpose, request_id)
    return package


def read_packages(
    session: so.Session, *, actor: Actor, now: datetime, purpose: str,
    request_id: str | None = None, status: str | None = None, patient_id: int | None = None,
    network_id: int | None = None, limit: int = 200,
) -> list[CarePackage]:
    """:func:`list_packages` of the networks ``actor`` coordinates; each read is audited
    (``list_packages``). :raise InvalidInput: unknown status."""
    found = list_packages(session, status=status, patient_id=patient_id,
                          network_id=network_id, limit=limit)
    found = [p for p in found if actor.covers(p.network_id)]
    for package in found:
        _audit_read(session, package, actor, "list_packages", now, purpose, request_id)
    return found


def read_package_page(
    session: so.Session, package_id: int, *, actor: Actor, now: datetime, purpose: str,
    limits: Mapping[str, int], request_id: str | None = None,
) -> PackagePage:
    """The approval page's package (:func:`read_package`, audited) with whether ``actor`` may
    decide it. :raise NotFound: no such package. :raise Forbidden: a network ``actor`` does
    not run."""
    package = get_own_package(session, package_id, actor=actor)
    view = describe(session, package, limits)
    _audit_read(session, package, actor, "view_package", now, purpose, request_id)
    user = session.get(User, actor.user_id) if actor.user_id else None
    limit = effective_limit(actor.role, user.approval_limit_pence if user else None, limits)
    refusal = approval_check(session, package=package, actor=actor, limits=limits)
    routing = route_for(package.total_cost_pence, limits)
    patient = session.get(Patient, package.patient_id)
    weeks = max((line.item.weeks for line in view.lines), default=0)
    names = dict(session.execute(sa.select(User.username, User.display_name)).all())
    return PackagePage(view, patient, limit, refusal, routing, weeks, names)


def _audit_read(
    session: so.Session, package: CarePackage, actor: Actor, action: str, now: datetime,
    purpose: str, request_id: str | None,
) -> None:
    audit.record(session, actor=actor, action=action, now=now, patient_id=package.patient_id,
                 entity=("care_package", package.id), purpose=purpose, request_id=request_id)


def list_packages(
    session: so.Session, *, status: str | None = None, patient_id: int | None = None,
    network_id: int | None = None, limit: int = 200, patient_name: str | None = None,
) -> list[CarePackage]:
    """Packages, newest first; ``patient_name`` as a caller says it ("Bloggs", "Joe
    Bloggs": :func:`dispatch.services.patients.name_matches`).

    :raise InvalidInput: unknown status, or a name too long to be one.
    """
    stmt = sa.select(CarePackage)
    if patient_name and patient_name.strip():
        if len(patient_name) > NAME_MAX:
            raise InvalidInput("invalid filter", errors={
                "patient": [f"at most {NAME_MAX} characters"]})
        stmt = stmt.join(Patient, Patient.id == CarePackage.patient_id).where(
            name_matches(patient_name))
    if status:
        if status not in PACKAGE_TRANSITIONS:
            raise InvalidInput("invalid filter", errors={
                "status": [f"must be one of: {', '.join(PACKAGE_TRANSITIONS)}"]})
        stmt = stmt.where(CarePackage.status == status)
    if patient_id:
        stmt = stmt.where(CarePackage.patient_id == patient_id)
    if network_id:
        stmt = stmt.where(CarePackage.network_id == network_id)
    return list(session.scalars(stmt.order_by(CarePackage.id.desc()).limit(limit)))


def describe(
    session: so.Session, package: CarePackage, limits: Mapping[str, int] | None = None
) -> PackageView:
    """The package with its priced lines, the role it waits for, and its visit count."""
    tariff_rows = {t.id: t for t in session.scalars(sa.select(TariffItem).where(
        TariffItem.id.in_({i.tariff_item_id for i in package.items})))}
    lines = []
    for item in sorted(package.items, key=lambda i: i.id):
        weekly = line_weekly_pence(item.units_per_week * item.staff_count, item.unit_cost_pence)
        lines.append(Line(item, tariff_rows[item.tariff_item_id], weekly, weekly * item.weeks))
    ids = list(session.scalars(sa.select(Visit.id).where(Visit.package_id == package.id)))
    visits = len(ids) - len(pairs.second_halves(session, ids))  # a two-staff visit is one
    over = budgets.over_budget(session, package) if package.status == "submitted" else None
    tier = session.scalar(sa.select(Patient.risk_tier).where(Patient.id == package.patient_id))
    guide = (strata.social_care_weekly_pence(tier)
             if tier is not None and tier in strata.PER_CAPITA else None)
    return PackageView(package, tuple(lines), awaiting_role(session, package, limits), visits,
                       over, guide)


def awaiting_role(
    session: so.Session, package: CarePackage, limits: Mapping[str, int] | None = None
) -> str | None:
    """The role a submitted package waits for: as recorded at submission (the audit event's
    details), else as the current limits route it; None unless submitted."""
    if package.status != "submitted":
        return None
    details = session.scalar(
        sa.select(AuditEvent.details).where(
            AuditEvent.action == "submit_package", AuditEvent.entity_type == "care_package",
            AuditEvent.entity_id == str(package.id)).order_by(AuditEvent.id.desc()).limit(1))
    if details and details.get("required_role"):
        return str(details["required_role"])
    return route_for(package.total_cost_pence, approval_limits(limits)).role


# -- workflow -----------------------------------------------------------------------------


def submit_package(
    session: so.Session, *, package_id: int, actor: Actor, now: datetime,
    limits: Mapping[str, int] | None = None, request_id: str | None = None,
) -> CarePackage:
    """Send a draft for approval, routed to the lowest role whose limit covers its total, or
    to a manager when it would take the network over its pooled budget (H-231-C2: the
    manager's list shows it with the figures, recorded in the audit event too).

    :raise NotFound: no such package. :raise Forbidden: a network ``actor`` does not run.
    """
    package = get_own_package(session, package_id, actor=actor)
    _move(package, "submitted")
    package.submitted_at = now
    routing = route_for(package.total_cost_pence, approval_limits(limits))
    over = budgets.over_budget(session, package)
    if over is not None and routing.role != MANAGER:
        routing = Routing(MANAGER, above_every_default=routing.above_every_default)
    session.flush()
    _audit(session, package, actor, "submit_package", now, request_id,
           required_role=routing.role, above_every_default=routing.above_every_default,
           total_cost_pence=package.total_cost_pence,
           **({"over_budget": over} if over else {}))
    return package


def approval_check(
    session: so.Session, *, package: CarePackage, actor: Actor,
    limits: Mapping[str, int] | None = None,
) -> str | None:
    """Why ``actor`` may not decide ``package`` (limit, role, network), or None if they may."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or not user.active:
        return "only a signed-in coordinator or manager can decide care packages"
    if user.role == COORDINATOR and not network_scope.may_act(session, user,
                                                              package.network_id):
        return "a coordinator decides packages for their own networks only"
    refusal = approval_refusal(package.total_cost_pence, user.role, user.approval_limit_pence,
                               approval_limits(limits))
    if refusal is None and user.role != MANAGER and package.status == "submitted":
        # Over the network's pooled budget: a manager's decision (H-231), so it is not on a
        # coordinator's list and a coordinator is told why, with the figures.
        refusal = budgets.over_budget(session, package)
    return refusal


def approve_package(
    session: so.Session, *, package_id: int, actor: Actor, now: datetime,
    limits: Mapping[str, int] | None = None, note: str | None = None,
    request_id: str | None = None,
) -> CarePackage:
    """Approve a submitted package within the approver's limit and the network's budget.

    :raise Forbidden: above the approver's limit (naming the role it needs), a role that
        cannot approve, or over the network's pooled budget (with the figures) for anyone but
        a manager (issue 17). :raise IllegalTransition: not submitted.
    """
    package = get_package(session, package_id)
    over = budgets.over_budget(session, package) if package.status == "submitted" else None
    if over is not None and approval_check(session, package=package, actor=actor,
                                           limits=limits) is None:
        user = session.get(User, actor.user_id) if actor.user_id is not None else None
        if user is None or user.role != MANAGER:
            raise Forbidden(over)
    _decide(session, package, actor, "approved", limits)
    package.decision_reason = (note or "").strip()[:300] or None
    package.decided_at = now
    session.flush()
    _audit(session, package, actor, "approve_package", now, request_id,
           total_cost_pence=package.total_cost_pence, note=package.decision_reason,
           **({"over_budget": over} if over else {}))
    return package


def reject_package(
    session: so.Session, *, package_id: int, actor: Actor, now: datetime, reason: str,
    limits: Mapping[str, int] | None = None, request_id: str | None = None,
) -> CarePackage:
    """Reject a submitted package; a reason of at least :data:`MIN_REASON` characters is
    required. Only someone who could approve it may reject it (the decision is theirs)."""
    if len(reason.strip()) < MIN_REASON:
        raise InvalidInput("a rejection needs a reason", errors={
            "reason": [f"give a reason of at least {MIN_REASON} characters"]})
    package = get_package(session, package_id)
    _decide(session, package, actor, "rejected", limits)
    package.decision_reason = reason.strip()[:300]
    package.decided_at = now
    session.flush()
    _audit(session, package, actor, "reject_package", now, request_id,
           reason=package.decision_reason)
    return package


def approve_or_refuse(
    session: so.Session, *, package_id: int, actor: Actor, now: datetime, purpose: str,
    limits: Mapping[str, int] | None = None, note: str | None = None,
    request_id: str | None = None,
) -> Decision:
    """:func:`approve_package`; a refusal (:class:`Forbidden`) is audited
    (``package_decision_refused``: who tried to spend beyond their authority) and returned
    for the caller to commit, then show. Other errors are raised as by :func:`approve_package`.
    """
    try:
        return Decision(approve_package(session, package_id=package_id, actor=actor, now=now,
                                        limits=limits, note=note, request_id=request_id))
    except Forbidden as exc:
        return _refused(session, package_id, actor, exc, now, purpose, request_id)


def reject_or_refuse(
    session: so.Session, *, package_id: int, actor: Actor, now: datetime, reason: str,
    purpose: str, limits: Mapping[str, int] | None = None, request_id: str | None = None,
) -> Decision:
    """:func:`reject_package`, a refusal audited and returned as :func:`approve_or_refuse`."""
    try:
        return Decision(reject_package(session, package_id=package_id, actor=actor, now=now,
                                       reason=reason, limits=limits, request_id=request_id))
    except Forbidden as exc:
        return _refused(session, package_id, actor, exc, now, purpose, request_id)


def _refused(
    session: so.Session, package_id: int, actor: Actor, exc: Forbidden, now: datetime,
    purpose: str, request_id: str | None,
) -> Decision:
    """Record the refused decision. A refusal comes before any change is made (the checks
    run first), so nothing of the attempt is left to undo."""
    package = get_package(session, package_id)
    audit.record(session, actor=actor, action="package_decision_refused", now=now,
                 patient_id=package.patient_id, entity=("care_package", package.id),
                 purpose=purpose, request_id=request_id, details={"reason": exc.message})
    return Decision(None, exc)


def _decide(
    session: so.Session, package: CarePackage, actor: Actor, new: str,
    limits: Mapping[str, int] | None,
) -> None:
    if package.status != "submitted":
        _move(package, new)  # raises the transition error, naming the current status
    refusal = approval_check(session, package=package, actor=actor, limits=limits)
    if refusal is not None:
        raise Forbidden(refusal)
    _move(package, new)
    package.decided_by = actor.username


def activate_package(
    session: so.Session, *, package_id: int, actor: Actor, now: datetime,
    rng: random.Random | None = None, request_id: str | None = None,
) -> list[Visit]:
    """Start an approved package: create the visits its lines imply; return them.

    Visits run from the later of the start date and today for each line's weeks (cut at
    ``end_date`` if set); windows already over are skipped. They are unassigned for the live
    planner (``dispatch.planning.pipeline.place_new``) to place.

    :raise NotFound: no such package. :raise Forbidden: a network ``actor`` does not run.
    """
    package = get_own_package(session, package_id, actor=actor)
    _move(package, "active")
    visits = _package_visits(session, package, now, rng or random.Random())
    session.add_all(visits)
    session.flush()
    _audit(session, package, actor, "activate_package", now, request_id,
           visits=len(visits))
    return visits


def _package_visits(
    session: so.Session, package: CarePackage, now: datetime, rng: random.Random
) -> list[Visit]:
    """The visits of every line, then their links: a second worker's half for a two-staff
    line, and each follow-on visit linked to the visit it follows on the same day."""
    tariff_codes = dict(session.execute(sa.select(TariffItem.id, TariffItem.code).where(
        TariffItem.id.in_({i.tariff_item_id for i in package.items}))).all())
    items = sorted(package.items, key=lambda i: i.id)
    planned = {item.id: _spaced(tariffs.expand_visits(
        tariff_codes[item.tariff_item_id], units_per_week=item.units_per_week,
        first_day=package.start_date, last_day=_last_day(package, item)),
        item.min_spacing_hours) for item in items}
    followers = {item.follows_item_id: item for item in items if item.follows_item_id}
    priority = planned_priority(session, package)
    for first_id, item in followers.items():
        planned[item.id] = _following(planned[first_id], planned[item.id], item)
    made: dict[int, list[Visit | None]] = {}
    out: list[Visit] = []
    for item in items:
        code = tariff_codes[item.tariff_item_id]
        made[item.id] = []
        for visit_plan in planned[item.id]:
            if visit_plan.deadline <= now:
                made[item.id].append(None)
                continue
            visit = Visit(
                reference=new_reference(session, rng), referral_id=None, package_id=package.id,
                patient_id=package.patient_id, network_id=package.network_id,
                category=PACKAGE_VISIT_CATEGORY, skills=list(visit_plan.skills),
                duration_minutes=visit_plan.duration_minutes,
                earliest_start=max(visit_plan.earliest_start, now),
                deadline=visit_plan.deadline, priority=priority,
                status="unassigned", reason=f"care package {package.id}: {code}",
                created_at=now, updated_at=now)
            session.add(visit)  # so the next reference sees this one as taken
            session.flush()
            out.append(visit)
            made[item.id].append(visit)
            if item.staff_count == 2:
                out.append(pairs.twin(session, visit, now=now, rng=rng))
                pairs.link(session, first=visit, second=out[-1], kind=pairs.DOUBLE_HANDED,
                           min_gap_minutes=0, max_gap_minutes=0, workers="different",
                           created_by=package.created_by, now=now)
    for first_id, item in followers.items():
        for first, second in _day_pairs(planned[first_id], made[first_id],
                                        planned[item.id], made[item.id]):
                pairs.link(session, first=first, second=second, kind="follow_on",
                           min_gap_minutes=item.follow_min_minutes or 0,
                           max_gap_minutes=item.follow_max_minutes or 0, workers="any",
                           created_by=package.created_by, now=now)
    return out


def planned_priority(session: so.Session, package: CarePackage) -> int:
    """The priority of the package's visits: by the patient's risk tier under the network's
    rules (issue 17: planned visits by priority of tier; very high risk first), else
    :data:`PACKAGE_VISIT_PRIORITY`."""
    tier = session.scalar(sa.select(Patient.risk_tier).where(Patient.id == package.patient_id))
    rules = strata.rules_for(session, package.network_id)
    return rules.planned_priority.get(tier or "", PACKAGE_VISIT_PRIORITY)


def _day_pairs(
    lead_plan: list[tariffs.PlannedVisit], leads: list[Visit | None],
    follow_plan: list[tariffs.PlannedVisit], follows: list[Visit | None],
) -> list[tuple[Visit, Visit]]:
    """(leader, follower) visits made on the same day, in order, both created."""
    def days(plan: list[tariffs.PlannedVisit], made: list[Visit | None]
             ) -> dict[date, list[Visit | None]]:
        out: dict[date, list[Visit | None]] = {}
        for planned, visit in zip(plan, made, strict=True):
            day = planned.earliest_start.astimezone(tariffs.LONDON).date()
            out.setdefault(day, []).append(visit)
        return out

    first, second = days(lead_plan, leads), days(follow_plan, follows)
    return [(a, b) for day, found in second.items()
            for a, b in zip(first.get(day, []), found, strict=False)
            if a is not None and b is not None]


def _last_day(package: CarePackage, item: CarePackageItem) -> date:
    last = package.start_date + timedelta(weeks=item.weeks, days=-1)
    return min(last, package.end_date) if package.end_date is not None else last


def _spaced(visits: list[tariffs.PlannedVisit], hours: float | None
            ) -> list[tariffs.PlannedVisit]:
    """``visits`` with each day's windows moved so that consecutive calls start at least
    ``hours`` apart whenever each starts in its window: a call's window opens no sooner than
    ``hours`` after the previous call's window closes (kept as long as it was)."""
    if not hours:
        return visits
    gap = timedelta(hours=hours)
    out: list[tariffs.PlannedVisit] = []
    for visit in visits:
        before = out[-1] if out else None
        same_day = before is not None and \
            before.earliest_start.astimezone(tariffs.LONDON).date() == \
            visit.earliest_start.astimezone(tariffs.LONDON).date()
        if before is not None and same_day and visit.earliest_start < before.deadline + gap:
            shift = before.deadline + gap - visit.earliest_start
            visit = dataclasses.replace(visit, earliest_start=visit.earliest_start + shift,
                                        deadline=visit.deadline + shift)
        out.append(visit)
    return out


def _following(first: list[tariffs.PlannedVisit], second: list[tariffs.PlannedVisit],
               item: CarePackageItem) -> list[tariffs.PlannedVisit]:
    """The follow-on line's visits, one for each visit it follows (in order, day by day),
    each window placed after its leader's so the gap can always be kept."""
    low = timedelta(minutes=item.follow_min_minutes or 0)
    high = timedelta(minutes=item.follow_max_minutes or 0)
    leads = _by_day(first)
    out = []
    for day, visits in _by_day(second).items():
        for k, visit in enumerate(visits):
            if k < len(leads.get(day, [])):
                lead = leads[day][k]
                visit = dataclasses.replace(visit, earliest_start=lead.earliest_start + low,
                                            deadline=lead.deadline + high)
            out.append(visit)
    return out


def _by_day(visits: list[tariffs.PlannedVisit]) -> dict[date, list[tariffs.PlannedVisit]]:
    days: dict[date, list[tariffs.PlannedVisit]] = {}
    for visit in visits:
        days.setdefault(visit.earliest_start.astimezone(tariffs.LONDON).date(), []).append(visit)
    return days


def end_package(
    session: so.Session, *, package_id: int, actor: Actor, now: datetime,
    reason: str | None = None, request_id: str | None = None,
) -> CarePackage:
    """End an active (or approved, unstarted) package; its visits not yet under way are
    cancelled (a worker who had the offer is texted not to attend).

    :raise NotFound: no such package. :raise Forbidden: a network ``actor`` does not run.
    """
    package = get_own_package(session, package_id, actor=actor)
    _move(package, "ended")
    today = now.astimezone(tariffs.LONDON).date()
    if package.end_date is None or package.end_date > today:
        package.end_date = max(today, package.start_date)
    open_visits = session.scalars(sa.select(Visit).where(
        Visit.package_id == package.id, Visit.status.in_(CANCELLABLE))).all()
    for visit in open_visits:
        visit_actions.cancel(session, visit=visit, now=now, actor=actor,
                             reason=f"care package {package.id} ended")
    session.flush()
    _audit(session, package, actor, "end_package", now, request_id,
           reason=(reason or "").strip()[:300] or None, cancelled_visits=len(open_visits))
    return package


def _audit(
    session: so.Session, package: CarePackage, actor: Actor, action: str, now: datetime,
    request_id: str | None, **details: Any,
) -> None:
    audit.record(session, actor=actor, action=action, now=now, patient_id=package.patient_id,
                 entity=("care_package", package.id), purpose="commission a care package",
                 request_id=request_id, details={"status": package.status, **details})
