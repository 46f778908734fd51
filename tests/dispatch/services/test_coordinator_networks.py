"""Coordinators' networks (issue 14): a coordinator sees and acts only on the networks they run
(``dispatch user add --network ID``), a hub coordinator (``--all-networks``) on every one;
acting on another network's visit or plan is refused with a 403 that names both sides."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.cli import main
from dispatch.db import make_engine
from dispatch.services.network_scope import set_networks
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_day import make_day, office_client


@pytest.fixture
def two_networks(session: so.Session) -> dict[str, Any]:
    """The day of test_web_day in network A (H&F North), and network B with one visit."""
    day = make_day(session)
    other = f.network(session, code="KC-S", name="Kensington South",
                      borough="Kensington & Chelsea")
    theirs = f.visit(session, day.late.referral_id, day.patient.id, reference="9191",
                     network_id=other.id)
    session.commit()
    return {"day": day, "a": day.network, "b": other, "b_visit": theirs}


def _coordinator_of(app: Flask, session: so.Session, *networks: m.Network,
                    hub: bool = False) -> tuple[Any, m.User]:
    client, user = office_client(app, session, "coordinator")
    set_networks(session, user=user, network_ids=[n.id for n in networks], all_networks=hub)
    session.commit()
    return client, user


def _bearer(app: Flask, session: so.Session, *networks: m.Network) -> dict[str, str]:
    from datetime import UTC, datetime

    from dispatch.services.users import add_user

    created = add_user(session, username=f"co-{len(networks)}-{networks[0].id}",
                       role="coordinator", now=datetime.now(UTC),
                       network_ids=[n.id for n in networks], all_networks=False)
    session.commit()
    return {"Authorization": f"Bearer {created.token}"}


def test_visits_list_shows_only_the_coordinators_networks(
    app: Flask, session: so.Session, two_networks: dict[str, Any],
) -> None:
    """GET /api/visits for a coordinator of A lists A's visits, never B's."""
    headers = _bearer(app, session, two_networks["a"])

    listed = app.test_client().get("/api/visits?limit=100", headers=headers).json

    assert {v["network_id"] for v in listed} == {two_networks["a"].id}
    assert two_networks["b_visit"].id not in {v["id"] for v in listed}


@pytest.mark.parametrize(("method", "path", "body"), [
    ("get", "/api/visits/{id}", None),
    ("get", "/api/visits/{id}/candidates", None),
    ("post", "/api/visits/{id}/assign", {"staff_id": 1, "start": "2026-12-01T11:00:00Z",
                                         "version": 1}),
    ("post", "/api/visits/{id}/unassign", {"version": 1, "reason": "Worker is needed elsewhere"}),
    ("post", "/api/visits/{id}/pin", {"version": 1, "pinned": True}),
    ("get", "/api/visits/{id}/jeopardy-options", None),
])
def test_another_networks_visit_is_refused_with_the_networks_named(
    app: Flask, session: so.Session, two_networks: dict[str, Any], method: str, path: str,
    body: dict[str, Any] | None,
) -> None:
    """Reading or acting on B's visit as A's coordinator: 403, naming B and A, nothing done."""
    headers = _bearer(app, session, two_networks["a"])
    visit = two_networks["b_visit"]

    answer = getattr(app.test_client(), method)(path.format(id=visit.id), headers=headers,
                                                json=body)

    assert answer.status_code == 403, answer.json
    message = answer.json["message"]
    assert "Visit 9191 belongs to Kensington South" in message
    assert "you coordinate H&F North only" in message
    session.expire_all()
    assert session.get(m.Visit, visit.id).version == visit.version  # type: ignore[union-attr]


def test_replan_of_another_network_is_refused(
    app: Flask, session: so.Session, two_networks: dict[str, Any],
) -> None:
    """POST /api/networks/{B}/replan by A's coordinator: 403 with the reason; no run queued."""
    headers = _bearer(app, session, two_networks["a"])

    answer = app.test_client().post(f"/api/networks/{two_networks['b'].id}/replan",
                                    headers=headers)

    assert answer.status_code == 403
    assert "Kensington South" in answer.json["message"]
    assert session.scalar(sa.select(sa.func.count()).select_from(m.Plan)) == 0


@pytest.mark.safety("H-111")
def test_a_coordinator_of_both_networks_and_a_manager_see_both(
    app: Flask, session: so.Session, two_networks: dict[str, Any],
    token_for: Callable[..., dict[str, str]],
) -> None:
    """Two networks listed, or a manager (not limited by network): B's visit is readable."""
    both = _bearer(app, session, two_networks["a"], two_networks["b"])
    visit_id = two_networks["b_visit"].id
    client = app.test_client()

    assert client.get(f"/api/visits/{visit_id}", headers=both).status_code == 200
    assert client.get(f"/api/visits/{visit_id}",
                      headers=token_for("manager")).status_code == 200


def test_board_opens_on_the_home_network_and_refuses_another(
    app: Flask, session: so.Session, two_networks: dict[str, Any],
) -> None:
    """The board of a coordinator of A: A (even when asked for every network), no "All
    networks" choice, B refused with a 403 page; B's visit page and re-plan refused too."""
    client, _ = _coordinator_of(app, session, two_networks["a"])
    b = two_networks["b"]

    every = client.get("/board?network=all")
    page = every.get_data(as_text=True)
    assert every.status_code == 200 and "<h1" in page
    assert "H&amp;F North</h1>" in page and "All networks" not in page
    assert "Kensington South" not in page
    refused = client.get(f"/board?network={b.id}")
    assert refused.status_code == 403
    assert "you coordinate H&amp;F North only" in refused.get_data(as_text=True)
    assert client.get(f"/board/visits/{two_networks['b_visit'].id}").status_code == 403
    assert client.post(f"/board/networks/{b.id}/replan").status_code == 403


def test_hub_coordinator_sees_every_network_on_the_board(
    app: Flask, session: so.Session, two_networks: dict[str, Any],
) -> None:
    """--all-networks: the board offers "All networks" and B's visit page opens."""
    client, _ = _coordinator_of(app, session, hub=True)

    page = client.get("/board?network=all").get_data(as_text=True)

    assert "All networks" in page and "Kensington South" in page
    assert client.get(f"/board/visits/{two_networks['b_visit'].id}").status_code == 200


# --- the CLI ----------------------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DISPATCH_DATABASE_URL", url)
    monkeypatch.setenv("DISPATCH_INSTANCE_PATH", str(tmp_path))
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(url)
    with so.Session(engine) as session:
        f.network(session)
        f.network(session, code="KC-S", name="Kensington South", borough="Kensington & Chelsea")
        session.commit()
    yield engine
    engine.dispose()


def _networks(engine: sa.Engine, username: str) -> tuple[bool, list[int]]:
    with so.Session(engine) as session:
        user = session.scalar(sa.select(m.User).where(m.User.username == username))
        assert user is not None
        return user.all_networks, sorted(session.scalars(
            sa.select(m.UserNetwork.network_id).where(m.UserNetwork.user_id == user.id)))


def test_cli_user_add_with_networks(cli_db: sa.Engine) -> None:
    """--network is repeatable; --all-networks makes a hub coordinator; `user list` shows it."""
    runner = CliRunner()
    assert runner.invoke(main, ["user", "add", "ann", "--role", "coordinator",
                                "--network", "1", "--network", "2"]).exit_code == 0
    assert runner.invoke(main, ["user", "add", "hub", "--role", "coordinator",
                                "--all-networks"]).exit_code == 0

    assert _networks(cli_db, "ann") == (False, [1, 2])
    assert _networks(cli_db, "hub") == (True, [])
    listing = runner.invoke(main, ["user", "list"]).output
    assert "1,2" in listing and " all " in listing


@pytest.mark.parametrize(("args", "message"), [
    (["--role", "coordinator"], "needs at least one network"),
    (["--role", "coordinator", "--network", "9"], "no network with id 9"),
    (["--role", "coordinator", "--network", "1", "--all-networks"], "not both"),
    (["--role", "manager", "--network", "1"], "are for coordinators"),
])
def test_cli_user_add_network_mistakes_exit_2(cli_db: sa.Engine, args: list[str],
                                              message: str) -> None:
    """A coordinator without a network choice, an unknown network, both, or a network for
    another role: the reason, exit 2, and no user written."""
    result = CliRunner().invoke(main, ["user", "add", "bob", *args])

    assert result.exit_code == 2 and message in result.output
    with so.Session(cli_db) as session:
        assert session.scalar(sa.select(m.User).where(m.User.username == "bob")) is None


def test_cli_user_networks_changes_them_and_is_audited(cli_db: sa.Engine) -> None:
    """`dispatch user networks ann --network 2` narrows ann to network 2 (audited)."""
    runner = CliRunner()
    runner.invoke(main, ["user", "add", "ann", "--role", "coordinator", "--all-networks"])

    result = runner.invoke(main, ["user", "networks", "ann", "--network", "2"])

    assert result.exit_code == 0, result.output
    assert _networks(cli_db, "ann") == (False, [2])
    with so.Session(cli_db) as session:
        assert session.scalar(sa.select(m.AuditEvent.details).where(
            m.AuditEvent.action == "user_networks_changed")) == {
                "networks": [2], "all_networks": False}


