"""Planning tasks for the workers: the ledger, and the guard that makes them safe to re-run.

Issue 18 part 5. When a task broker is configured the scheduler only decides what to run when
(:func:`due_place`, :func:`due_reoptimise`, :func:`due_plans`, :func:`due_capacity` record the
tasks to send) and workers on any number of machines run them
(:mod:`dispatch.planning.work`). A worker can die at any moment and its task is then run again
by another; two rules make that safe, both checked in the apply's own transaction
(:func:`claim_apply`, called by :func:`dispatch.planning.pipeline.apply`):

- **nothing applied twice** (H-085): the task's ledger row is marked ``applied`` in the
  transaction that writes its plan; a re-run finding it so applies nothing;
- **never an older plan over a newer one** (H-086): each network counts the plans applied to it
  (``networks.plan_generation``); a plan remembers the generation it was read at, and is
  applied only if the network is still at it (the row locked ``FOR UPDATE``), moving it on by
  one. A plan read before another was applied is dropped as superseded.

Nothing here imports the task engine: these are rows and rules, run in any process.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models import CapacityPlan, Network, Plan, PlanningTask, Visit
from dispatch.planning.retries import PlacementRetries, urgent_first
from dispatch.states import VISIT_OPEN_STATUSES

log = logging.getLogger(__name__)

KINDS = ("place", "reoptimise", "plan", "capacity")
OPEN = ("queued", "running")
FINAL = ("applied", "done", "superseded", "failed")
#: An open task older than this is taken as lost (its message never sent, or the broker's data
#: lost) and the work is sent again.
STALE_AFTER = timedelta(minutes=10)
NOTE_LENGTH = 300


class Superseded(Exception):
    """A newer plan was applied to the network after this one was read: it is not applied."""


class AlreadyApplied(Exception):
    """The task's plan was applied by an earlier run (its worker died before saying so)."""


@dataclass(frozen=True, slots=True)
class Claim:
    """What a task brings to its apply: its ledger id (see :func:`claim_apply`)."""

    task_id: str


# --- the networks' plan generation -------------------------------------------------------------


def generation(session: so.Session, network_id: int) -> int:
    """The plans applied to ``network_id`` so far (read with the problem)."""
    return int(session.scalar(sa.select(Network.plan_generation)
                              .where(Network.id == network_id)) or 0)


def advance(session: so.Session, network_id: int) -> int:
    """One more plan applied to ``network_id`` (in the apply's transaction); the new count."""
    session.execute(sa.update(Network).where(Network.id == network_id)
                    .values(plan_generation=Network.plan_generation + 1))
    return generation(session, network_id)


def claim_apply(session: so.Session, claim: Claim, *, network_id: int,
                read_generation: int) -> None:
    """Before a task's plan is written, in the same transaction: lock the network's row and
    check the task may apply.

    :raise AlreadyApplied: an earlier run of the task applied its plan.
    :raise Superseded: the network has had another plan applied since this one was read.
    """
    current = session.scalar(sa.select(Network.plan_generation)
                             .where(Network.id == network_id).with_for_update())
    row = session.get(PlanningTask, claim.task_id, with_for_update=True,
                      populate_existing=True)
    if row is None:
        raise ValueError(f"task {claim.task_id} is not recorded: its plan is not applied")
    if row.status == "applied":
        raise AlreadyApplied(f"task {claim.task_id}: applied by an earlier run")
    if int(current or 0) != read_generation:
        raise Superseded(f"network {network_id}: plan read at generation {read_generation}, "
                         f"the network is at {current}")


def mark_applied(session: so.Session, claim: Claim, *, applied_generation: int | None,
                 now: datetime, note: str | None = None) -> None:
    """Record, in the apply's transaction, that the task's plan is written."""
    row = session.get(PlanningTask, claim.task_id, with_for_update=True)
    if row is None:
        raise ValueError(f"task {claim.task_id} is not recorded")
    row.status, row.applied_generation, row.finished_at = "applied", applied_generation, now
    if note:
        row.note = note[:NOTE_LENGTH]
    session.flush()


# --- the ledger ---------------------------------------------------------------------------------


def new_id() -> str:
    return str(uuid.uuid4())


