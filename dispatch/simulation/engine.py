"""The discrete-event loop: a simulated clock driving the real services.

Every change goes through the service production uses, with ``now`` set to the simulated
clock: referrals through ``create_referral`` (so triage decides), worker replies as texts
through ``dispatch.sms.inbound.handle_inbound`` (ACCEPT, DECLINE, ARRIVED, DONE), texts out
through the outbox and ``send_pending`` with the local backend, the deadline watch, the
planner. Each event is one transaction, as a request or a job would be. The simulator adds
only what is outside the system: when referrals arrive, how workers answer, move and work,
who falls ill, and the coordinator's response to an escalation (withdraw an unanswered offer
from that worker and re-plan; for a 2-hour visit nobody can reach in time, let the earliest
worker go late or hand it back to 111/999; for an accepted one the plan now starts after its
deadline, move it to a worker who can be there sooner or let its own worker go late).
"""

from __future__ import annotations

import heapq
import math
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.actors import Actor
from dispatch.config import LONDON
from dispatch.database import Database
from dispatch.models import Message, Patient, Referral, Shift, Staff, StaffBase, Visit
from dispatch.planning import jeopardy
from dispatch.planning.problem import FIELD_ROLES
from dispatch.planning.retries import PlacementRetries
from dispatch.services import outbox, pairs, visit_actions
from dispatch.services.bookings import book_later_start
from dispatch.services.referral_commands import new_referral_from_json
from dispatch.services.referrals import create_referral
from dispatch.services.watch import watch_deadlines
from dispatch.simulation import field as fieldwork
from dispatch.simulation import policies
from dispatch.simulation.types import ReferralSpec, SimulationConfig, VisitLog, WorkerLog
from dispatch.sms.inbound import handle_inbound
from dispatch.sms.sender import LocalOutboxBackend
from routing.travel import GeodesicTravelTime, LatLon

SIM_ACTOR: Final = Actor(user_id=None, username="simulator", role="call_handler")
SIM_COORDINATOR: Final = Actor(user_id=None, username="simulator-on-call", role="coordinator")
SERVICE_NUMBER: Final = "+447700900500"
#: How long the first carer at a double-handed visit waits for the second before starting
#: what they can alone (issue 15: a two-person transfer starts when both are there).
PARTNER_WAIT: Final = timedelta(minutes=30)
PUBLIC_URL: Final = "https://dispatch.example.nhs.uk"
OFFER = re.compile(r"Reply ACCEPT (\d+)")
#: A worker finishes the visits they accepted up to this long after the shift ends.
OVERTIME: Final = timedelta(hours=1)
#: How much sooner another worker must be able to start an accepted 2-hour visit that runs
#: late for the on-call coordinator to take it off its worker (who then gets a withdrawal):
#: less is not worth a second journey and a confused worker.
MOVE_GAIN: Final = timedelta(minutes=15)
#: Texts sent per outbox run (the job's batch, larger so a busy minute clears at once).
SEND_BATCH: Final = 500


@dataclass
class Worker:
    """Where a worker is and what they are doing (the simulator's view of the field)."""

    staff_id: int
    phone: str
    mode: str
    base: LatLon
    location: LatLon
    free_since: datetime
    busy_with: int | None = None
    sick: bool = False


@dataclass(order=True)
class _Event:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())


