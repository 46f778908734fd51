"""Server-rendered pages and the vendored front-end assets.

Front-end packages (``nhsuk-frontend``, ``swagger-ui-dist``) are installed by npm into the
project's ``node_modules`` by the README's commands and served from ``/static/vendor/`` so the
pages work on a machine with no internet.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, abort, redirect, send_from_directory, url_for
from werkzeug.wrappers import Response

VENDOR_PACKAGES = ("nhsuk-frontend", "swagger-ui-dist")
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"

bp = Blueprint("web", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/static/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str) -> Response:
    """Serve a file of an allowed npm package. :raise 404: unknown package or file."""
    if package not in VENDOR_PACKAGES:
        abort(404)
    return send_from_directory(NODE_MODULES / package, filename)


@bp.get("/")
def index() -> Response:
    """The service's front door: for now, the API documentation."""
    return redirect(url_for("api-docs.openapi_swagger_ui"))
