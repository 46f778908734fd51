"""``dispatch doctor`` says what is wrong in words and exits non-zero; production refuses to
start without an SMS backend chosen on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dispatch import ConfigurationError, create_app, migrate
from dispatch.cli import main
from dispatch.doctor import FAIL, OK, WARN, check_database, check_sms, load_settings, run_checks

STRONG_KEY = "k" * 48


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'doctor.sqlite3'}"


def test_doctor_empty_database_fails_with_upgrade_hint(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A database without a schema is a failure, and the message names the command to run."""
    monkeypatch.setenv("DISPATCH_DATABASE_URL", _url(tmp_path))
    result = CliRunner().invoke(main, ["doctor", "--offline"])
    assert result.exit_code == 1
    assert "run `dispatch db upgrade`" in result.output


def test_doctor_upgraded_database_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After `db upgrade` the default (demo) configuration has no problems; a missing scheduler
    is a warning only."""
    monkeypatch.setenv("DISPATCH_DATABASE_URL", _url(tmp_path))
    migrate.upgrade(_url(tmp_path))
    result = CliRunner().invoke(main, ["doctor", "--offline"])
    assert result.exit_code == 0, result.output
    assert "migrations up to date" in result.output
    assert "no scheduler is running" in result.output


def test_doctor_database_behind_head_says_so(tmp_path: Path) -> None:
    """A database at an older revision is reported as behind, with the upgrade command."""
    migrate.upgrade(_url(tmp_path), "0001")
    [finding] = check_database(_url(tmp_path))
    assert finding.status == FAIL
    assert "at revision 0001, behind" in finding.message


def test_doctor_unreachable_database_in_words(tmp_path: Path) -> None:
    """A database that cannot be opened is a failure naming where it was looked for."""
    (tmp_path / "a-file").write_text("not a folder")
    url = f"sqlite:///{tmp_path / 'a-file' / 'x.sqlite3'}"
    [finding] = check_database(url)
    assert finding.status == FAIL
    assert finding.message.startswith("cannot reach the database at")


def test_doctor_production_problems_listed(tmp_path: Path) -> None:
    """In production a short secret key and no SMS backend are failures, each with its fix;
    an unreachable OSRM server is a failure too."""
    config = load_settings({"ENV": "production", "SECRET_KEY": "short",
                            "DATABASE_URL": _url(tmp_path), "OSRM_URL": "http://127.0.0.1:9"})
    migrate.upgrade(_url(tmp_path))
    failures = [f.message for f in run_checks(config) if f.status == FAIL]
    assert any("DISPATCH_SECRET_KEY is too short" in m for m in failures)
    assert any("DISPATCH_SMS_BACKEND=local" in m for m in failures)
    assert any(m.startswith("OSRM at http://127.0.0.1:9 is not reachable") for m in failures)
    assert len(failures) == 3


def test_doctor_sms_never_prints_secrets() -> None:
    """Twilio credentials are reported present without echoing the token or the full sid."""
    config = {"TWILIO_ACCOUNT_SID": "AC0123456789abcdef", "TWILIO_AUTH_TOKEN": "tok-secret",
              "TWILIO_FROM": "+447700900000"}
    [finding] = check_sms(config)
    assert finding.status == OK
    assert "tok-secret" not in finding.message and "AC0123456789" not in finding.message
    [incomplete] = check_sms({"TWILIO_ACCOUNT_SID": "AC1"})
    assert incomplete.status == WARN


def test_production_refuses_to_start_without_sms_backend(tmp_path: Path) -> None:
    """Production with a key and a database but no SMS choice stops at start-up, with a hint
    naming both ways to choose."""
    with pytest.raises(ConfigurationError, match="DISPATCH_SMS_BACKEND=local"):
        create_app({"ENV": "production", "SECRET_KEY": STRONG_KEY, "DATABASE_URL": _url(tmp_path)})


def test_production_starts_with_local_or_twilio_chosen(tmp_path: Path) -> None:
    """Choosing the local outbox explicitly, or giving complete Twilio settings, is enough."""
    base = {"ENV": "production", "SECRET_KEY": STRONG_KEY, "DATABASE_URL": _url(tmp_path)}
    create_app({**base, "SMS_BACKEND": "local"})
    create_app({**base, "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t",
                "TWILIO_FROM": "+447700900000"})
    with pytest.raises(ConfigurationError, match="not a backend"):
        create_app({**base, "SMS_BACKEND": "pigeon"})


def test_local_backend_chosen_overrides_twilio_settings() -> None:
    """DISPATCH_SMS_BACKEND=local keeps texts in the outbox even when Twilio is configured."""
    from dispatch.sms.sender import LocalOutboxBackend, backend_from_config

    config = {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "+44770"}
    assert isinstance(backend_from_config({**config, "SMS_BACKEND": "local"}), LocalOutboxBackend)
    assert not isinstance(backend_from_config(config), LocalOutboxBackend)


def test_doctor_identity_provider_in_words() -> None:
    """Sign-in: local only, a half-configured provider, and an unreachable one, in words."""
    from dispatch.doctor import FAIL, OK, WARN, check_identity

    assert [f.status for f in check_identity({})] == [OK]
    (half,) = check_identity({"OIDC_ISSUER": "http://127.0.0.1:9"})
    assert half.status == FAIL and "DISPATCH_OIDC_CLIENT_ID" in half.message
    configured = {"OIDC_ISSUER": "http://127.0.0.1:9", "OIDC_CLIENT_ID": "x"}
    assert check_identity(configured, network=False)[0].status == WARN
    (down,) = check_identity(configured)
    assert down.status == FAIL and "not reachable" in down.message


@pytest.mark.safety("H-088")
def test_doctor_workers_broker_unreachable_and_no_live_worker(tmp_path: Path) -> None:
    """Planning on workers: a broker that does not answer is a failure in words (no secret
    printed); a broker that answers with no worker beating is a failure too; unset, planning
    in-process is fine."""
    from datetime import timedelta

    from sqlalchemy import orm as so

    from dispatch.clock import wall_clock
    from dispatch.database import make_engine
    from dispatch.doctor import check_workers
    from dispatch.services import operations

    url = _url(tmp_path)
    migrate.upgrade(url)
    closed = "redis://:hunter2@127.0.0.1:1/0"  # port 1: nothing listens
    [off] = check_workers({"DATABASE_URL": url})
    [down] = check_workers({"DATABASE_URL": url, "TASK_BROKER_URL": closed})
    assert off.status == OK and "in" in off.message
    assert down.status == FAIL and "does not answer" in down.message
    assert "hunter2" not in down.message

    from dispatch.doctor import _live_workers

    assert _live_workers(url).status == FAIL
    engine = make_engine(url)
    with so.Session(engine) as session:
        operations.record_worker(session, name="host-a:123", now=wall_clock())
        operations.record_worker(session, name="host-b:9", now=wall_clock() - timedelta(days=2))
        session.commit()
    engine.dispose()
    alive = _live_workers(url)
    assert alive.status == OK and "1 planning worker(s) alive: host-a:123" in alive.message
