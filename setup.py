"""Package list for setuptools (everything else is in pyproject.toml).

The top-level ``migrations/`` folder (where the design card keeps it) ships inside the wheel
as ``dispatch.migrations``: an installed release can upgrade its own database, and
``dispatch/migrate.py`` finds the scripts with ``importlib.resources`` in a checkout and in an
installed wheel alike. pyproject.toml cannot add such a mapped package to a ``packages.find``
result, hence this file.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["dispatch*", "triage*", "routing*", "rosters*"]),
        "dispatch.migrations",
        "dispatch.migrations.versions",
    ],
    package_dir={"dispatch.migrations": "migrations"},
)
