"""The dispatch board page and its poll (``dispatch/web/board.py``): which network, the board
itself with the hand-overs to chase, and, for the page, the absences and the care packages
waiting for the viewer.

The page calls :func:`view_board` once (the view is audited once, without a patient: the board
shows no patient identifiers); the poll calls :func:`read_board`. Like every service these
never commit: the page commits once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import NotFound
from dispatch.models import Absence, CarePackage, Network, Staff, User
from dispatch.services import absence, audit, network_scope, onward, package_queue
from dispatch.services.board import Board, day_bounds, load_board
from routing.travel import TravelTimeProvider

__all__ = ["BoardPage", "BoardRead", "choose_network", "read_board", "view_board"]


@dataclass(frozen=True)
class BoardRead:
    """The board and its unconfirmed hand-overs and overdue referrals out (H-022)."""

    board: Board
    handovers: list[onward.BoardHandover]


@dataclass(frozen=True)
class BoardPage:
    """The board as the page shows it: the read, the absences of workers of the viewer's
    networks today, and the submitted packages the viewer may decide."""

    read: BoardRead
    absences: list[tuple[Absence, Staff]]
    waiting: list[CarePackage]


def choose_network(
    session: so.Session, actor: Actor, *, asked: int | None, every: bool,
    user_id: int | None,
) -> int | None:
    """The network to show: ``asked`` if given, else every network (None) if ``every`` was
    asked, else the user's own network. A coordinator limited to some networks never gets
    every network: they get their home network instead.

    :raise Forbidden: ``asked`` is a network ``actor`` does not coordinate (naming theirs).
    """
    if asked is not None:
        network_scope.require(session, actor, asked, what="That network")
        return asked
    user = session.get(User, user_id) if user_id is not None else None
    home = user.network_id if user is not None else None
    if actor.networks is None:
        return None if every else home
    return home if home in actor.networks else min(actor.networks, default=None)


def read_board(
    session: so.Session, *, network_id: int | None, now: datetime,
    provider: TravelTimeProvider,
) -> BoardRead:
    """The board of ``network_id`` (None: every network) with its hand-overs to chase.

    :raise NotFound: no such network.
    """
    if network_id is not None and session.get(Network, network_id) is None:
        raise NotFound(f"network {network_id} not found")
    board = load_board(session, network_id=network_id, now=now, provider=provider)
    return BoardRead(board, onward.board_items(session, network_id=network_id, now=now))


def view_board(
    session: so.Session, *, network_id: int | None, actor: Actor, now: datetime,
    provider: TravelTimeProvider, limits: Mapping[str, int], purpose: str,
    request_id: str | None = None,
) -> BoardPage:
    """:func:`read_board`, audited (``view_board``), with today's absences of ``actor``'s
    networks' workers and the packages waiting for ``actor``'s decision."""
    read = read_board(session, network_id=network_id, now=now, provider=provider)
    audit.record(session, actor=actor, action="view_board", now=now,
                 entity=("network", network_id), purpose=purpose, request_id=request_id,
                 details={"visits": len(read.board.visits)})
    start, end = day_bounds(read.board.day)
    off = [(a, s) for a, s in absence.on_board(session, network_id=network_id, start=start,
                                                end=end) if actor.covers(s.network_id)]
    return BoardPage(read, off, package_queue.waiting_for(session, actor, limits))
