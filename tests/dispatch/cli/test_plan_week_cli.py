"""``dispatch plan-week`` (issue 15): a preview by default, ``--commit`` writes the week's
package visits back (tomorrow's offered by SMS, later days provisional), a re-run changes
nothing, and ``--commit`` needs a network."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.cli import main
from dispatch.db import make_engine
from tests.dispatch.cli.test_cli import cli_env  # noqa: F401
from tests.dispatch.planning.test_planning import NOW
from tests.dispatch.planning.test_week_plan import _week


@pytest.fixture
def week_db(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    monkeypatch.setenv("DISPATCH_FIXED_NOW", NOW.isoformat())
    engine = make_engine(cli_env)
    with so.Session(engine) as session:
        network_id = _week(session)["network"].id  # type: ignore[attr-defined]
    engine.dispose()
    return str(network_id)


def _run(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, ["plan-week", "--seconds", "5", "--solution-limit", "50",
                                       "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def _counts(url: str) -> tuple[dict[str, str], int]:
    engine = make_engine(url)
    with so.Session(engine) as session:
        statuses = dict(session.execute(sa.select(m.Visit.reference, m.Visit.status)).all())
        texts = session.scalar(sa.select(sa.func.count(m.Message.id))) or 0
    engine.dispose()
    return statuses, texts  # type: ignore[return-value]


@pytest.mark.safety("H-143")
def test_plan_week_previews_then_commits_once(week_db: str, cli_env: str) -> None:  # noqa: F811
    preview = _run("--network", week_db)
    assert (preview["dry_run"], preview["offered"], preview["provisional"]) == (True, 1, 4)
    assert set(_counts(cli_env)[0].values()) == {"unassigned"}

    done = _run("--network", week_db, "--commit")
    assert (done["dry_run"], done["offered"], done["provisional"]) == (False, 1, 4)
    statuses, texts = _counts(cli_env)
    assert statuses["P0"] == "offered" and statuses["P2"] == "assigned" and texts == 1

    again = _run("--network", week_db, "--commit")
    assert (again["offered"], again["provisional"]) == (0, 4)
    assert _counts(cli_env) == (statuses, texts)


def test_plan_week_commit_needs_a_network(week_db: str) -> None:
    result = CliRunner().invoke(main, ["plan-week", "--commit"])
    assert result.exit_code == 2 and "--commit needs --network" in result.output
