"""Placing a visit wakes the SMS sender at once (the offer must not wait for the next tick)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from dispatch.jobs import runner


def test_place_new_wakes_sender_when_it_placed(monkeypatch: pytest.MonkeyPatch, app: Flask) -> None:
    """A placement run that did something wakes send_messages; an idle run does not."""
    woken: list[str] = []
    monkeypatch.setattr(runner, "wake", woken.append)
    outcomes: list[Any] = [["a report"], []]
    monkeypatch.setattr(runner, "run_phased_job", lambda *_a, **_k: outcomes.pop(0))
    runner.place_new(app)
    runner.place_new(app)
    assert woken == ["send_messages"]
