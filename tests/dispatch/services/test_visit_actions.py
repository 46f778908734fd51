"""The visit state machine's actions: legal moves, the texts they write, stale and foreign
replies refused, the optimistic lock, referral progress and re-planning after commit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.database import REPLAN_HOOKS_KEY
from dispatch.errors import Conflict, InvalidInput
from dispatch.models import AuditEvent, Message, Staff
from dispatch.services import visit_actions as va
from tests.fakes.dispatch_world import BASE_URL, NOW, World, make_world

START = NOW + timedelta(minutes=20)


@pytest.fixture
def world(session: so.Session) -> World:
    return make_world(session)


@pytest.fixture
def replans(session: so.Session) -> Iterator[list[int | None]]:
    """Record re-plan requests through the session's hook list (as a Database passes it)."""
    calls: list[int | None] = []
    session.info[REPLAN_HOOKS_KEY] = [calls.append]
    yield calls
    del session.info[REPLAN_HOOKS_KEY]


def _texts(session: so.Session, staff_id: int) -> list[str]:
    return list(session.scalars(sa.select(Message.body).where(
        Message.staff_id == staff_id, Message.direction == "outbound").order_by(Message.id)))


def _mark_all_sent(session: so.Session) -> None:
    """What the sender job does to every queued text."""
    session.execute(sa.update(Message).where(Message.status == "pending").values(
        status="sent", attempts=1))


def _offer(session: so.Session, w: World, staff: Staff | None = None) -> None:
    va.assign(session, visit=w.visit, staff=staff or w.nurse, shift=None, planned_start=START,
              now=NOW, base_url=BASE_URL)


def test_assign_offers_and_writes_the_offer_text(session: so.Session, world: World) -> None:
    """Assigning moves unassigned -> offered and stages the offer text in the same session."""
    _offer(session, world)

    assert world.visit.status == "offered"
    assert world.visit.assigned_staff_id == world.nurse.id
    [text] = _texts(session, world.nurse.id)
    assert text.startswith("Visit 4821: urgent 2h, W12, 10:40-11:25 today. Reply ACCEPT 4821")
    assert f"Details: {BASE_URL}/visits/4821" in text
    message = session.scalar(sa.select(Message).where(Message.staff_id == world.nurse.id))
    assert message is not None and message.status == "pending" and message.send_key


def test_assign_to_someone_else_tells_the_old_worker(session: so.Session, world: World) -> None:
    """Re-assigning an offered visit texts the old worker that it is no longer needed."""
    _offer(session, world)

    _offer(session, world, world.other)

    assert world.visit.assigned_staff_id == world.other.id and world.visit.status == "offered"
    assert "no longer needed" in _texts(session, world.nurse.id)[-1]
    assert _texts(session, world.other.id)[0].startswith("Visit 4821:")


def test_assign_same_worker_small_shift_sends_nothing_new(
    session: so.Session, world: World
) -> None:
    """The planner re-optimises often; a few minutes' change must not spam the worker."""
    _offer(session, world)

    va.assign(session, visit=world.visit, staff=world.nurse, shift=None,
              planned_start=START + timedelta(minutes=5), now=NOW, base_url=BASE_URL)

    assert len(_texts(session, world.nurse.id)) == 1
    assert world.visit.planned_start == START + timedelta(minutes=5)


def test_assign_same_worker_big_shift_sends_retimed_offer(
    session: so.Session, world: World
) -> None:
    """A window moved by 15 minutes or more after the offer went out is texted again."""
    _offer(session, world)
    _mark_all_sent(session)

    va.assign(session, visit=world.visit, staff=world.nurse, shift=None,
              planned_start=START + timedelta(minutes=30), now=NOW, base_url=BASE_URL)

    assert _texts(session, world.nurse.id)[-1].startswith("Visit 4821 time changed: ")


