"""The `dispatch` console script: help everywhere, users with a one-time token, clear errors."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dispatch.cli import main
from dispatch.db import make_engine
from dispatch.services.users import user_for_token


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            found += _commands(cmd, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", _commands(main), ids=lambda p: " ".join(p) or "dispatch")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    """`--help` works on every command and subcommand and says what it does."""
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and len(result.output.splitlines()) > 3


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DISPATCH_DATABASE_URL", url)
    monkeypatch.setenv("DISPATCH_INSTANCE_PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return url


def test_user_add_prints_working_token_last(cli_env: str) -> None:
    """The token is printed once, alone on the last line, and authenticates that user."""
    from sqlalchemy import orm as so

    result = CliRunner().invoke(main, ["user", "add", "ann", "--role", "coordinator",
                                        "--all-networks"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    engine = make_engine(cli_env)
    with so.Session(engine) as session:
        user = user_for_token(session, token)
        assert user is not None and user.username == "ann" and user.role == "coordinator"
        assert user_for_token(session, token + "x") is None
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["user", "add", "bob", "--role", "wizard"], "role: must be one of"),
        (["user", "add", "bob"], "Missing option '--role'"),
    ],
)
def test_user_add_bad_input_exits_2(cli_env: str, args: list[str], message: str) -> None:
    """Bad input prints the reason and exits 2; nothing is written."""
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert message in result.output


def test_user_add_duplicate_refused(cli_env: str) -> None:
    """A second user with the same name is refused with a clear message."""
    runner = CliRunner()
    assert runner.invoke(main, ["user", "add", "cy", "--role", "admin"]).exit_code == 0
    result = runner.invoke(main, ["user", "add", "cy", "--role", "admin"])
    assert result.exit_code == 2 and "already exists" in result.output


def test_db_current_reports_head(cli_env: str) -> None:
    """`db current` names the newest revision after `db upgrade`."""
    from alembic.script import ScriptDirectory

    from dispatch.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(cli_env)).get_current_head()
    result = CliRunner().invoke(main, ["db", "current"])
    assert result.exit_code == 0 and result.output.strip() == head


def test_demo_data_loads_once(cli_env: str) -> None:
    """demo-data prints one sign-in per role; a second run is refused (or skipped, --if-empty)."""
    runner = CliRunner()
    args = ["demo-data", "--seed", "3", "--patients", "300", "--now", "2026-12-01T03:00:00+00:00"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    for role in ("call_handler", "coordinator", "field_staff", "manager", "admin"):
        assert f"  {role}" in first.output
    again = runner.invoke(main, args)
    assert again.exit_code == 1 and "error:" in again.output
    skipped = runner.invoke(main, [*args, "--if-empty"])
    assert skipped.exit_code == 0 and "already loaded" in skipped.output


def test_demo_data_needs_zone_in_now(cli_env: str) -> None:
    """A naive --now is refused with exit 2."""
    result = CliRunner().invoke(main, ["demo-data", "--now", "2026-12-01T03:00"])
    assert result.exit_code == 2 and "time zone" in result.output


def test_worker_without_a_broker_says_what_to_set(cli_env: str) -> None:
    """`dispatch worker` with nothing configured (the default) refuses in words, exit 2."""
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code == 2
    assert "DISPATCH_TASK_BROKER_URL" in result.output


def test_user_link_staff_links_an_account_to_its_staff_record(cli_env: str) -> None:
    """An administrator links an account (e.g. one the identity provider created) to a staff
    record by its code; a code nobody has, a record already linked and a missing argument are
    refused with a message and exit 2; --unlink removes the link."""
    import sqlalchemy as sa

    from dispatch import models as m

    engine = make_engine(cli_env)
    with engine.begin() as conn:
        net = conn.execute(sa.insert(m.Network.__table__).values(
            code="N1", name="N1", borough="Camden", plan_generation=0)
            .returning(m.Network.__table__.c.id)).scalar_one()
        staff_id = conn.execute(sa.insert(m.Staff.__table__).values(
            code="DN-0042", name="Dana", role="district_nurse", skills=[], phone="+447700900001",
            network_id=net, travel_mode="car", active=True, created_at=sa.func.now())
            .returning(m.Staff.__table__.c.id)).scalar_one()
    runner = CliRunner()
    for name in ("fran", "other"):
        assert runner.invoke(main, ["user", "add", name, "--role", "coordinator",
                                    "--all-networks"]).exit_code == 0

    linked = runner.invoke(main, ["user", "link-staff", "fran", "DN-0042"])
    unknown = runner.invoke(main, ["user", "link-staff", "fran", "DN-9999"])
    taken = runner.invoke(main, ["user", "link-staff", "other", "DN-0042"])
    neither = runner.invoke(main, ["user", "link-staff", "other"])

    assert linked.exit_code == 0, linked.output
    assert f"fran: linked to staff DN-0042 (id {staff_id})" in linked.output
    assert unknown.exit_code == 2 and "no active member of staff" in unknown.output
    assert taken.exit_code == 2 and "already linked to another account" in taken.output
    assert neither.exit_code == 2 and "give a STAFF_CODE" in neither.output

    def link_of(name: str) -> int | None:
        with engine.connect() as conn:
            return conn.scalar(sa.select(m.User.__table__.c.staff_id)
                               .where(m.User.__table__.c.username == name))

    assert (link_of("fran"), link_of("other")) == (staff_id, None)
    assert runner.invoke(main, ["user", "link-staff", "fran", "--unlink"]).exit_code == 0
    assert link_of("fran") is None
    with engine.connect() as conn:
        actions = list(conn.scalars(sa.select(m.AuditEvent.__table__.c.action).where(
            m.AuditEvent.__table__.c.action.like("user_staff_%"))))
    engine.dispose()
    assert actions == ["user_staff_linked", "user_staff_unlinked"]
