"""Live demo activity: referrals arrive and field staff answer, on the wall clock.

``dispatch serve --demo-activity`` (and ``./dev.sh demo``) adds one job that, every
``DEMO_ACTIVITY_INTERVAL`` seconds, plays what the outside world would do to a demo database:

- a demo NHS 111 logs referrals from the simulator's demand model
  (:func:`dispatch.simulation.demand.generate_day`) through ``create_referral``, at a flat
  ``DEMO_REFERRALS_PER_HOUR`` (accelerated, and alive at 3am too); every one is marked with
  the referrer organisation :data:`DEMO_ORGANISATION`; at start the half hour before is
  logged too (a few a tick), so the board is not empty while the first arrival is awaited;
- field staff answer their offer texts through the real SMS reply path
  (:func:`dispatch.sms.inbound.handle_inbound`): ACCEPT (most), DECLINE with a reason (some)
  or never (a few, which the deadline watch escalates), a short random delay after the text
  was sent; then ARRIVED when they could be there, and DONE after the visit's length.

Why it is safe to leave running for hours: every decision is a pure function of the seed and
the rows (visit id, worker, when it was offered, the wall-clock slot), never of memory, so a
restarted process makes the same decisions and the database tells it what was already done;
each reply carries a provider sid keyed by visit and step, which ``handle_inbound`` refuses to
act on twice; referrals carry an idempotency key per slot. Work per tick is bounded, each
action is its own transaction, and a failure is logged and skipped, never raised into the
scheduler. It refuses to run when ``ENV`` is ``production``.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Final

import sqlalchemy as sa
from apscheduler.schedulers.base import BaseScheduler
from flask import Flask
from sqlalchemy import orm as so

from dispatch import clock as dispatch_clock
from dispatch.actors import Actor
from dispatch.config import DEFAULTS
from dispatch.db import Database, get_database
from dispatch.errors import DispatchError
from dispatch.jobs.wakeup import waker_for
from dispatch.models import Message, Patient, Referral, Staff, StaffBase, Visit
from dispatch.services.referral_commands import new_referral_from_json
from dispatch.services.referrals import create_referral
from dispatch.simulation import field as fieldwork
from dispatch.simulation.demand import LONDON, TIER_RATES, PatientInfo, generate_day
from dispatch.simulation.errors import SimulationError
from dispatch.simulation.types import FieldSettings, ReferralSpec
from dispatch.sms.inbound import handle_inbound
from routing.travel import GeodesicTravelTime

log = logging.getLogger(__name__)

JOB_ID: Final = "demo_activity"
DEMO_ORGANISATION: Final = "Demo 111"
DEMO_ACTOR: Final = Actor(user_id=None, username="demo-111", role="call_handler")
DEMO_REFERRER: Final[Mapping[str, str]] = {
    "name": "Demo 111 call handler", "role": "call handler", "organisation": DEMO_ORGANISATION}
#: The number workers text back to (the simulator's; nothing leaves the machine).
SERVICE_NUMBER: Final = "+447700900500"
#: Workers in the demo answer a little faster than the simulator's, so there is more to watch.
DEMO_FIELD: Final = FieldSettings(accept=0.85, decline=0.08, reply_median_minutes=1.5,
                                  reply_sigma=0.5)
#: Nobody takes longer than this to answer a text they are going to answer.
MAX_REPLY_DELAY: Final = timedelta(minutes=8)
#: Travel time assumed when a patient has no coordinates.
UNKNOWN_TRAVEL: Final = timedelta(minutes=15)
#: Patients per risk stratum the demand draws from (bounded memory on the full register).
PATIENTS_PER_TIER: Final = 2_000
#: Seeds of consecutive slots must differ; the demand model takes one integer seed.
SLOT_SEED_SPACING: Final = 10**12


class DemoActivityRefused(SimulationError):
    """Demo activity was asked for where it must never run (production)."""


@dataclass(frozen=True, slots=True)
class DemoSettings:
    """How lively the demo is.

    Parameters
    ----------
    seed
        Same seed, same decisions (also after a restart).
    interval_seconds
        Length of one tick; referrals are drawn per tick-long slot of the wall clock.
    referrals_per_hour
        Mean referrals an hour, flat over the day (Poisson per slot).
    max_referrals_per_tick, max_actions_per_tick
        Bounds on the work of one tick (replies of all kinds share the second).
    catch_up_minutes
        At start, the referrals of this many minutes before now are logged too (a few per
        tick), so a newcomer's board and messages fill within a minute or two instead of
        waiting for the first arrival; slots already logged are skipped by their keys.
    """

    # The defaults are the settings' defaults (dispatch.config.DEFAULTS), not a second copy.
    seed: int = int(DEFAULTS["DEMO_ACTIVITY_SEED"])
    interval_seconds: float = float(DEFAULTS["DEMO_ACTIVITY_INTERVAL"])
    referrals_per_hour: float = float(DEFAULTS["DEMO_REFERRALS_PER_HOUR"])
    max_referrals_per_tick: int = 5
    max_actions_per_tick: int = 30
    catch_up_minutes: float = 30.0
    #: Share of day-response referrals that are two-person hoist transfers, so the board
    #: shows double-handed visits (issue 15).
    double_handed: float = 0.25
    field: FieldSettings = DEMO_FIELD

    def __post_init__(self) -> None:
        if not self.interval_seconds >= 1:
            raise ValueError("interval_seconds must be at least 1")
        if not self.referrals_per_hour >= 0:
            raise ValueError("referrals_per_hour must be >= 0")
        if self.max_referrals_per_tick < 0 or self.max_actions_per_tick < 0:
            raise ValueError("max_referrals_per_tick and max_actions_per_tick must be >= 0")
        if not self.catch_up_minutes >= 0:
            raise ValueError("catch_up_minutes must be >= 0")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DemoSettings:
        """The settings from the app config (``DEMO_ACTIVITY_*``), defaults where unset."""
        default = cls()

        def get(key: str, fallback: float) -> Any:
            value = config.get(key)
            return fallback if value is None else value

        return cls(
            seed=int(get("DEMO_ACTIVITY_SEED", default.seed)),
            interval_seconds=float(get("DEMO_ACTIVITY_INTERVAL", default.interval_seconds)),
            referrals_per_hour=float(get("DEMO_REFERRALS_PER_HOUR",
                                         default.referrals_per_hour)),
        )


@dataclass(frozen=True, slots=True)
class TickReport:
    """What one tick did (counts), for the log and the tests."""

    referrals: int = 0
    accepted: int = 0
    declined: int = 0
    arrived: int = 0
    done: int = 0
    failed: int = 0

    @property
    def actions(self) -> int:
        return self.accepted + self.declined + self.arrived + self.done


def refuse_in_production(config: Mapping[str, Any]) -> None:
    """:raise DemoActivityRefused: ``ENV`` is production (synthetic referrals, fake replies)."""
    if config.get("ENV") == "production":
        raise DemoActivityRefused(
            "demo activity makes synthetic referrals and answers texts for staff; it never "
            "runs with ENV=production")


# --- decisions (pure) -------------------------------------------------------------------------


def slot_of(now: datetime, interval_seconds: float) -> int:
    """The wall-clock slot ``now`` falls in (slots are ``interval_seconds`` long)."""
    return math.floor(now.timestamp() / interval_seconds)


def offer_reply(settings: DemoSettings, *, visit_id: int, staff_id: int,
                offered_at: datetime) -> fieldwork.Reply:
    """The worker's answer to this offer (keyed by when it was made) and its delay."""
    reply = fieldwork.offer_reply(settings.field, settings.seed, visit_id, staff_id,
                                  int(offered_at.timestamp()))
    return replace(reply, delay=min(reply.delay, MAX_REPLY_DELAY))