def test_retiming_an_offer_not_yet_sent_rewrites_it(session: so.Session, world: World) -> None:
    """Re-timed twice before the sender ran: the worker gets one offer, with the final time."""
    _offer(session, world)

    for minutes in (30, 60):
        va.assign(session, visit=world.visit, staff=world.nurse, shift=None,
                  planned_start=START + timedelta(minutes=minutes), now=NOW, base_url=BASE_URL)

    [text] = _texts(session, world.nurse.id)
    assert text.startswith("Visit 4821: ") and "time changed" not in text
    assert "11:40-" in text  # START + 60 minutes, London time


def test_a_text_the_sender_has_claimed_is_never_rewritten(
    session: so.Session, world: World
) -> None:
    _offer(session, world)
    session.execute(sa.update(Message).values(status="sending", attempts=1))

    va.assign(session, visit=world.visit, staff=world.nurse, shift=None,
              planned_start=START + timedelta(minutes=60), now=NOW, base_url=BASE_URL)

    first, second = _texts(session, world.nurse.id)
    assert "11:40-" not in first and second.startswith("Visit 4821 time changed: ")


def test_accept_pins_the_visit(session: so.Session, world: World) -> None:
    """Accepting pins the visit so the planner never moves it, and is audited."""
    _offer(session, world)

    va.accept(session, visit=world.visit, staff=world.nurse, now=NOW)

    assert world.visit.status == "accepted" and world.visit.pinned
    assert world.visit.accepted_at == NOW
    actions = session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.entity_id == str(world.visit.id)))
    assert "accept_visit" in set(actions)


def test_accept_by_a_foreign_worker_is_refused(session: so.Session, world: World) -> None:
    """A worker cannot accept a visit offered to someone else."""
    _offer(session, world)

    with pytest.raises(Conflict, match="not offered to you"):
        va.accept(session, visit=world.visit, staff=world.other, now=NOW)
    assert world.visit.status == "offered"


def test_accept_after_reassignment_is_stale(session: so.Session, world: World) -> None:
    """An ACCEPT that arrives after the visit went to someone else changes nothing."""
    _offer(session, world)
    _offer(session, world, world.other)

    with pytest.raises(Conflict, match="not offered to you"):
        va.accept(session, visit=world.visit, staff=world.nurse, now=NOW)


def test_accept_twice_is_refused_clearly(session: so.Session, world: World) -> None:
    """A repeated ACCEPT says it is already accepted."""
    _offer(session, world)
    va.accept(session, visit=world.visit, staff=world.nurse, now=NOW)

    with pytest.raises(Conflict, match="already accepted"):
        va.accept(session, visit=world.visit, staff=world.nurse, now=NOW)


def test_assign_refuses_a_pinned_visit(session: so.Session, world: World) -> None:
    """Accepted visits are pinned: the planner cannot take them away."""
    _offer(session, world)
    va.accept(session, visit=world.visit, staff=world.nurse, now=NOW)

    with pytest.raises(Conflict, match="cannot be re-assigned"):
        _offer(session, world, world.other)


def test_decline_excludes_the_worker_and_replans_after_commit(
    session: so.Session, world: World, replans: list[int | None]
) -> None:
    """Decline frees the visit, bars that worker, and re-plans only once it has committed."""
    _offer(session, world)

    va.decline(session, visit=world.visit, staff=world.nurse, reason="stuck in traffic", now=NOW)
    assert replans == []
    session.commit()

    assert world.visit.status == "unassigned" and world.visit.assigned_staff_id is None
    assert world.visit.excluded_staff_ids == [world.nurse.id]
    assert replans == [world.network.id]
    with pytest.raises(Conflict, match="declined"):
        _offer(session, world)


def test_retime_accepted_follows_the_plan_and_texts_only_a_real_move(
    session: so.Session, world: World
) -> None:
    """An accepted visit moved by the plan gets the new time; the worker is texted only when
    it moved by RETIME_NOTICE or more, and nothing else about the visit changes."""
    _offer(session, world)
    va.accept(session, visit=world.visit, staff=world.nurse, now=NOW)
    before = len(_texts(session, world.nurse.id))

    assert va.retime_accepted(session, visit=world.visit, planned_start=START + timedelta(
        minutes=5), now=NOW)
    assert len(_texts(session, world.nurse.id)) == before
    assert va.retime_accepted(session, visit=world.visit, planned_start=START + timedelta(
        minutes=40), now=NOW)

    assert world.visit.planned_start == START + timedelta(minutes=40)
    assert world.visit.status == "accepted" and world.visit.assigned_staff_id == world.nurse.id
    [moved] = _texts(session, world.nurse.id)[before:]
    assert moved.startswith("Visit 4821 (yours) is now planned 11:20") and "ACCEPT" not in moved
    assert not va.retime_accepted(session, visit=world.visit,
                                  planned_start=START + timedelta(minutes=40), now=NOW)


