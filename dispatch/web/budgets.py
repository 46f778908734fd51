"""The pooled budgets page: each network's budget, what approved packages commit, what is left,
and a chart of committed against available by month."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from dispatch.db import get_session
from dispatch.services import budgets
from dispatch.web.common import bp


@bp.get("/budgets")
def budgets_page() -> ResponseReturnValue:
    """Every network with its budgets and figures (aggregate money, no patient data)."""
    return render_template("budgets/index.html", rows=budgets.network_budgets(get_session()),
                           pounds=budgets.pounds)
