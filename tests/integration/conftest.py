"""Fixtures of the integration tests: fresh databases per module, child processes, fake Twilio."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes.twilio_server import FakeTwilio
from tests.integration.support import Procs, fresh_databases


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """``databases("sqlite" | "postgres")`` -> the URL of a new migrated database owned by this
    module (PostgreSQL ones are dropped WITH (FORCE) when the module ends)."""
    with fresh_databases(tmp_path_factory.mktemp("databases")) as make:
        yield make


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    """Start ``dispatch`` processes through this; each is stopped (by pid) after the test and
    its output is kept in ``tmp_path`` for the post-mortem."""
    started = Procs(tmp_path)
    yield started
    started.stop_all()


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """The fake Twilio REST API on a random port of 127.0.0.1."""
    with FakeTwilio() as fake:
        yield fake
