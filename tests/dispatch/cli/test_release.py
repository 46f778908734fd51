"""The installable release: migrations inside the package, a fast ``--help``, ``--version``."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from click.testing import CliRunner

from dispatch import migrate
from dispatch.cli import main

REPO = Path(__file__).resolve().parents[3]


def test_migrations_found_through_the_package() -> None:
    """dispatch.migrate finds the scripts as the dispatch.migrations package (the top-level
    migrations/ folder, mapped by setup.py), the same lookup an installed wheel uses."""
    assert migrate.migrations_dir().resolve() == (REPO / "migrations").resolve()
    assert (migrate.migrations_dir() / "env.py").is_file()
    assert migrate.heads()


def test_migrations_never_import_live_model_code() -> None:
    """A revision must keep meaning what it meant when written: it may import alembic,
    sqlalchemy and the standard library, never the dispatch package (models change later)."""
    offenders = []
    for path in sorted((REPO / "migrations" / "versions").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offenders += [
                f"{path.name}: {name}" for name in names
                if name.split(".")[0] in {"dispatch", "triage", "routing", "rosters"}
            ]
    assert offenders == []


def test_version_prints_the_installed_version() -> None:
    """`dispatch --version` prints the distribution's version from its metadata."""
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert metadata.version("rapid-response-dispatch") in result.output


def test_help_does_not_import_heavy_packages() -> None:
    """`dispatch --help` answers without importing the solver, the web app, charts or twilio
    (they cost seconds to import; each command imports what it needs)."""
    code = (
        "import json, sys\n"
        "from dispatch.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('ortools', 'matplotlib', 'twilio', 'flask', 'numpy', 'sqlalchemy')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []
