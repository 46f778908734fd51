"""Care packages waiting for a person's decision (the coordinator's board and home page, the
top of the package list): submitted, of their networks, within their approval limit."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.models import CarePackage
from dispatch.services import packages as service


def waiting_for(session: so.Session, actor: Actor,
                limits: Mapping[str, int]) -> list[CarePackage]:
    """Submitted packages ``actor`` may decide (their networks, within their limit)."""
    found = service.list_packages(session, status="submitted", limit=200)
    return [p for p in found if actor.covers(p.network_id)
            and service.approval_check(session, package=p, actor=actor, limits=limits) is None]
