"""The board's rows rendered in one pass (dispatch/web/board_rows.py): escaped exactly as the
templates escaped them, so text from a referral can never become markup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import escape

from dispatch.services.board import BoardVisit
from dispatch.web import board_rows
from dispatch.web.drawings import Dot

NOW = datetime(2026, 12, 1, 10, 20, tzinfo=UTC)


def _visit(**changes: object) -> BoardVisit:
    fields: dict[str, object] = dict(
        id=7, reference="B0007", status="unassigned", category="urgent_2h", priority=2,
        reason="Fall", skills=(), district="W12", earliest_start=NOW, deadline=NOW +
        timedelta(minutes=50), duration_minutes=45, planned_start=None, staff_id=None,
        staff_name=None, pinned=False, version=1, cause=None, minutes_left=50, point=None)
    fields.update(changes)
    return BoardVisit(**fields)  # type: ignore[arg-type]


def test_escape_matches_markupsafe() -> None:
    for text in ("a&b<c>\"d'e", "plain", "&amp;", "<script>alert(1)</script>", "", "é ü"):
        assert board_rows._e(text) == str(escape(text))


@pytest.mark.safety("H-012")
@pytest.mark.safety("H-115")
def test_rows_escape_text_from_referrals() -> None:
    hostile = '<img src=x onerror="alert(1)">'
    visit = _visit(reason=hostile, staff_name=hostile, pair=hostile, district=hostile)
    html = str(board_rows.attention_rows([visit], NOW, lambda i: f"/board/visits/{i}?a=1&b=2"))
    assert "<img" not in html and html.count("&lt;img") == 4
    assert 'href="/board/visits/7?a=1&amp;b=2"' in html
    assert "2-hour urgent: " in html and "50 min left" in html and ">Assign<" in html
    planned = str(board_rows.planned_rows(
        [_visit(status="offered", planned_start=NOW, staff_name=hostile, pinned=True)], NOW,
        lambda i: f"/v/{i}"))
    assert "<img" not in planned and ">pinned<" in planned and ">offered<" in planned
    dots = str(board_rows.map_dots([Dot(1.0, 2.0, "app-map-visit--jeopardy", hostile, "R<1")]))
    assert "<img" not in dots and "<path" in dots and 'data-visit="R&lt;1"' in dots
    workers = str(board_rows.map_workers([Dot(1.0, 2.0, "app-map-worker", hostile)]))
    assert "<img" not in workers and "app-map-worker" in workers


def test_timeline_labels_cut_as_jinja_truncate_did() -> None:
    from jinja2 import Environment

    truncate = Environment().filters["truncate"]
    env = Environment()
    for text in ("Short name (car)", "x" * 31, "x" * 32,
                 "Alexandra Featherstonehaugh-Smythe (bus)"):
        assert board_rows._label(text) == truncate(env, text, 26, True, "…")
