"""Errors raised while building or loading demo data.

Why a small tree: the CLI turns each into one readable line (and a non-zero exit), and a test
can check that a non-empty database is refused without matching on message text.
"""

from __future__ import annotations


class DemoDataError(Exception):
    """Base class for every error raised by :mod:`dispatch.demo`."""


class DatabaseNotEmpty(DemoDataError):
    """The target database already holds data; demo data only loads into a fresh database."""


class OutcodesNotFound(DemoDataError):
    """The postcode-district centroid file could not be found in any known place."""