def record(session: so.Session, *, kind: str, now: datetime, network_id: int | None = None,
           subject_id: int | None = None) -> str:
    """A task about to be sent (status ``queued``); its id is the message's argument."""
    if kind not in KINDS:
        raise ValueError(f"unknown planning task kind {kind!r}")
    task_id = new_id()
    session.add(PlanningTask(id=task_id, kind=kind, network_id=network_id,
                             subject_id=subject_id, status="queued", attempts=0, queued_at=now))
    session.flush()
    return task_id


def open_tasks(session: so.Session, kind: str, *, now: datetime,
               stale_after: timedelta = STALE_AFTER) -> set[int | None]:
    """The networks (kinds ``place``/``reoptimise``) or subjects (``plan``/``capacity``) with
    a task of ``kind`` queued or running, not older than ``stale_after``."""
    key = PlanningTask.network_id if kind in ("place", "reoptimise") else PlanningTask.subject_id
    return set(session.scalars(
        sa.select(key).where(PlanningTask.kind == kind, PlanningTask.status.in_(OPEN),
                             sa.func.coalesce(PlanningTask.started_at, PlanningTask.queued_at)
                             >= now - stale_after)))


def start(session: so.Session, task_id: str, *, kind: str, worker: str, now: datetime,
          network_id: int | None = None, subject_id: int | None = None) -> PlanningTask | None:
    """A worker takes the task: ``running``, one more attempt. None when it has finished
    already (a message delivered again after its worker finished but died before the ack), or
    when this database never recorded it (H-089: every task is recorded before it is sent, so
    a task unknown here is another deployment's on the same broker, and is not run)."""
    row = session.get(PlanningTask, task_id, with_for_update=True)
    if row is None:
        log.error("task %s (%s, network %s, subject %s) is not recorded in this database: "
                  "not run (another deployment sharing the broker and TASK_NAMESPACE?)",
                  task_id, kind, network_id, subject_id)
        return None
    if row.kind != kind or (network_id is not None and row.network_id != network_id) or (
            subject_id is not None and row.subject_id != subject_id):
        log.error("task %s does not match its record (%s/%s/%s here): not run",
                  task_id, row.kind, row.network_id, row.subject_id)
        return None
    if row.status in FINAL:
        return None
    row.status, row.worker, row.started_at = "running", worker[:80], now
    row.attempts = (row.attempts or 0) + 1
    session.flush()
    return row


def finish(session: so.Session, task_id: str, *, status: str, now: datetime,
           note: str | None = None) -> str:
    """The task ended with ``status`` (``applied`` stays ``applied`` whatever is said after);
    returns the status recorded."""
    if status not in FINAL:
        raise ValueError(f"not a final status: {status!r}")
    row = session.get(PlanningTask, task_id, with_for_update=True)
    if row is None:
        return status
    if row.status != "applied":
        row.status = status
    row.finished_at = now
    if note:
        row.note = note[:NOTE_LENGTH]
    session.flush()
    return row.status


def note(session: so.Session, task_id: str, text: str) -> None:
    """Say why an attempt failed (the task stays as it is)."""
    row = session.get(PlanningTask, task_id)
    if row is not None:
        row.note = text[:NOTE_LENGTH]


def read_generation_of(session: so.Session, task_id: str, read_generation: int) -> None:
    """Note the generation the task's plan was read at (for the post-mortem)."""
    row = session.get(PlanningTask, task_id)
    if row is not None:
        row.read_generation = read_generation


# --- what to run when (the scheduler) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Due:
    """A task recorded and to be sent: its id, network or subject, and new visits to place."""

    task_id: str
    network_id: int | None = None
    subject_id: int | None = None
    visit_ids: tuple[int, ...] = ()