def test_withdraw_unanswered_remembers_the_silent_worker_without_barring_them(
    session: so.Session, world: World, replans: list[int | None]
) -> None:
    """An unanswered offer is taken back (the worker is told), the worker is remembered as
    silent, not excluded, and the network is re-planned once it commits."""
    _offer(session, world)
    _mark_all_sent(session)

    va.withdraw_unanswered(session, visit=world.visit, now=NOW + timedelta(minutes=15))
    session.commit()

    assert world.visit.status == "unassigned" and world.visit.assigned_staff_id is None
    assert world.visit.unanswered_staff_ids == [world.nurse.id]
    assert world.visit.excluded_staff_ids == []
    assert "withdrawn" in _texts(session, world.nurse.id)[-1]
    assert replans == [world.network.id]
    _offer(session, world)  # asked again: allowed, unlike after a decline
    assert world.visit.status == "offered"


def test_withdraw_unanswered_needs_a_waiting_offer(session: so.Session, world: World) -> None:
    """Only an offer still waiting for its answer can be withdrawn as unanswered."""
    _offer(session, world)
    va.accept(session, visit=world.visit, staff=world.nurse, now=NOW)

    with pytest.raises(Conflict, match="no offer waiting"):
        va.withdraw_unanswered(session, visit=world.visit, now=NOW)
    assert world.visit.status == "accepted" and world.visit.unanswered_staff_ids == []


def test_decline_rolled_back_does_not_replan(
    session: so.Session, world: World, replans: list[int | None]
) -> None:
    """A decline whose transaction rolls back must not trigger the planner."""
    _offer(session, world)
    session.commit()

    va.decline(session, visit=world.visit, staff=world.nurse, reason=None, now=NOW)
    session.rollback()
    session.commit()

    assert replans == []


def test_arrive_moves_the_referral_in_progress(session: so.Session, world: World) -> None:
    """Arrival records the time and the referral goes scheduled -> in_progress."""
    _offer(session, world)
    va.accept(session, visit=world.visit, staff=world.nurse, now=NOW)

    va.arrive(session, visit=world.visit, staff=world.nurse, now=NOW + timedelta(minutes=30))

    assert world.visit.status == "on_site"
    assert world.visit.arrived_at == NOW + timedelta(minutes=30)
    assert world.referral.status == "in_progress"


def test_arrive_without_accept_counts_as_accepting(session: so.Session, world: World) -> None:
    """A worker who turns up without replying ACCEPT has still taken the visit."""
    _offer(session, world)

    va.arrive(session, visit=world.visit, staff=world.nurse, now=NOW)

    assert world.visit.status == "on_site" and world.visit.accepted_at == NOW


def test_complete_completes_the_referral(session: so.Session, world: World) -> None:
    """The referral's last visit completing completes the referral."""
    _offer(session, world)
    va.arrive(session, visit=world.visit, staff=world.nurse, now=NOW)

    va.complete(session, visit=world.visit, staff=world.nurse, outcome="visit_completed",
                now=NOW + timedelta(minutes=40))

    assert world.visit.status == "completed" and world.visit.outcome == "visit_completed"
    assert world.referral.status == "completed"


def test_complete_before_arrival_is_refused(session: so.Session, world: World) -> None:
    """DONE before ARRIVED would invent an arrival time; the worker is told to send ARRIVED."""
    _offer(session, world)
    va.accept(session, visit=world.visit, staff=world.nurse, now=NOW)

    with pytest.raises(Conflict, match="reply ARRIVED 4821 first"):
        va.complete(session, visit=world.visit, staff=world.nurse, outcome="visit_completed",
                    now=NOW)


