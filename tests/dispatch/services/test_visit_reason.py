"""The reason a visit carries to the board is a short summary, never a cut-off sentence
(issue 14): the needs in words, whole items only, what does not fit counted."""

from __future__ import annotations

from dispatch.services.referrals import visit_reason

SUMMARY = "Urgent community response within 2 hours: care must start by 12:20 on Tue 1 Dec."
NEWS2 = ("NEWS2 is at least 5 from 5 of 7 parameters (medium risk on what was recorded, SpO2 "
         "scale 1): respiration rate 22/min scores 2; SpO2 95% scores 1.")


def test_visit_reason_names_the_needs_in_words() -> None:
    """Two needs: their labels, joined; triage's long findings are not copied in."""
    reason = visit_reason(["fall_no_injury", "sudden_confusion"], [SUMMARY, NEWS2])
    assert reason == "Fall without serious injury; Sudden confusion or delirium"


def test_visit_reason_keeps_cross_cover_first() -> None:
    """A cross-cover note leads (the coordinator needs to know why it is not local)."""
    reason = visit_reason(["fall_no_injury"], [SUMMARY], cover="Cross-cover: no one in HF-N1 "
                          "has equipment")
    assert reason.startswith("Cross-cover: no one in HF-N1 has equipment; Fall")


def test_visit_reason_whole_items_only_and_counts_the_rest() -> None:
    """Past the limit, whole needs are dropped and counted; nothing ends mid-word."""
    reason = visit_reason(["fall_no_injury", "sudden_confusion", "urgent_catheter"], [SUMMARY],
                          limit=60)
    assert reason == "Fall without serious injury; and 2 more"


def test_visit_reason_without_needs_uses_whole_sentences() -> None:
    """No needs: triage's first finding after the summary, whole sentences; one sentence too
    long for the limit ends at a whole word with an ellipsis."""
    reason = visit_reason([], [SUMMARY, NEWS2], limit=80)
    assert len(reason) <= 80 and reason.endswith("…") and NEWS2.startswith(reason[:-1])
    assert visit_reason([], [SUMMARY, "Clinical Frailty Scale 6: moderate frailty."]) == (
        "Clinical Frailty Scale 6: moderate frailty.")
