"""``DISPATCH_LOG_FORMAT=json``: one JSON object per line with the request id, no patient data."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from flask import Flask

from dispatch import logs
from dispatch.auth import request_id


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    # `dispatch simulate` and `dispatch capacity plan` quieten the "dispatch" logger for their
    # process; run in-process by earlier tests (CliRunner), that would hide these lines.
    ours = logging.getLogger("dispatch")
    ours_level = ours.level
    ours.setLevel(logging.NOTSET)
    yield
    ours.setLevel(ours_level)
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def _lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_json_lines_carry_the_request_id_and_no_patient_data(
    app: Flask, capsys: pytest.CaptureFixture[str], restore_root: None
) -> None:
    logs.configure("json")
    with app.test_request_context("/api/referrals", headers={"X-Request-Id": "req-42"}):
        request_id()
        logging.getLogger("dispatch.services.referrals").warning(
            "referral for NHS number 943 476 5919 born 1941-03-02 refused")
    logging.getLogger("dispatch.jobs.runner").info("job watch_deadlines ran")
    lines = _lines(capsys.readouterr().err)
    assert [line["request_id"] for line in lines] == ["req-42", None]
    first = lines[0]
    assert first["level"] == "WARNING" and first["logger"] == "dispatch.services.referrals"
    assert "943 476 5919" not in json.dumps(first) and "1941-03-02" not in json.dumps(first)
    assert first["message"] == "referral for NHS number <nhs-number> born <date> refused"
    assert str(first["time"]).endswith("+00:00")


def test_json_exception_is_one_line_and_redacted(
    capsys: pytest.CaptureFixture[str], restore_root: None
) -> None:
    logs.configure("json")
    try:
        raise ValueError("patient 9434765919 not found")
    except ValueError:
        logging.getLogger("dispatch.jobs.runner").exception("job place_new failed")
    err = capsys.readouterr().err
    (line,) = _lines(err)
    assert "ValueError" in str(line["exception"]) and "9434765919" not in err


def test_configure_twice_keeps_one_handler_and_refuses_unknown_formats(
    restore_root: None,
) -> None:
    before = len(logging.getLogger().handlers)
    logs.configure("text")
    logs.configure("json")
    assert len(logging.getLogger().handlers) == before + 1
    with pytest.raises(ValueError, match="DISPATCH_LOG_FORMAT must be one of text, json"):
        logs.configure("xml")


def test_serve_refuses_an_unknown_log_format_with_a_message(
    monkeypatch: pytest.MonkeyPatch, restore_root: None
) -> None:
    """A typo in DISPATCH_LOG_FORMAT stops `dispatch serve` at once with a message (exit 2)."""
    from click.testing import CliRunner

    from dispatch.cli import main

    monkeypatch.setenv("DISPATCH_LOG_FORMAT", "jsno")
    result = CliRunner().invoke(main, ["serve", "--no-jobs"])
    assert result.exit_code == 2
    assert "DISPATCH_LOG_FORMAT must be one of text, json, not 'jsno'" in result.output
