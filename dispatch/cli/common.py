"""What every command shares: the app from the settings, the clock read at the edge, and how a
command fails (a message on stderr and a non-zero exit, never a traceback)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

import click

from dispatch.clock import wall_clock

if TYPE_CHECKING:
    from flask import Flask


def app() -> Flask:
    """The app from the DISPATCH_* settings; a setting production refuses is a message and
    exit 2, not a traceback."""
    from dispatch import ConfigurationError, create_app

    try:
        return create_app()
    except ConfigurationError as exc:
        fail(str(exc))


def now() -> datetime:
    """The wall clock, read once at the edge (commands), never inside a rule."""
    return wall_clock()


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code`` (2: bad input, 1: failure)."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def configure_logging() -> None:
    """Log at INFO in the format ``DISPATCH_LOG_FORMAT`` asks for (``text``, the default, or
    ``json``: one object per line with the request id; :mod:`dispatch.logs`); an unknown format
    is a message and exit 2."""
    import os

    from dispatch import logs

    try:
        logs.configure(os.environ.get("DISPATCH_LOG_FORMAT"))
    except ValueError as exc:
        fail(str(exc))
