"""Exactly one scheduler: the leader lock on SQLite (file) and PostgreSQL (advisory lock)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from dispatch.db import make_engine
from dispatch.jobs.lock import LeaderLock, try_job_lock


def test_second_leader_refused_until_first_releases(database_url: str, tmp_path: Path) -> None:
    """Two lock holders on the same database: the second is refused until the first lets go."""
    url = database_url
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'lock.sqlite3'}"
    first_engine, second_engine = make_engine(url), make_engine(url)
    first, second = LeaderLock(first_engine), LeaderLock(second_engine)
    try:
        assert first.acquire()
        assert not second.acquire()
        first.release()
        assert second.acquire()
    finally:
        first.release()
        second.release()
        first_engine.dispose()
        second_engine.dispose()


def test_job_lock_exclusive_on_postgres(database_url: str) -> None:
    """A job's transaction lock excludes a second transaction (PostgreSQL; SQLite grants)."""
    engine, other = make_engine(database_url), make_engine(database_url)
    try:
        with engine.connect() as a, other.connect() as b:
            assert try_job_lock(a, "job-x")
            expected = engine.dialect.name != "postgresql"
            assert try_job_lock(b, "job-x") is expected
            a.rollback()
            assert try_job_lock(b, "job-x")
            b.rollback()
    finally:
        engine.dispose()
        other.dispose()


def test_lock_survives_engine_pool_churn(database_url: str, tmp_path: Path) -> None:
    """The lock lives on its own connection, so other queries on the engine do not release it."""
    url = (
        database_url
        if not database_url.startswith("sqlite")
        else f"sqlite:///{tmp_path / 'c.sqlite3'}"
    )
    engine, rival_engine = make_engine(url), make_engine(url)
    lock, rival = LeaderLock(engine), LeaderLock(rival_engine)
    try:
        assert lock.acquire()
        for _ in range(5):
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        assert not rival.acquire()
    finally:
        lock.release()
        rival.release()
        engine.dispose()
        rival_engine.dispose()


def test_phased_job_lock_excludes_second_holder(database_url: str) -> None:
    """A job lock held across transactions excludes a second runner (PostgreSQL)."""
    from dispatch.jobs.lock import job_lock

    engine = make_engine(database_url)
    try:
        with job_lock(engine, "reoptimise") as first:
            assert first
            with job_lock(engine, "reoptimise") as second:
                assert second is (engine.dialect.name != "postgresql")
        with job_lock(engine, "reoptimise") as third:
            assert third
    finally:
        engine.dispose()
