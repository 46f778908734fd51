"""Synthetic demo data for the tri-borough: register, networks, bases, roster and sign-ins.

``dispatch demo-data --seed N [--patients N]`` calls :func:`dispatch.demo.load.load_demo`.
Generators (``population``, ``roster``) are pure and deterministic for a seed; only ``load``
touches the database.
"""

from __future__ import annotations

from typing import Final

from dispatch.demo.tiers import TRI_BOROUGH_POPULATION

#: Default register size: a sample big enough to look real that loads in a few seconds.
DEFAULT_PATIENTS: Final = 5_000

__all__ = ["DEFAULT_PATIENTS", "TRI_BOROUGH_POPULATION"]