class Simulation:
    """One simulated day of one policy over a loaded demo database."""

    def __init__(self, config: SimulationConfig, database: Database, *, start: datetime,
                 end: datetime, specs: list[ReferralSpec],
                 progress: Callable[[str], None] | None = None) -> None:
        self.cfg, self.db, self.start, self.end = config, database, start, end
        self.specs = specs
        self.progress = progress or (lambda _line: None)
        self.provider = GeodesicTravelTime()
        self.backend = LocalOutboxBackend()
        self.queue: list[_Event] = []
        self.seq = 0
        self.now = start
        self.workers: dict[int, Worker] = {}
        self.phones: dict[str, int] = {}
        self.shift_logs: dict[int, WorkerLog] = {}
        self.visit_logs: dict[int, VisitLog] = {}
        self.referral_of_spec: dict[int, int] = {}
        self.offers_seen: set[tuple[int, int, datetime]] = set()
        self.attempts: dict[tuple[int, int], int] = {}
        self.sent_seen = 0
        self.placement_due = False
        #: When the placer last tried each visit it could not place (production's retry).
        self.place_retries = PlacementRetries()
        self.planner = policies.PlannerStats()
        #: Double-handed halves whose carer is on site waiting for the other: visit id ->
        #: (their carer, seconds the work will take).
        self.waiting: dict[int, tuple[int, float]] = {}
        self.ref_rng = random.Random(f"sim-references:{config.seed}")
        #: The simulated on-call coordinator's decisions, by kind (reported in the KPIs).
        self.decisions: Counter[str] = Counter(
            {k: 0 for k in ("late_allowed", "handed_back", "accepted_late_moved",
                            "accepted_late_kept")})

    # ------------------------------------------------------------------ scheduling

    def at(self, moment: datetime, kind: str, *args: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, _Event(max(moment, self.now), self.seq, kind, args))

    def run(self) -> None:
        """Play the day from ``start`` to ``end``."""
        self._load_workers()
        for spec in self.specs:
            self.at(max(spec.at, self.start), "referral", spec)
        for kind, minutes in self._periodic():
            self.at(self.start + timedelta(minutes=minutes), kind)
        self.at(self.start + timedelta(hours=1), "progress")
        while self.queue and self.queue[0].at <= self.end:
            event = heapq.heappop(self.queue)
            self.now = event.at
            getattr(self, f"_on_{event.kind}")(*event.args)
            if not (self.queue and self.queue[0].at == self.now):
                # Once per moment, as production's placer takes what arrived together in one
                # run (the day's booked work all arrives at its start).
                self._after()

    def _periodic(self) -> list[tuple[str, int]]:
        jobs = [("watch", self.cfg.watch_every_minutes), ("tick", self.cfg.tick_every_minutes)]
        if self.cfg.policy == "optimised":
            jobs.append(("reoptimise", self.cfg.reoptimise_every_minutes))
        return jobs

    def _again(self, kind: str, minutes: int) -> None:
        self.at(self.now + timedelta(minutes=minutes), kind)

    # ------------------------------------------------------------------ set-up

    def _load_workers(self) -> None:
        with self.db.session_scope() as session:
            rows = session.execute(
                sa.select(Shift, Staff, StaffBase)
                .join(Staff, Staff.id == Shift.staff_id)
                .join(StaffBase, StaffBase.id == Staff.base_id)
                .where(Staff.role.in_(FIELD_ROLES), Shift.ends_at > self.start,
                       Shift.starts_at < self.end)
                .order_by(Shift.starts_at, Shift.id)
            ).all()
            for shift, staff, base in rows:
                home = (base.lat, base.lon)
                self.workers.setdefault(staff.id, Worker(
                    staff.id, staff.phone, staff.travel_mode, home, home, self.start))
                self.phones[staff.phone] = staff.id
                lo, hi = max(shift.starts_at, self.start), min(shift.ends_at, self.end)
                self.shift_logs[shift.id] = WorkerLog(
                    staff.id, shift.id, f"{staff.code} {shift.starts_at:%H:%M}",
                    (hi - lo).total_seconds(), network_id=staff.network_id, role=staff.role,
                    rostered_by_hour=_by_hour(lo, hi))
            spans = [(s.id, s.starts_at, s.ends_at) for s, _, _ in rows]
        for shift_id, moment in fieldwork.sickness(self.cfg.field, self.cfg.seed, spans).items():
            if self.start <= moment <= self.end:
                self.at(moment, "sick", shift_id)

    # ------------------------------------------------------------------ events

    def _on_referral(self, spec: ReferralSpec) -> None:
        with self.db.session_scope() as session:
            result = create_referral(session, command=new_referral_from_json(spec.payload()),
                                     actor=SIM_ACTOR,
                                     now=self.now, idempotency_key=f"sim-{spec.index}",
                                     rng=self.ref_rng)
            self.referral_of_spec[spec.index] = result.referral.id
            visits = list(session.scalars(
                sa.select(Visit).where(Visit.referral_id == result.referral.id)))
            for visit in visits:
                self.visit_logs[visit.id] = VisitLog()
                if spec.start_from is not None and spec.start_from > visit.earliest_start:
                    book_later_start(session, visit_id=visit.id, start=spec.start_from,
                                     actor=SIM_ACTOR, now=self.now, reason="care call round")
            if self.cfg.policy == "nearest":
                for visit in visits:
                    self._nearest(session, visit)
        self.placement_due = True

    def _on_reply(self, visit_id: int, staff_id: int, reply: fieldwork.Reply) -> None:
        worker = self.workers[staff_id]
        with self.db.session_scope() as session:
            visit = session.get(Visit, visit_id)
            assert visit is not None
            words = {"accept": "ACCEPT", "decline": "DECLINE"}[reply.kind]
            body = f"{words} {visit.reference}" + (f" {reply.reason}" if reply.reason else "")
            answer = handle_inbound(session, from_number=worker.phone, to_number=SERVICE_NUMBER,
                                    body=body, provider_sid=None, now=self.now)
            if answer.changed and reply.kind == fieldwork.DECLINE:
                self.visit_logs[visit_id].declines += 1
                if self.cfg.policy == "nearest":
                    self._nearest(session, visit)
        if answer.changed and reply.kind == fieldwork.ACCEPT:
            self.at(self.now, "depart", staff_id)
        self.placement_due = True

    def _on_depart(self, staff_id: int) -> None:
        worker = self.workers[staff_id]
        if worker.busy_with is not None or worker.sick:
            return
        with self.db.session_scope() as session:
            visit = session.scalar(
                sa.select(Visit).where(Visit.assigned_staff_id == staff_id,
                                       Visit.status == "accepted")
                .order_by(Visit.planned_start, Visit.id).limit(1))
            if visit is None:
                return
            shift = session.get(Shift, visit.shift_id) if visit.shift_id else None
            patient = session.get(Patient, visit.patient_id)
            assert patient is not None and patient.lat is not None and patient.lon is not None
            home = (patient.lat, patient.lon)
            if shift is not None and shift.starts_at > worker.free_since:
                worker.location = worker.base  # a new shift starts from the base
            estimate = self._travel(worker.location, home, worker.mode)
            leave = max(self.now, (visit.planned_start or self.now)
                        - timedelta(seconds=estimate))
            if shift is not None:
                leave = max(leave, shift.starts_at)
                if leave > min(shift.ends_at, shift.sick_from or shift.ends_at) + OVERTIME:
                    return
            if leave > self.now:
                self.at(leave, "depart", staff_id)
                return
            states.move("visit", visit, "en_route")
            session.flush()
            mode = worker.mode  # the roster's, as the planner planned it (issue 15)
            seconds = fieldwork.travel_seconds(
                self.cfg.field, self.cfg.seed, self._travel(worker.location, home, mode),
                visit.id, staff_id)
            worker.busy_with = visit.id
            log = self.visit_logs.setdefault(visit.id, VisitLog())
            log.travel_seconds += seconds
            log.planned_on_time = (visit.planned_start or self.now) <= visit.deadline
            self._shift_log(visit.shift_id, travel=seconds, since=self.now)
            worker.location = home
            self.at(self.now + timedelta(seconds=round(seconds)), "arrive", staff_id, visit.id)

    def _on_arrive(self, staff_id: int, visit_id: int) -> None:
        worker = self.workers[staff_id]
        with self.db.session_scope() as session:
            visit = session.get(Visit, visit_id)
            assert visit is not None
            answer = handle_inbound(session, from_number=worker.phone, to_number=SERVICE_NUMBER,
                                    body=f"ARRIVED {visit.reference}", provider_sid=None,
                                    now=self.now)
            minutes = visit.duration_minutes
            other = pairs.partner(session, visit)
            partner_id = other.visit.id if other and other.kind == pairs.DOUBLE_HANDED \
                else None
            partner_here = bool(other and other.visit.status in ("on_site", "completed"))
        if not answer.changed:  # withdrawn on the way (the worker fell ill)
            worker.busy_with, worker.free_since = None, self.now
            return
        seconds = fieldwork.visit_seconds(self.cfg.field, self.cfg.seed, minutes, visit_id)
        if partner_id is not None and partner_id in self.waiting:
            # The second carer is here: the two start together and finish together.
            other_staff, _ = self.waiting.pop(partner_id)
            self._start(other_staff, partner_id, seconds)
        elif partner_id is not None and not partner_here:
            self.waiting[visit_id] = (staff_id, seconds)
            self.at(self.now + PARTNER_WAIT, "wait_over", visit_id)
            return
        self._start(staff_id, visit_id, seconds)

    def _start(self, staff_id: int, visit_id: int, seconds: float) -> None:
        self.at(self.now + timedelta(seconds=round(seconds)), "complete", staff_id, visit_id,
                seconds)

    def _on_wait_over(self, visit_id: int) -> None:
        """The other carer has not come: the first starts what they can."""
        if visit_id in self.waiting:
            staff_id, seconds = self.waiting.pop(visit_id)
            self._start(staff_id, visit_id, seconds)

    def _on_complete(self, staff_id: int, visit_id: int, seconds: float) -> None:
        worker = self.workers[staff_id]
        result = fieldwork.outcome(self.cfg.seed, visit_id)
        with self.db.session_scope() as session:
            visit = session.get(Visit, visit_id)
            staff = session.get(Staff, staff_id)
            assert visit is not None and staff is not None
            if result == "visit_completed":
                handle_inbound(session, from_number=worker.phone, to_number=SERVICE_NUMBER,
                               body=f"DONE {visit.reference}", provider_sid=None, now=self.now)
            else:  # other outcomes are recorded on the visit page
                visit_actions.complete(session, visit=visit, staff=staff, outcome=result,
                                       now=self.now)
            log = self._shift_log(visit.shift_id, visit=seconds,
                                  since=self.now - timedelta(seconds=seconds))
            if log is not None:
                log.visits += 1
        worker.busy_with, worker.free_since = None, self.now
        self.at(self.now, "depart", staff_id)

    def _on_sick(self, shift_id: int) -> None:
        with self.db.session_scope() as session:
            shift = session.get(Shift, shift_id)
            assert shift is not None
            shift.sick_from = self.now
            worker = self.workers[shift.staff_id]
            worker.sick = True
            visits = session.scalars(
                sa.select(Visit).where(Visit.assigned_staff_id == shift.staff_id,
                                       Visit.status.in_(("assigned", "offered", "accepted",
                                                         "en_route")))
                .order_by(Visit.id)).all()
            for visit in visits:
                visit_actions.unassign(session, visit=visit, now=self.now,
                                       reason="worker off sick")
                self.visit_logs[visit.id].sick_unassigned += 1
                if worker.busy_with == visit.id:
                    worker.busy_with = None
            if self.cfg.policy == "nearest":
                for visit in visits:
                    self._nearest(session, visit)
        self.placement_due = True

    def _on_watch(self) -> None:
        with self.db.session_scope() as session:
            watch_deadlines(session, now=self.now, public_url=PUBLIC_URL)
            entered = session.scalars(
                sa.select(Visit).where(Visit.jeopardy_since == self.now,
                                       Visit.jeopardy_cause.in_(("not_accepted", "unassigned")))
                .order_by(Visit.id)).all()
            networks = self._coordinate(session, list(entered))
            networks |= self._decide(session)
        if self.cfg.policy == "optimised":
            for network_id in sorted(networks):
                self._replan(network_id)
        self._again("watch", self.cfg.watch_every_minutes)

    def _coordinate(self, session: so.Session, visits: list[Visit]) -> set[int]:
        """The coordinator's answer to an escalation: withdraw unanswered offers, re-plan."""
        networks = set()
        for visit in visits:
            if (visit.status == "offered" and visit.jeopardy_cause == "not_accepted"
                    and visit.assigned_staff_id is not None):
                visit_actions.withdraw_unanswered(session, visit=visit, now=self.now)
                self.visit_logs.setdefault(visit.id, VisitLog()).no_answers += 1
            if visit.status == "unassigned":
                if self.cfg.policy == "nearest":
                    self._nearest(session, visit)
                elif visit.network_id is not None:
                    networks.add(visit.network_id)
        session.flush()
        return networks

    def _decide(self, session: so.Session) -> set[int]:
        """The on-call coordinator's answer to "needs a decision" (a 2-hour visit nobody can
        reach in time, H-006): let the worker who can start earliest go late (with a quarter
        of an hour's slack), or hand the patient back to 111/999 when nobody can."""
        waiting = session.scalars(sa.select(Visit).where(
            Visit.status == "unassigned", Visit.jeopardy_cause == jeopardy.NEEDS_DECISION)
            .order_by(Visit.deadline, Visit.id)).all()
        networks = set()
        for visit in waiting:
            choices = jeopardy.options(session, visit, now=self.now, provider=self.provider)
            if choices.late:
                best = choices.late[0]
                self.decisions["late_allowed"] += 1
                jeopardy.decide(session, visit_id=visit.id, choice="allow_late",
                                actor=SIM_COORDINATOR, now=self.now, staff_id=best.staff_id,
                                late_minutes=min(jeopardy.MAX_LATE_MINUTES,
                                                 best.late_minutes + 15))
            else:
                self.decisions["handed_back"] += 1
                jeopardy.decide(session, visit_id=visit.id, choice="hand_back",
                                actor=SIM_COORDINATOR, now=self.now)
            if visit.network_id is not None:
                networks.add(visit.network_id)
        # The phone-list baseline has no planner to ask who could be there sooner.
        moved = self._decide_accepted_late(session) if self.cfg.policy == "optimised" else set()
        networks |= moved
        if waiting or moved:
            self.placement_due = True
        return networks

    def _decide_accepted_late(self, session: so.Session) -> set[int]:
        """The on-call coordinator's answer to an accepted 2-hour visit the plan now starts
        after its deadline (H-041: an overrun or another accepted visit pushed it): give it to
        a worker who can start it at least :data:`MOVE_GAIN` sooner, on time if anyone can
        (the first worker is told it is withdrawn), else let its own worker run late (a
        quarter of an hour's slack), so the question is answered rather than left to ring.
        Returns the networks whose plan changed."""
        waiting = session.scalars(sa.select(Visit).where(
            Visit.status == "accepted", Visit.jeopardy_cause == jeopardy.LATE_ARRIVAL)
            .order_by(Visit.deadline, Visit.id)).all()
        networks: set[int] = set()
        for visit in waiting:
            own_id = visit.assigned_staff_id
            if not jeopardy.awaiting_decision(visit) or own_id is None:
                continue
            choices = jeopardy.options(session, visit, now=self.now, provider=self.provider)
            # Its own worker's best start as their day stands, and the plan's: another worker
            # must beat both (the plan may be behind a re-plan the insertion already sees).
            current = visit.planned_start or self.now
            own = next((o.start for o in choices.late if o.staff_id == own_id), current)
            other = next((o for o in choices.late if o.staff_id != own_id), None)
            if other is not None and other.start + MOVE_GAIN <= min(own, current):
                staff_id, start = other.staff_id, other.start
                self.decisions["accepted_late_moved"] += 1
            else:
                staff_id, start = own_id, current
                self.decisions["accepted_late_kept"] += 1
            late = math.ceil(max(0.0, (start - visit.deadline).total_seconds()) / 60)
            jeopardy.decide(session, visit_id=visit.id, choice="allow_late",
                            actor=SIM_COORDINATOR, now=self.now, staff_id=staff_id,
                            late_minutes=max(1, min(jeopardy.MAX_LATE_MINUTES, late + 15)))
            if visit.network_id is not None:
                networks.add(visit.network_id)
        return networks

    def _on_tick(self) -> None:
        if self.cfg.policy == "optimised":
            self.placement_due = True
        else:
            with self.db.session_scope() as session:
                for visit in session.scalars(sa.select(Visit).where(
                        Visit.status == "unassigned").order_by(Visit.priority, Visit.deadline,
                                                               Visit.id)).all():
                    self._nearest(session, visit)
        self._again("tick", self.cfg.tick_every_minutes)

    def _on_reoptimise(self) -> None:
        with self.db.session_scope() as session:  # only networks with something to move
            ids = session.scalars(sa.select(Visit.network_id).where(
                Visit.status.in_(states.VISIT_MOVABLE_STATUSES),
                Visit.network_id.is_not(None)).distinct().order_by(Visit.network_id)).all()
        for network_id in ids:
            if network_id is not None:
                self._replan(network_id)
        self._again("reoptimise", self.cfg.reoptimise_every_minutes)

    def _on_progress(self) -> None:
        with self.db.session_scope() as session:
            referrals = session.scalar(sa.select(sa.func.count()).select_from(Referral)) or 0
            open_visits = session.scalar(sa.select(sa.func.count()).select_from(Visit).where(
                Visit.status.in_(states.VISIT_OPEN_STATUSES))) or 0
            urgent = session.execute(sa.select(Visit.arrived_at, Visit.deadline).where(
                Visit.category == "urgent_2h", Visit.arrived_at.is_not(None))).all()
        met = sum(1 for arrived, deadline in urgent if arrived is not None and arrived <= deadline)
        share = f"{met / len(urgent):.0%}" if urgent else "-"
        self.progress(f"[{self.cfg.policy}] {self.now.astimezone(self.start.tzinfo):%H:%M} "
                      f"referrals {referrals}, open visits {open_visits}, "
                      f"urgent on time so far {met}/{len(urgent)} ({share})")
        self.at(self.now + timedelta(hours=1), "progress")

    # ------------------------------------------------------------------ helpers

    def _after(self) -> None:
        """After every event: run the placer if something new needs placing, then send texts."""
        if self.placement_due and self.cfg.policy == "optimised":
            with self.db.session_scope() as session:
                policies.place(session, now=self.now, provider=self.provider,
                               seconds=self.cfg.place_seconds, stats=self.planner,
                               offer_lead=self._offer_lead(),
                               rescue_seconds=self.cfg.rescue_seconds,
                               rescue_solutions=self.cfg.reoptimise_solutions,
                               retries=self.place_retries)
        self.placement_due = False
        self._send()

    def _send(self) -> None:
        if not self._texts_waiting():
            return
        outbox.send_pending(self.db, backend=self.backend, now=self.now, limit=SEND_BATCH,
                            base_url=PUBLIC_URL)
        fresh = self.backend.sent[self.sent_seen:]
        self.sent_seen = len(self.backend.sent)
        offers = [(sms.to, match.group(1)) for sms in fresh
                  if sms.to in self.phones and (match := OFFER.search(sms.body))]
        if not offers:
            return
        with self.db.session_scope() as session:
            for phone, reference in offers:
                self._maybe_reply(session, self.phones[phone], reference)

    def _texts_waiting(self) -> bool:
        """Whether any outbound text is pending or being sent. Most events queue none, and
        ``send_pending`` with nothing to do still reconciles and claims (a third of a
        one-network day's database time went there); skipping it changes nothing else: the
        local backend takes every text at once, so none is left 'sending'."""
        with self.db.session_scope() as session:
            return session.scalar(sa.select(Message.id).where(
                Message.direction == "outbound", Message.status.in_(("pending", "sending")))
                .limit(1)) is not None

    def _maybe_reply(self, session: so.Session, staff_id: int, reference: str) -> None:
        visit = visit_actions.find_visit(session, reference)
        if visit is None or visit.status != "offered" or visit.assigned_staff_id != staff_id:
            return
        assert visit.offered_at is not None
        key = (visit.id, staff_id, visit.offered_at)
        if key in self.offers_seen:
            return  # a re-timed offer: the worker is already deciding
        self.offers_seen.add(key)
        log = self.visit_logs.setdefault(visit.id, VisitLog())
        log.first_offered = log.first_offered or self.now
        attempt = self.attempts.get((visit.id, staff_id), 0) + 1
        self.attempts[(visit.id, staff_id)] = attempt
        reply = fieldwork.offer_reply(self.cfg.field, self.cfg.seed, visit.id, staff_id, attempt)
        if reply.kind != fieldwork.NO_ANSWER:
            self.at(self.now + reply.delay, "reply", visit.id, staff_id, reply)

    def _replan(self, network_id: int) -> None:
        with self.db.session_scope() as session:
            policies.replan_network(session, now=self.now, provider=self.provider,
                                    network_id=network_id, seconds=self.cfg.reoptimise_seconds,
                                    solutions=self.cfg.reoptimise_solutions,
                                    stats=self.planner, offer_lead=self._offer_lead())

    def _offer_lead(self) -> timedelta | None:
        minutes = self.cfg.offer_lead_minutes
        return None if minutes is None else timedelta(minutes=minutes)

    def _nearest(self, session: so.Session, visit: Visit) -> None:
        if visit.status != "unassigned":
            return
        positions = {w.staff_id: w.location for w in self.workers.values()}
        policies.nearest_assign(session, visit=visit, now=self.now, provider=self.provider,
                                positions=positions)

    def _travel(self, origin: LatLon, destination: LatLon, mode: str) -> float:
        return float(self.provider.matrix([origin], [destination], mode=mode)[0][0])

    def _shift_log(self, shift_id: int | None, *, since: datetime, travel: float = 0.0,
                   visit: float = 0.0) -> WorkerLog | None:
        log = self.shift_logs.get(shift_id) if shift_id is not None else None
        if log is not None:
            log.travel_seconds += travel
            log.visit_seconds += visit
            span = travel + visit
            for hour, seconds in _by_hour(since, since + timedelta(seconds=span)).items():
                log.busy_by_hour[hour] = log.busy_by_hour.get(hour, 0.0) + seconds
        return log


def _by_hour(start: datetime, end: datetime) -> dict[int, float]:
    """Seconds of ``start..end`` falling in each Europe/London hour of the day (for charts)."""
    out: dict[int, float] = {}
    cursor = start.astimezone(LONDON)
    stop = end.astimezone(LONDON)
    while cursor < stop:
        nxt = min(stop, cursor.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
        out[cursor.hour] = out.get(cursor.hour, 0.0) + (nxt - cursor).total_seconds()
        cursor = nxt
    return out
