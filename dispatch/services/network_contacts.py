"""Who a network's escalations reach: the on-call coordinator's phone and the manager's.

The deadline watch texts the on-call phone (grouped escalations) and, when an urgent decision
waits too long, the manager's (:mod:`dispatch.services.decision_reminders`, H-040). Both used to
be set only by the demo data; a real network sets them here (``PUT
/api/networks/{id}/contacts``, ``dispatch network contacts``), audited. They are UK mobiles
because they are texted; a network with no on-call phone has its escalations on the board only,
which ``dispatch doctor`` reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import InvalidInput, NotFound
from dispatch.models import Network
from dispatch.services import audit
from rosters.phones import normalise_uk_mobile

FIELDS = ("on_call_phone", "manager_phone")
PHONE_HINT = "a UK mobile number, like 07700 900123"


@dataclass(frozen=True)
class NetworkContacts:
    network_id: int
    code: str
    name: str
    on_call_phone: str | None
    manager_phone: str | None


def _contacts(network: Network) -> NetworkContacts:
    return NetworkContacts(network.id, network.code, network.name, network.on_call_phone,
                           network.manager_phone)


def _network(session: so.Session, network_id: int) -> Network:
    network = session.get(Network, network_id)
    if network is None:
        raise NotFound(f"network {network_id} not found")
    return network


def contacts_of(session: so.Session, network_id: int) -> NetworkContacts:
    """A network's contact phones. :raise NotFound: no such network."""
    return _contacts(_network(session, network_id))


def validate(data: Mapping[str, Any]) -> dict[str, str | None]:
    """The changes ``data`` asks for, as E.164; a field given as null or "" clears it.
    :raise InvalidInput: an unknown field or a number that is not a UK mobile."""
    errors: dict[str, list[str]] = {}
    out: dict[str, str | None] = {}
    for key, value in data.items():
        if key not in FIELDS:
            errors[key] = ["unknown field"]
        elif value is None or (isinstance(value, str) and not value.strip()):
            out[key] = None
        elif not isinstance(value, str):
            errors[key] = [PHONE_HINT]
        else:
            try:
                out[key] = normalise_uk_mobile(value)
            except ValueError:
                errors[key] = [PHONE_HINT]
    if errors:
        raise InvalidInput("invalid network contacts", errors=errors)
    if not out:
        raise InvalidInput("invalid network contacts", errors={
            "on_call_phone": ["give on_call_phone, manager_phone or both"]})
    return out


def set_contacts(session: so.Session, *, network_id: int, data: Mapping[str, Any],
                 actor: Actor, now: datetime) -> NetworkContacts:
    """Change a network's contact phones (fields left out stay); audited without the numbers
    themselves (which fields changed, and whether each is now set).
    :raise NotFound: no network. :raise InvalidInput: see :func:`validate`."""
    network = _network(session, network_id)
    changes = validate(data)
    for key, value in changes.items():
        setattr(network, key, value)
    session.flush()
    audit.record(session, actor=actor, action="set_network_contacts", now=now,
                 entity=("network", network.id), purpose="network administration",
                 details={key: ("set" if value else "cleared") for key, value in changes.items()})
    return _contacts(network)


@dataclass(frozen=True)
class MissingPhones:
    on_call: list[str]
    manager: list[str]


def missing_phones(session: so.Session) -> MissingPhones:
    """Codes of networks without an on-call phone, and without a manager's phone."""
    rows = session.execute(sa.select(Network.code, Network.on_call_phone, Network.manager_phone)
                           .order_by(Network.code)).all()
    return MissingPhones(on_call=[code for code, on_call, _ in rows if not on_call],
                         manager=[code for code, _, manager in rows if not manager])
