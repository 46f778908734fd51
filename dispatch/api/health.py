"""``/healthz``: is the service up and can it reach its database?"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from dispatch.db import get_session

blp = Blueprint(
    "health", __name__, url_prefix="/healthz", description="Liveness and database check"
)


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})
    database = fields.String(required=True, metadata={"example": "sqlite"})


@blp.route("")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, description="The database cannot be reached")
    def get(self) -> Any:
        """Report ``ok`` when a trivial query succeeds; 503 otherwise (for load balancers)."""
        session = get_session()
        try:
            session.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return {"status": "database unreachable", "database": _dialect(session)}, 503
        return {"status": "ok", "database": _dialect(session)}


def _dialect(session: Any) -> str:
    return str(session.get_bind().dialect.name)