def test_complete_with_unknown_outcome_is_invalid(session: so.Session, world: World) -> None:
    """Outcomes come from the vocabulary."""
    with pytest.raises(InvalidInput):
        va.complete(session, visit=world.visit, staff=world.nurse, outcome="fine", now=NOW)


def test_complete_twice_is_refused(session: so.Session, world: World) -> None:
    """A late duplicate DONE changes nothing."""
    _offer(session, world)
    va.arrive(session, visit=world.visit, staff=world.nurse, now=NOW)
    va.complete(session, visit=world.visit, staff=world.nurse, outcome="no_access", now=NOW)

    with pytest.raises(Conflict, match="already completed"):
        va.complete(session, visit=world.visit, staff=world.nurse, outcome="no_access", now=NOW)


def test_cancel_tells_the_worker_not_to_attend(session: so.Session, world: World) -> None:
    """Cancelling an offered visit texts the worker."""
    _offer(session, world)

    va.cancel(session, visit=world.visit, reason="patient admitted", now=NOW)

    assert world.visit.status == "cancelled"
    assert "is cancelled. Do not attend" in _texts(session, world.nurse.id)[-1]


def test_unassign_withdraws_and_clears(session: so.Session, world: World) -> None:
    """Unassigning (sickness, planner drop) clears the worker and tells them."""
    _offer(session, world)

    va.unassign(session, visit=world.visit, now=NOW, reason="off sick")

    assert world.visit.status == "unassigned" and world.visit.assigned_staff_id is None
    assert "withdrawn" in _texts(session, world.nurse.id)[-1]


def test_concurrent_change_becomes_a_conflict(session: so.Session, world: World) -> None:
    """A visit changed behind our back (version bumped) makes our flush a Conflict, not a
    silent overwrite."""
    _offer(session, world)
    session.flush()
    session.connection().execute(
        sa.text("UPDATE visits SET version = version + 1 WHERE id = :id"),
        {"id": world.visit.id})

    with pytest.raises(Conflict, match="changed by someone else"):
        va.accept(session, visit=world.visit, staff=world.nurse, now=NOW)


def test_an_unsent_text_of_an_earlier_offer_is_never_rewritten(
    session: so.Session, world: World
) -> None:
    """Withdrawn, then offered to the same worker again before the sender ran: the
    'withdrawn' text stays as it is and the re-timing touches only the new offer."""
    _offer(session, world)
    _mark_all_sent(session)
    va.unassign(session, visit=world.visit, now=NOW, reason="test")
    later = NOW + timedelta(minutes=5)
    va.assign(session, visit=world.visit, staff=world.nurse, shift=None, planned_start=START,
              now=later, base_url=BASE_URL)
    va.assign(session, visit=world.visit, staff=world.nurse, shift=None,
              planned_start=START + timedelta(minutes=60), now=later, base_url=BASE_URL)

    texts = _texts(session, world.nurse.id)
    assert any("withdrawn" in t for t in texts)
    assert texts[-1].startswith("Visit 4821: ") and "11:40-" in texts[-1]


def test_rewrite_unsent_ignores_texts_older_than_the_offer(
    session: so.Session, world: World
) -> None:
    """Only a pending 'withdrawn' text is left: a rewrite for an offer made after it finds
    nothing to rewrite (the caller queues a new text) and leaves it unchanged."""
    from dispatch.services.outbox import rewrite_unsent

    _offer(session, world)
    _mark_all_sent(session)
    va.unassign(session, visit=world.visit, now=NOW, reason="test")
    [withdrawn] = [t for t in _texts(session, world.nurse.id) if "withdrawn" in t]

    found = rewrite_unsent(session, visit_id=world.visit.id, staff_id=world.nurse.id,
                           body="Visit 4821: new offer", now=NOW + timedelta(minutes=5),
                           since=NOW + timedelta(minutes=5))

    assert not found
    assert withdrawn in _texts(session, world.nurse.id)
