"""Exceptions raised by the routing package.

Callers catch :class:`RoutingError` for anything the scheduler refuses; the
``dispatch`` layer maps the subclasses onto HTTP 409/422 responses.
"""

from __future__ import annotations


class RoutingError(Exception):
    """Base class of every error raised by ``routing``."""


class InvalidProblem(RoutingError, ValueError):
    """The problem is inconsistent (unknown ids, matrix shape, pins on unknown shifts)."""


class RoutingInfeasible(RoutingError):
    """No plan satisfies the hard constraints, typically because pinned visits conflict."""


class SolomonFormatError(RoutingError, ValueError):
    """A Solomon instance file could not be parsed."""


class PlanFormatError(RoutingError, ValueError):
    """A JSON problem or plan document is malformed."""
