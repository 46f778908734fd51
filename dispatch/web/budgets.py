"""The pooled budgets page: each network's budget, what approved packages commit, what is left,
and a chart of committed against available by month."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from flask.typing import ResponseReturnValue

from dispatch.api.budgets import describe
from dispatch.db import get_session
from dispatch.models import Network
from dispatch.services import budgets
from dispatch.web.common import bp


@bp.get("/budgets")
def budgets_page() -> ResponseReturnValue:
    """Every network with its budgets and figures (aggregate money, no patient data)."""
    session = get_session()
    networks = session.execute(sa.select(Network.id, Network.name).order_by(Network.name)).all()
    rows = [(name, [describe(b) for b in budgets.budgets_of(session, network_id)])
            for network_id, name in networks]
    return render_template("budgets/index.html", rows=rows, pounds=budgets.pounds)
