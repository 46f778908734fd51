"""``/healthz``: is the service up and can it reach its database?"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api.schemas import (
    HealthSchema,
)
from dispatch.database import health
from dispatch.db import get_session

blp = Blueprint(
    "health", __name__, url_prefix="/healthz", description="Liveness and database check"
)


@blp.route("")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, description="The database cannot be reached")
    def get(self) -> Any:
        """Report ``ok`` when a trivial query succeeds; 503 otherwise (for load balancers)."""
        ok, dialect = health(get_session())
        if not ok:
            return {"status": "database unreachable", "database": dialect}, 503
        return {"status": "ok", "database": dialect}
