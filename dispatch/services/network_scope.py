"""Which networks a person sees and acts on (issue 14: coordinators' networks).

A coordinator runs the networks listed for them (``dispatch user add NAME --role coordinator
--network ID``) or, as a hub coordinator, every network (``--all-networks``). Managers,
administrators and call handlers are not limited by network. The request's
:class:`~dispatch.actors.Actor` carries the set (``Actor.networks``); the checks here turn a
refusal into a 403 that names the networks on both sides, so the coordinator knows whom to ask.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import Forbidden, InvalidInput, NotFound
from dispatch.models import Network, Staff, User, UserNetwork, Visit
from dispatch.permissions import COORDINATOR as COORDINATOR_ROLE

NEEDS_NETWORKS = "a coordinator needs at least one network (--network ID) or --all-networks"


def networks_of(session: so.Session, user: User) -> frozenset[int] | None:
    """The networks ``user`` may see and act on; None: every network."""
    if user.role != COORDINATOR_ROLE or user.all_networks:
        return None
    return frozenset(session.scalars(
        sa.select(UserNetwork.network_id).where(UserNetwork.user_id == user.id)))


def may_act(session: so.Session, user: User, network_id: int | None) -> bool:
    """Whether ``user`` may see and act on ``network_id`` (a row with no network: yes)."""
    networks = networks_of(session, user)
    return networks is None or network_id is None or network_id in networks


def listed_networks(session: so.Session, user_id: int) -> list[int]:
    """The networks listed for a user (a hub coordinator's list is their home network only)."""
    return sorted(session.scalars(
        sa.select(UserNetwork.network_id).where(UserNetwork.user_id == user_id)))


def set_networks(session: so.Session, *, user: User, network_ids: Sequence[int],
                 all_networks: bool) -> None:
    """Give ``user`` these networks (or every network). The home network (where the board
    opens) stays if still listed, else becomes the first given.

    :raise InvalidInput: an unknown network id, or a coordinator left with no network.
    """
    wanted = list(dict.fromkeys(network_ids))
    known = set(session.scalars(sa.select(Network.id).where(Network.id.in_(wanted))))
    if missing := [i for i in wanted if i not in known]:
        raise InvalidInput("invalid networks", errors={
            "network": [f"no network with id {', '.join(map(str, missing))}"]})
    if user.role == COORDINATOR_ROLE and not wanted and not all_networks:
        raise InvalidInput("invalid networks", errors={"network": [NEEDS_NETWORKS]})
    session.execute(sa.delete(UserNetwork).where(UserNetwork.user_id == user.id))
    session.add_all(UserNetwork(user_id=user.id, network_id=i) for i in wanted)
    user.all_networks = all_networks
    if wanted and user.network_id not in wanted:
        user.network_id = wanted[0]
    session.flush()


def network_names(session: so.Session) -> dict[int, str]:
    """Every network's name by id."""
    return {i: n for i, n in session.execute(sa.select(Network.id, Network.name))}


def names(session: so.Session, network_ids: Iterable[int]) -> str:
    """"Camden North and Islington": network names in words, for messages."""
    found = sorted(session.scalars(sa.select(Network.name).where(Network.id.in_(network_ids))))
    if not found:
        return "no network"
    return found[0] if len(found) == 1 else f"{', '.join(found[:-1])} and {found[-1]}"


def require(session: so.Session, actor: Actor, network_id: int | None, *, what: str) -> None:
    """:raise Forbidden: ``actor`` does not coordinate ``network_id`` (naming both sides)."""
    if actor.covers(network_id):
        return
    network = session.get(Network, network_id)
    there = network.name if network is not None else f"network {network_id}"
    raise Forbidden(
        f"{what} belongs to {there}; you coordinate {names(session, actor.networks or ())} "
        f"only. Ask a coordinator of {there} or a hub coordinator")


def require_visit(session: so.Session, actor: Actor, visit_id: int) -> None:
    """:raise NotFound: no such visit. :raise Forbidden: a network ``actor`` does not run."""
    if actor.networks is None:
        return
    found = session.execute(sa.select(Visit.reference, Visit.network_id)
                            .where(Visit.id == visit_id)).first()
    if found is None:
        raise NotFound(f"visit {visit_id} not found")
    require(session, actor, found.network_id, what=f"Visit {found.reference}")


def require_staff(session: so.Session, actor: Actor, staff_id: int) -> Staff:
    """The member of staff. :raise NotFound: none. :raise Forbidden: not ``actor``'s network."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"staff {staff_id} not found")
    require(session, actor, staff.network_id, what=staff.name)
    return staff


def visible(actor: Actor, column: so.InstrumentedAttribute[int | None]
            ) -> sa.ColumnElement[bool]:
    """A WHERE clause keeping rows of ``actor``'s networks (and rows with no network)."""
    if actor.networks is None:
        return sa.true()
    return sa.or_(column.is_(None), column.in_(sorted(actor.networks)))


def messages_visible(actor: Actor) -> sa.ColumnElement[bool]:
    """A WHERE clause on ``Message`` keeping texts about the actor's networks: the visit's
    network, else the worker's; a text about neither (an unknown sender) is everyone's."""
    from dispatch.models import Message

    if actor.networks is None:
        return sa.true()
    visit, staff = so.aliased(Visit), so.aliased(Staff)  # the outer query may join both
    visit_network = (sa.select(visit.network_id).where(visit.id == Message.visit_id)
                     .scalar_subquery())
    staff_network = (sa.select(staff.network_id).where(staff.id == Message.staff_id)
                     .scalar_subquery())
    network = sa.func.coalesce(visit_network, staff_network)
    return sa.or_(network.is_(None), network.in_(sorted(actor.networks)))
