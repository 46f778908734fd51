"""The demo networks' pooled budgets for the financial year, from the seeds' per-capita spend.

Each network gets a budget from 1 April on or before the demo's day to the next 1 April, the
amounts left to :func:`dispatch.services.budgets.suggested_pence`: the seeds' social care and
community and primary care spend a head a year (seeds/002 risk strata table, 2010/11; one copy
in :data:`dispatch.services.strata.PER_CAPITA`) for the network's registered patients in the
top three strata, times the pooled share (5 %, an assumption stated in that module). So the
budget page, the package approval's budget check and an over-budget package's route to a
manager all have something to work on in the demo.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.config import LONDON
from dispatch.models import Network
from dispatch.services import budgets, tariffs

#: Who sets the demo's budgets (the audit trail's actor).
DEMO_ACTOR = Actor(None, "demo-loader", "manager")


def add_budgets(session: so.Session, *, now: datetime) -> int:
    """One budget a network for the financial year holding ``now``; returns how many."""
    start = tariffs.financial_year_start(now.astimezone(LONDON).date())
    end = date(start.year + 1, start.month, start.day)
    ids = list(session.scalars(sa.select(Network.id).order_by(Network.id)))
    for network_id in ids:
        budgets.set_budget(session, network_id=network_id, period_start=start, period_end=end,
                           health_pence=None, social_care_pence=None, actor=DEMO_ACTOR,
                           now=now)
    return len(ids)