# --- the users' admin page --------------------------------------------------------------------


def test_admin_page_lists_and_changes_a_coordinators_networks(
    app: Flask, session: so.Session, two_networks: dict[str, Any],
) -> None:
    """/admin/users shows each coordinator's networks by name; saving B narrows them to B
    (audited), and the coordinator is then refused A."""
    admin, _ = office_client(app, session, "admin")
    coordinator, user = _coordinator_of(app, session, two_networks["a"])

    listing = admin.get("/admin/users").get_data(as_text=True)
    assert "H&amp;F North" in listing and f"/admin/users/{user.id}/networks" in listing
    saved = admin.post(f"/admin/users/{user.id}/networks",
                       data={"networks": [str(two_networks["b"].id)]})

    assert saved.status_code == 303
    assert coordinator.get(f"/board/visits/{two_networks['b_visit'].id}").status_code == 200
    assert coordinator.get(f"/board?network={two_networks['a'].id}").status_code == 403
    assert "user_networks_changed" in set(session.scalars(sa.select(m.AuditEvent.action)))


@pytest.mark.safety("H-111")
def test_admin_page_refuses_a_coordinator_with_no_network(
    app: Flask, session: so.Session, two_networks: dict[str, Any],
) -> None:
    """Nothing ticked: 422 with the reason; the networks stay as they were."""
    admin, _ = office_client(app, session, "admin")
    _, user = _coordinator_of(app, session, two_networks["a"])

    answer = admin.post(f"/admin/users/{user.id}/networks", data={})

    assert answer.status_code == 422
    assert "needs at least one network" in answer.get_data(as_text=True)
    session.expire_all()
    assert set(session.scalars(sa.select(m.UserNetwork.network_id).where(
        m.UserNetwork.user_id == user.id))) == {two_networks["a"].id}


def test_admin_pages_are_for_administrators_only(
    app: Flask, session: so.Session, two_networks: dict[str, Any],
) -> None:
    """A coordinator cannot widen their own networks."""
    coordinator, user = _coordinator_of(app, session, two_networks["a"])

    assert coordinator.get("/admin/users").status_code == 403
    assert coordinator.post(f"/admin/users/{user.id}/networks",
                            data={"all_networks": "y"}).status_code == 403


@pytest.mark.safety("H-111")
@pytest.mark.safety("H-062")
def test_migration_makes_existing_users_hub_coordinators(tmp_path: Path) -> None:
    """0017: a user of before keeps every network (nothing they ran is taken away mid-shift)
    and their home network is listed; an administrator narrows them afterwards."""
    from alembic import command

    from dispatch.migrate import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'before.sqlite3'}"
    command.upgrade(alembic_config(url), "0016_integrated")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO networks (id, code, name, borough) "
                             "VALUES (7, 'HF-N1', 'H&F North', 'Hammersmith & Fulham')"))
        conn.execute(sa.text(
            "INSERT INTO users (id, username, display_name, role, network_id, failed_logins, "
            "active, session_generation, created_at) VALUES (3, 'ann', 'Ann', 'coordinator', 7, "
            "0, 1, 0, '2026-12-01 09:00:00')"))
    upgrade(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT all_networks FROM users")).scalar_one() in (1, True)
        assert conn.execute(sa.text("SELECT user_id, network_id FROM user_networks")).all() == [
            (3, 7)]
    engine.dispose()


def test_messages_show_only_the_coordinators_networks(
    app: Flask, session: so.Session, two_networks: dict[str, Any],
) -> None:
    """A text about B's visit is not in /api/messages or /messages for A's coordinator; A's
    is."""
    from datetime import UTC, datetime

    day = two_networks["day"]
    for visit, body in ((day.mine, "about A"), (two_networks["b_visit"], "about B")):
        session.add(m.Message(direction="outbound", to_number="+447700900001", body=body,
                              status="sent", visit_id=visit.id,
                              created_at=datetime(2026, 12, 1, 9, tzinfo=UTC)))
    session.commit()
    headers = _bearer(app, session, two_networks["a"])
    client, _ = _coordinator_of(app, session, two_networks["a"])

    bodies = {row["body"] for row in app.test_client().get("/api/messages",
                                                           headers=headers).json}
    page = client.get("/messages").get_data(as_text=True)

    assert "about A" in bodies and "about B" not in bodies
    assert "9191" not in page and day.mine.reference in page