def arrival_time(settings: DemoSettings, *, visit_id: int, staff_id: int,
                 planned_start: datetime | None, ready_at: datetime,
                 travel: timedelta) -> datetime:
    """On site at the planned start, or when the (noisy) journey gets them there if later."""
    seconds = fieldwork.travel_seconds(settings.field, settings.seed, travel.total_seconds(),
                                       visit_id, staff_id)
    reach = ready_at + timedelta(seconds=round(seconds))
    return max(reach, planned_start) if planned_start is not None else reach


def finish_time(settings: DemoSettings, *, visit_id: int, arrived_at: datetime,
                duration_minutes: int) -> datetime:
    """Arrival plus the visit's length with noise (at least ten minutes)."""
    seconds = fieldwork.visit_seconds(settings.field, settings.seed, duration_minutes, visit_id)
    return arrived_at + timedelta(seconds=round(seconds))


# --- the activity -----------------------------------------------------------------------------


@dataclass
class LiveDemo:
    """Plays demo activity on ``database``; :meth:`tick` does one bounded round of it."""

    database: Database
    settings: DemoSettings = field(default_factory=DemoSettings)
    env: str = "development"
    _patients: list[PatientInfo] | None = field(default=None, init=False, repr=False)
    #: The next (slot, referral index) to log; None until the first tick.
    _cursor: tuple[int, int] | None = field(default=None, init=False, repr=False)
    _travel: GeodesicTravelTime = field(default_factory=GeodesicTravelTime, init=False,
                                        repr=False)

    def __post_init__(self) -> None:
        refuse_in_production({"ENV": self.env})

    def tick(self, now: datetime) -> TickReport:
        """Finish, arrive, answer offers, then log this slot's referrals; at ``now``."""
        counts: Counter[str] = Counter()
        budget = [self.settings.max_actions_per_tick]
        self._finish(now, counts, budget)
        self._arrive(now, counts, budget)
        self._answer_offers(now, counts, budget)
        self._refer(now, counts)
        return TickReport(**counts)

    # ------------------------------------------------------------------ referrals

    def _refer(self, now: datetime, counts: Counter[str]) -> None:
        """The demand of every slot up to the one before ``now`` not yet logged (so every
        referral is received in the past), from ``catch_up_minutes`` back at the first tick;
        at most ``max_referrals_per_tick`` a tick, the rest at the next."""
        s = self.settings
        last = slot_of(now, s.interval_seconds) - 1
        earliest = last - math.floor(s.catch_up_minutes * 60 / s.interval_seconds)
        if self._cursor is None or self._cursor[0] < earliest:
            self._cursor = (earliest, 0)
        patients = self._demo_patients()
        if not patients or s.referrals_per_hour == 0 or s.max_referrals_per_tick == 0:
            self._cursor = (last + 1, 0)
            return
        budget = s.max_referrals_per_tick
        slot, index = self._cursor
        while slot <= last and budget > 0:
            specs = self._slot_demand(slot, patients)
            for spec in specs[index : index + budget]:
                payload = {**spec.payload(), "referrer": dict(DEMO_REFERRER)}
                key = f"demo-111:{s.seed}:{slot}:{spec.index}"
                self._attempt(counts, "referrals", partial(_log_referral, payload=payload,
                                                           key=key, now=now))
            taken = max(0, min(budget, len(specs) - index))
            budget -= taken
            if index + taken < len(specs):
                index += taken  # out of budget inside this slot: go on from here next tick
                break
            slot, index = slot + 1, 0
        self._cursor = (slot, index)

    def _slot_demand(self, slot: int, patients: list[PatientInfo]) -> list[ReferralSpec]:
        """The referrals arriving in wall-clock ``slot`` (none for a slot across midnight)."""
        s = self.settings
        begin = datetime.fromtimestamp(slot * s.interval_seconds, UTC).astimezone(LONDON)
        end = begin + timedelta(seconds=s.interval_seconds)
        if end.date() != begin.date():
            return []  # the demand model plays within one day; this slot straddles midnight
        return generate_day(
            seed=s.seed * SLOT_SEED_SPACING + slot, day=begin.date(), patients=patients,
            referrals=s.referrals_per_hour * s.interval_seconds / 3600, booked=0,
            arrivals_from=begin.time(), arrivals_until=end.time(), day_start=begin.time(),
            double_handed=s.double_handed)

    def _demo_patients(self) -> list[PatientInfo]:
        """A bounded, stable sample of the register by stratum (loaded once)."""
        if self._patients:
            return self._patients
        with self.database.session_scope() as session:
            out: list[PatientInfo] = []
            for tier in TIER_RATES:
                rows = session.execute(
                    sa.select(Patient.id, Patient.risk_tier, Patient.frailty, Patient.conditions)
                    .where(Patient.risk_tier == tier).order_by(Patient.id)
                    .limit(PATIENTS_PER_TIER)).all()
                out.extend(PatientInfo(r.id, r.risk_tier, r.frailty, tuple(r.conditions or ()))
                           for r in rows)
        self._patients = out
        return out

    # ------------------------------------------------------------------ offers

    def _answer_offers(self, now: datetime, counts: Counter[str], budget: list[int]) -> None:
        with self.database.session_scope() as session:
            rows = session.execute(
                sa.select(Visit.id, Visit.reference, Visit.assigned_staff_id, Visit.offered_at,
                          Staff.phone)
                .join(Staff, Staff.id == Visit.assigned_staff_id)
                .where(Visit.status == "offered", Visit.offered_at.is_not(None))
                .order_by(Visit.offered_at, Visit.id)).all()
            due = []
            for row in rows:
                reply = offer_reply(self.settings, visit_id=row.id,
                                    staff_id=row.assigned_staff_id, offered_at=row.offered_at)
                if reply.kind == fieldwork.NO_ANSWER or row.offered_at + reply.delay > now:
                    continue
                sent = _offer_sent_at(session, row.id, row.assigned_staff_id, row.offered_at)
                if sent is not None and sent + reply.delay <= now:
                    due.append((row, reply))
        for row, reply in due:
            if budget[0] <= 0:
                return
            word = "ACCEPT" if reply.kind == fieldwork.ACCEPT else "DECLINE"
            body = f"{word} {row.reference}" + (f" {reply.reason}" if reply.reason else "")
            sid = (f"demo:{row.id}:{reply.kind}:{row.assigned_staff_id}:"
                   f"{int(row.offered_at.timestamp())}")
            label = "accepted" if reply.kind == fieldwork.ACCEPT else "declined"
            self._reply(counts, budget, label, _Row.of(row), body, sid, now=now,
                        still=("offered",), offered_at=row.offered_at)

    # ------------------------------------------------------------------ field work

    def _arrive(self, now: datetime, counts: Counter[str], budget: list[int]) -> None:
        """ARRIVED for each worker's next accepted visit once they could be there."""
        with self.database.session_scope() as session:
            on_site = set(session.scalars(sa.select(Visit.assigned_staff_id).where(
                Visit.status == "on_site")))
            rows = session.execute(
                sa.select(Visit, Staff.phone).join(Staff, Staff.id == Visit.assigned_staff_id)
                .where(Visit.status.in_(("accepted", "en_route")))
                .order_by(Visit.planned_start, Visit.id)).all()
            due, seen = [], set(on_site)
            for visit, phone in rows:
                staff_id = visit.assigned_staff_id
                if staff_id is None or staff_id in seen:
                    continue  # busy elsewhere, or this is not their next visit
                seen.add(staff_id)
                ready_at, travel = self._journey(session, visit, staff_id)
                at = arrival_time(self.settings, visit_id=visit.id, staff_id=staff_id,
                                  planned_start=visit.planned_start, ready_at=ready_at,
                                  travel=travel)
                if at <= now:
                    due.append(_Row(visit.id, visit.reference, staff_id, phone))
        for row in due:
            if budget[0] > 0:
                self._reply(counts, budget, "arrived", row, f"ARRIVED {row.reference}",
                            f"demo:{row.id}:arrived", now=now, still=("accepted", "en_route"))

    def _journey(self, session: so.Session, visit: Visit,
                 staff_id: int) -> tuple[datetime, timedelta]:
        """When the worker could set off for ``visit`` and the model's travel time there:
        from their base after accepting, or from their last patient after finishing there."""
        patient = session.get(Patient, visit.patient_id)
        last = session.execute(
            sa.select(Visit.completed_at, Patient.lat, Patient.lon)
            .join(Patient, Patient.id == Visit.patient_id)
            .where(Visit.assigned_staff_id == staff_id, Visit.completed_at.is_not(None))
            .order_by(Visit.completed_at.desc()).limit(1)).first()
        ready_at = visit.accepted_at or visit.updated_at
        origin: tuple[float | None, float | None] | None = None
        if last is not None and last.completed_at > ready_at:
            ready_at, origin = last.completed_at, (last.lat, last.lon)
        else:
            base = session.execute(
                sa.select(StaffBase.lat, StaffBase.lon).join(Staff, Staff.base_id == StaffBase.id)
                .where(Staff.id == staff_id)).first()
            origin = (base.lat, base.lon) if base is not None else None
        if (patient is None or patient.lat is None or patient.lon is None or origin is None
                or origin[0] is None or origin[1] is None):
            return ready_at, UNKNOWN_TRAVEL
        seconds = self._travel.matrix([(origin[0], origin[1])], [(patient.lat, patient.lon)],
                                      mode="car")[0][0]
        return ready_at, timedelta(seconds=float(seconds))

    def _finish(self, now: datetime, counts: Counter[str], budget: list[int]) -> None:
        """DONE for visits on site for their (noisy) length."""
        with self.database.session_scope() as session:
            rows = session.execute(
                sa.select(Visit.id, Visit.reference, Visit.assigned_staff_id, Visit.arrived_at,
                          Visit.duration_minutes, Staff.phone)
                .join(Staff, Staff.id == Visit.assigned_staff_id)
                .where(Visit.status == "on_site", Visit.arrived_at.is_not(None))
                .order_by(Visit.arrived_at, Visit.id)).all()
        for row in rows:
            if budget[0] <= 0:
                return
            if finish_time(self.settings, visit_id=row.id, arrived_at=row.arrived_at,
                           duration_minutes=row.duration_minutes) > now:
                continue
            self._reply(counts, budget, "done", _Row.of(row), f"DONE {row.reference}",
                        f"demo:{row.id}:done", now=now, still=("on_site",))

    # ------------------------------------------------------------------ plumbing

    def _reply(self, counts: Counter[str], budget: list[int], label: str, row: _Row,
               body: str, sid: str, *, now: datetime, still: tuple[str, ...],
               offered_at: datetime | None = None) -> None:
        """Text ``body`` from the worker if the visit is still as decided (one transaction):
        still theirs, in one of the ``still`` statuses and, for an offer, the same offer."""
        budget[0] -= 1

        def act(session: so.Session) -> bool:
            visit = session.get(Visit, row.id)
            if (visit is None or visit.status not in still
                    or visit.assigned_staff_id != row.staff_id
                    or (offered_at is not None and visit.offered_at != offered_at)):
                return False  # changed since we looked (a coordinator, the planner)
            result = handle_inbound(session, from_number=row.phone, to_number=SERVICE_NUMBER,
                                    body=body, provider_sid=sid, now=now)
            return result.changed

        self._attempt(counts, label, act)

    def _attempt(self, counts: Counter[str], label: str,
                 work: Callable[[so.Session], bool]) -> None:
        """Run ``work`` in its own transaction; count it if it changed something; never raise."""
        try:
            with self.database.session_scope() as session:
                changed = work(session)
        except DispatchError as exc:  # a refused referral or a lost race: expected, skipped
            log.info("demo activity: %s skipped: %s", label, exc.message)
            return
        except Exception:
            log.exception("demo activity: %s failed", label)
            counts["failed"] += 1
            return
        if changed:
            counts[label] += 1


