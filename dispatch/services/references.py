"""Visit references: the short number a worker types in an SMS reply ("ACCEPT 4821")."""

from __future__ import annotations

import random

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.errors import Conflict
from dispatch.models import Visit

REFERENCE_DIGITS = 4  # "ACCEPT 4821": short enough to type on a phone
REFERENCE_TRIES = 30


def new_reference(session: so.Session, rng: random.Random) -> str:
    """A short unused visit reference: 4 digits while they last, then 5, then 6."""
    for digits in (REFERENCE_DIGITS, REFERENCE_DIGITS + 1, REFERENCE_DIGITS + 2):
        low, high = 10 ** (digits - 1), 10**digits - 1
        for _ in range(REFERENCE_TRIES):
            candidate = str(rng.randint(low, high))
            if session.scalar(sa.select(Visit.id).where(Visit.reference == candidate)) is None:
                return candidate
    raise Conflict("no free visit reference; try again")