def due_place(session: so.Session, *, new_visits: Mapping[int, Sequence[int]], now: datetime,
              retries: PlacementRetries, urgent: Iterable[int] = (),
              stale_after: timedelta = STALE_AFTER) -> list[Due]:
    """One ``place`` task per network with never-planned visits due a try (``new_visits``
    and ``urgent``: :func:`dispatch.planning.pipeline.new_visits`, urgent first) and no
    placement of its own waiting or running. A network with 2-hour visits due sends those
    alone; its other visits go in its next task, once this one has ended (as the in-process
    placer runs them after). ``retries`` is the placer's memory (see
    :mod:`dispatch.planning.retries`), moved on for the visits sent."""
    busy = open_tasks(session, "place", now=now, stale_after=stale_after)
    urgent = frozenset(urgent)  # read twice below
    found = []
    for network_id, due in retries.due(new_visits, urgent=urgent, now=now).items():
        if network_id in busy:
            continue
        batch = urgent_first(due, urgent)[0]  # the rest when this one has ended
        found.append(Due(record(session, kind="place", now=now, network_id=network_id),
                         network_id=network_id, visit_ids=tuple(batch)))
        retries.tried(batch, now)
    return found


def due_reoptimise(session: so.Session, *, now: datetime,
                   stale_after: timedelta = STALE_AFTER) -> list[Due]:
    """One ``reoptimise`` task per network with open visits and none already waiting."""
    busy = open_tasks(session, "reoptimise", now=now, stale_after=stale_after)
    networks = session.scalars(
        sa.select(Network.id).where(sa.exists().where(
            Visit.network_id == Network.id, Visit.status.in_(VISIT_OPEN_STATUSES)))
        .order_by(Network.id)).all()
    return [Due(record(session, kind="reoptimise", now=now, network_id=n), network_id=n)
            for n in networks if n not in busy]


def due_plans(session: so.Session, *, now: datetime,
              stale_after: timedelta = STALE_AFTER) -> list[Due]:
    """One ``plan`` task per pending plan request (``POST /api/plans``, "re-plan now")."""
    busy = open_tasks(session, "plan", now=now, stale_after=stale_after)
    pending = session.execute(sa.select(Plan.id, Plan.network_id)
                              .where(Plan.status == "pending").order_by(Plan.id)).all()
    return [Due(record(session, kind="plan", now=now, network_id=row.network_id,
                       subject_id=row.id), network_id=row.network_id, subject_id=row.id)
            for row in pending if row.id not in busy]


def due_capacity(session: so.Session, *, now: datetime,
                 stale_after: timedelta = STALE_AFTER) -> list[Due]:
    """One ``capacity`` task per pending capacity-planner run."""
    busy = open_tasks(session, "capacity", now=now, stale_after=stale_after)
    pending = session.scalars(sa.select(CapacityPlan.id).where(CapacityPlan.status == "pending")
                              .order_by(CapacityPlan.id)).all()
    return [Due(record(session, kind="capacity", now=now, subject_id=i), subject_id=i)
            for i in pending if i not in busy]


def prune(session: so.Session, *, now: datetime, keep: timedelta) -> int:
    """Delete the ledger's finished tasks (``applied``, ``done``, ``superseded``, ``failed``)
    that ended more than ``keep`` before ``now``; returns how many. Open tasks (``queued``,
    ``running``) are never pruned, however old: a worker may still come to apply one, and its
    apply needs its row (:func:`claim_apply`)."""
    if keep < timedelta(0):
        raise ValueError("the retention cannot be negative")
    result = session.execute(sa.delete(PlanningTask).where(
        PlanningTask.status.in_(FINAL), PlanningTask.finished_at.is_not(None),
        PlanningTask.finished_at < now - keep))
    return int(getattr(result, "rowcount", 0) or 0)


def summary(session: so.Session) -> Mapping[str, int]:
    """Tasks by status (``dispatch doctor``)."""
    rows = session.execute(sa.select(PlanningTask.status, sa.func.count())
                           .group_by(PlanningTask.status)).all()
    return {row[0]: int(row[1]) for row in rows}


def applied_per_network(session: so.Session, kind: str) -> dict[int, int]:
    """How many tasks of ``kind`` applied a plan to each network (tests, the post-mortem)."""
    rows = session.execute(sa.select(PlanningTask.network_id, sa.func.count())
                           .where(PlanningTask.kind == kind, PlanningTask.status == "applied")
                           .group_by(PlanningTask.network_id)).all()
    return {int(row[0]): int(row[1]) for row in rows if row[0] is not None}