@dataclass(frozen=True, slots=True)
class _Row:
    """The visit and worker a reply is about."""

    id: int
    reference: str
    staff_id: int
    phone: str

    @classmethod
    def of(cls, row: Any) -> _Row:
        return cls(row.id, row.reference, row.assigned_staff_id, row.phone)


def _log_referral(session: so.Session, *, payload: dict[str, Any], key: str,
                  now: datetime) -> bool:
    """One demo referral, as the 111 service would send it; True if it is new."""
    return create_referral(session, command=new_referral_from_json(payload), actor=DEMO_ACTOR,
                           now=now, idempotency_key=key).created


def _offer_sent_at(session: so.Session, visit_id: int, staff_id: int,
                   offered_at: datetime) -> datetime | None:
    """When the offer text reached the worker's phone (None while it waits in the outbox)."""
    return session.scalar(
        sa.select(sa.func.min(Message.sent_at)).where(
            Message.visit_id == visit_id, Message.staff_id == staff_id,
            Message.direction == "outbound", Message.sent_at.is_not(None),
            Message.created_at >= offered_at))


def demo_referrals() -> sa.Select[Any]:
    """The referrals demo activity made (to show, count or clear them)."""
    return sa.select(Referral).where(Referral.referrer_organisation == DEMO_ORGANISATION)


