"""The built wheel, installed into a fresh venv, upgrades a database and passes ``doctor``
from a folder outside the checkout (so nothing can come from the source tree)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
@pytest.mark.timeout(900)  # a busy machine; the suite's 300 s default is for single tests
def test_wheel_installs_and_upgrades_database_outside_checkout(tmp_path: Path) -> None:
    """pip builds the wheel; a new venv (no system site-packages, so the checkout is invisible)
    installs it with its dependencies from pip's configured sources; `dispatch db upgrade` and
    `dispatch doctor` then work from a temp folder against a temp SQLite database.

    About 1-3 minutes (the dependency install dominates), hence ``slow``."""
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(REPO)],
         cwd=tmp_path)
    [wheel] = wheels.glob("rapid_response_dispatch-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    _run([str(env_dir / "bin" / "pip"), "install", "-q", str(wheel)], cwd=tmp_path)

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DISPATCH_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["DISPATCH_DATABASE_URL"] = f"sqlite:///{work / 'fresh.sqlite3'}"
    dispatch = str(env_dir / "bin" / "dispatch")

    located = _run([str(env_dir / "bin" / "python"), "-c",
                    "import dispatch, dispatch.migrate as m; print(dispatch.__file__); "
                    "print(m.migrations_dir())"], cwd=work, env=env).split()
    assert all(str(env_dir) in path for path in located), located  # not the checkout

    assert "database at revision" in _run([dispatch, "db", "upgrade"], cwd=work, env=env)
    report = _run([dispatch, "doctor", "--offline"], cwd=work, env=env)
    assert "migrations up to date" in report
    assert "no problems found" in report
    version = _run([dispatch, "--version"], cwd=work, env=env).strip()
    assert version.startswith("dispatch ") and version.split()[1][0].isdigit()
