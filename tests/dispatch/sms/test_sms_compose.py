"""What a text may say (CLINICAL.md, information governance): reference, window, postcode
district and a link; never a name, date of birth, NHS number, full postcode or diagnosis."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dispatch.sms import compose
from dispatch.sms.errors import InformationGovernanceError

NOW = datetime(2026, 12, 1, 10, 20, tzinfo=UTC)
SUMMER_NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
BASE = "https://dispatch.example.nhs.uk"
JOE = compose.forbidden_for_patient(
    given_name="Joe", family_name="Bloggs", date_of_birth=date(1941, 3, 2),
    address="1 Wood Lane, London", conditions=["dementia", "urinary_infection"],
    nhs_number="9434765919")


def _offer(now: datetime = NOW, start: datetime | None = None) -> str:
    start = start or now + timedelta(minutes=20)
    return compose.offer_text(reference="4821", category="urgent_2h", postcode="w12 7rq",
                              start=start, end=start + timedelta(minutes=45), now=now,
                              base_url=BASE)


def test_offer_text_matches_the_agreed_wording() -> None:
    """The offer says what, where (district), when, how to reply, and links the visit page."""
    assert _offer() == (
        "Visit 4821: urgent 2h, W12, 10:40-11:25 today. Reply ACCEPT 4821 or DECLINE 4821 "
        f"<reason>. Details: {BASE}/visits/4821")


def test_offer_time_is_london_time_in_summer() -> None:
    """In British Summer Time 09:20 UTC is 10:20 on the worker's phone."""
    assert "10:20-11:05 today" in _offer(SUMMER_NOW, SUMMER_NOW + timedelta(minutes=20))


def test_offer_for_tomorrow_says_tomorrow() -> None:
    """A window on the next London day is labelled so."""
    assert "tomorrow" in _offer(NOW, NOW + timedelta(days=1))


@pytest.mark.parametrize("text", [
    _offer(),
    compose.reassigned_away_text(reference="4821"),
    compose.withdrawn_text(reference="4821"),
    compose.cancelled_text(reference="4821"),
    compose.escalation_text(reference="4821", cause="SMS to the worker failed: unreachable",
                            deadline=NOW, network="H&F North", now=NOW, base_url=BASE),
    compose.opt_out_alert_text(staff_code="S1", network="H&F North"),
    compose.HELP_TEXT, compose.NOT_REGISTERED_TEXT, compose.NOT_UNDERSTOOD_TEXT,
    compose.accepted_text(reference="4821", start=NOW, end=NOW, now=NOW),
    compose.declined_text(reference="4821"),
    compose.arrived_text(reference="4821", at=NOW),
    compose.done_text(reference="4821", at=NOW),
    compose.refused_text(reference="4821", reason="visit 4821 is not offered to you"),
    compose.unknown_visit_text(reference="4821"),
    compose.missing_reference_text(keyword="accept"),
])
def test_every_template_is_ig_clean(text: str) -> None:
    """No template can carry the patient's data, whatever the patient."""
    assert compose.ig_problems(text, forbidden=JOE) == []


@pytest.mark.parametrize(("text", "problem"), [
    ("Visit 4821 for Joe", "'Joe'"),
    ("Visit 4821, Mr BLOGGS", "'Bloggs'"),
    ("Visit 4821 at 1 Wood Lane", "'1 Wood Lane'"),
    ("Visit 4821 in Wood Lane", "'Wood Lane'"),
    ("Visit 4821 born 02/03/1941", "date"),
    ("Visit 4821 born 2 Mar 1941", "'2 Mar 1941'"),
    ("Visit 4821 NHS 943 476 5919", "10-digit"),
    ("Visit 4821 NHS 9434765919", "10-digit"),
    ("Visit 4821 at W12 7RQ", "full postcode"),
    ("Visit 4821 at w127rq", "full postcode"),
    ("Visit 4821: urinary infection", "'urinary infection'"),
    ("Visit 4821: Dementia review", "'dementia'"),
    ("Visit 4821: after a fall", "'fall'"),
])
def test_ig_guard_catches_patient_data(text: str, problem: str) -> None:
    """Names, address, DOB, NHS number, full postcode and diagnoses are each caught."""
    with pytest.raises(InformationGovernanceError) as caught:
        compose.check_ig(text, forbidden=JOE)

    assert any(problem in p for p in caught.value.problems)


def test_ig_guard_allows_the_district() -> None:
    """The postcode district alone is allowed."""
    assert compose.ig_problems("Visit 4821: urgent 2h, W12, 10:40-11:25 today") == []


def test_ig_guard_ignores_names_that_are_template_words() -> None:
    """A patient surnamed "Visit" must not block every offer (templates hold no record data)."""
    forbidden = compose.forbidden_for_patient(
        given_name="Al", family_name="Visit", date_of_birth=None, address=None)

    assert compose.ig_problems(_offer(), forbidden=forbidden) == []


@pytest.mark.parametrize(("postcode", "district"), [
    ("W12 7RQ", "W12"), ("w127rq", "W12"), ("SW1A 1AA", "SW1A"), (" EC1A  1BB ", "EC1A"),
    ("N1 9GU", "N1"),
])
def test_postcode_district(postcode: str, district: str) -> None:
    """Only the outward code is kept, however the postcode was typed."""
    assert compose.postcode_district(postcode) == district


def test_postcode_district_rejects_non_postcodes() -> None:
    """A malformed postcode is an error, never passed through whole."""
    with pytest.raises(ValueError, match="not a UK postcode: 'W12'"):
        compose.postcode_district("W12")


def test_offer_with_a_malformed_postcode_still_goes_out() -> None:
    """A bad postcode on the record must not block the offer, nor be copied into it."""
    text = compose.offer_text(reference="4821", category="urgent_2h", postcode="Flat 2b",
                              start=NOW, end=NOW, now=NOW, base_url=BASE)

    assert "area on visit page" in text and "Flat" not in text
