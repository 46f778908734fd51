"""Errors of the simulator."""

from __future__ import annotations


class SimulationError(Exception):
    """Base class: a simulated day could not be played or accounted for."""


class UnaccountedReferral(SimulationError):
    """A referral ended the day in a state that is none of the four outcomes (a bug)."""
