"""Every network with open visits is run by a coordinator (hazard H-111, control C2).

Coordinators see and act only on the networks listed for them (issue 14). A network nobody
runs (its coordinator disabled, moved to other networks, never set up), with no hub
coordinator either, has its visits in jeopardy seen by nobody on a board. The deadline watch
calls :func:`alert_uncoordinated` every minute: such a network with visits due within the
watch's horizon gets one escalation a London day (kind ``uncoordinated``), on the board's
attention list for everyone who can see it and texted to the network's on-call phone; it is
cleared as soon as an active coordinator runs the network again. ``dispatch doctor`` lists
the same networks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import SYSTEM
from dispatch.config import LONDON
from dispatch.models import Escalation, Network, User, UserNetwork, Visit
from dispatch.permissions import COORDINATOR
from dispatch.services import audit
from dispatch.sms.escalation import raise_escalation
from dispatch.states import VISIT_OPEN_STATUSES

KIND = "uncoordinated"
CAUSE = "no coordinator runs this network: give one this network (or a hub coordinator)"


def _has_hub(session: so.Session) -> bool:
    return session.scalar(sa.select(sa.exists().where(
        User.role == COORDINATOR, User.active.is_(True), User.all_networks.is_(True)))) or False


def _covered() -> sa.Select[int]:
    return (sa.select(UserNetwork.network_id).join(User, User.id == UserNetwork.user_id)
            .where(User.role == COORDINATOR, User.active.is_(True)))


def uncoordinated_networks(session: so.Session, *, now: datetime,
                           horizon: timedelta = timedelta(hours=24)) -> list[Network]:
    """Networks with open visits due within ``horizon`` that no active coordinator runs
    (none when an active hub coordinator runs every network)."""
    if _has_hub(session):
        return []
    with_visits = sa.select(Visit.network_id).where(
        Visit.status.in_(VISIT_OPEN_STATUSES), Visit.deadline <= now + horizon,
        Visit.network_id.is_not(None))
    return list(session.scalars(sa.select(Network).where(
        Network.id.in_(with_visits), Network.id.not_in(_covered())).order_by(Network.code)))


def alert_uncoordinated(session: so.Session, *, now: datetime,
                        horizon: timedelta = timedelta(hours=24)) -> int:
    """Raise the day's escalation for each network nobody runs and clear those run again;
    returns how many were raised now (their texts go with the watch's grouped send)."""
    networks = uncoordinated_networks(session, now=now, horizon=horizon)
    day = now.astimezone(LONDON).date().isoformat()
    raised = 0
    for network in networks:
        if raise_escalation(session, key=f"{KIND}:{network.id}:{day}", kind=KIND, cause=CAUSE,
                            now=now, network=network) is not None:
            raised += 1
            audit.record(session, actor=SYSTEM, action="network_uncoordinated", now=now,
                         entity=("network", network.id), purpose="deadline watch",
                         details={"code": network.code})
    session.execute(
        sa.update(Escalation)
        .where(Escalation.kind == KIND, Escalation.cleared_at.is_(None),
               Escalation.network_id.not_in([n.id for n in networks]))
        .values(cleared_at=now).execution_options(synchronize_session=False))
    return raised