# --- the job ----------------------------------------------------------------------------------


def add_job(scheduler: BaseScheduler, app: Flask) -> bool:
    """Add the demo job to ``scheduler``; in production log an error and add nothing."""
    try:
        refuse_in_production(app.config)
        demo = LiveDemo(get_database(app), DemoSettings.from_config(app.config),
                        env=str(app.config.get("ENV")))
    except DemoActivityRefused as exc:
        log.error("demo activity not started: %s", exc)
        return False
    scheduler.add_job(run_tick, "interval", seconds=demo.settings.interval_seconds,
                      args=[app, demo], id=JOB_ID, name=JOB_ID, max_instances=1,
                      coalesce=True,
                      next_run_time=datetime.now(UTC) + timedelta(seconds=2))
    log.info("demo activity on: %.0f referrals an hour, a tick every %gs",
             demo.settings.referrals_per_hour, demo.settings.interval_seconds)
    return True


def run_tick(app: Flask, demo: LiveDemo) -> TickReport | None:
    """The job: one tick at the jobs' clock; wake the placer for new referrals; never raise."""
    try:
        with app.app_context():
            report = demo.tick(dispatch_clock.now(app.config))
    except Exception:
        log.exception("job %s failed", JOB_ID)
        return None
    if report.referrals:
        waker_for(app).wake("place_new")
    if report.referrals or report.actions or report.failed:
        log.info("demo activity: %s", report)
    return report
