"""Synthetic care plans, consent records and access notes that fit a patient's stratum.

Why here and not in ``population``: the register is about *who* people are; this module is
about what the services have written down about them, which is most of the text we make up.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from dispatch.config import LONDON
from dispatch.demo.names import FAMILY_NAMES, GIVEN_NAMES
from dispatch.demo.types import DemoCarePlan

#: Consent and first plan versions were recorded between these many days before today.
RECORDED_DAYS_AGO: Final = (14, 730)
#: A plan is reviewed (version 2) between these many days after version 1.
REVIEW_AFTER_DAYS: Final = (28, 365)
#: People with a frailty score of at least this often have a DNACPR decision recorded.
DNACPR_FROM_FRAILTY: Final = 7
DNACPR_PROBABILITY: Final = 0.5

GOALS: Final[tuple[str, ...]] = (
    "Stay at home safely", "Avoid unplanned hospital admissions", "Walk to the local shops",
    "Manage breathlessness at home", "Keep to a regular medication routine",
    "Stay in touch with friends at the day centre", "Sleep through the night",
    "Be comfortable and pain-free", "Support for carer to keep caring",
)  # fmt: skip

ESCALATIONS: Final[tuple[str, ...]] = (
    "Urgent community response first; 999 only for red flags.",
    "Call the named lead, then the GP; rescue pack for COPD exacerbation at home.",
    "Falls: check for injury, then urgent community response within 2 hours.",
    "Sudden confusion: screen for infection, urgent community response.",
    "End of life: palliative care team and just-in-case medicines at home.",
)

LIVING: Final[tuple[str, ...]] = ("alone", "with partner", "with family", "in sheltered housing")
RELATIONSHIPS: Final[tuple[str, ...]] = ("daughter", "son", "partner", "niece", "neighbour")

_ACCESS_TEMPLATES: Final[tuple[str, ...]] = (
    "Key safe by the front door, code {code}.",
    "Key safe on the side gate, code {code}; please re-lock after the visit.",
    "Key safe below the entry phone, code {code}. Slow to answer the door.",
    "{relation} holds a key; call before visiting.",
    "Concierge holds a key; ask at the desk.",
    "Dog in the flat; please knock and wait.",
)


def london_time_utc(day: date, at: time) -> datetime:
    """The aware UTC instant of a local Europe/London wall-clock time on ``day``."""
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def recorded_at(rng: random.Random, today: date) -> datetime:
    """A working-hours moment some days before ``today`` (consent, first plan version)."""
    day = today - timedelta(days=rng.randint(*RECORDED_DAYS_AGO))
    return london_time_utc(day, time(rng.randint(9, 16), rng.choice((0, 15, 30, 45))))


def person_name(rng: random.Random) -> str:
    """A working-age person's full name (staff, named leads, next of kin)."""
    return f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}"


def access_notes(rng: random.Random) -> str:
    """How to get in: a key safe and its code, or who holds a key."""
    template = rng.choice(_ACCESS_TEMPLATES)
    relation = rng.choice(RELATIONSHIPS).capitalize()
    return template.format(code=f"{rng.randrange(10_000):04d}", relation=relation)


def care_plan_versions(
    rng: random.Random,
    *,
    age: int,
    frailty: int | None,
    conditions: tuple[str, ...],
    author: str,
    first_at: datetime,
    today: date,
    reviewed: bool,
) -> tuple[DemoCarePlan, ...]:
    """Version 1 of a plan written at ``first_at`` and, if ``reviewed``, a later version 2.

    Why a second version for some: care plans are append-only (a change writes a version),
    and the demo should show a patient whose plan has history.
    """
    content = _plan_content(rng, age=age, frailty=frailty, conditions=conditions)
    first = DemoCarePlan(1, _summary(age, frailty, conditions, content), content, author, first_at)
    if not reviewed:
        return (first,)
    latest = london_time_utc(today - timedelta(days=1), time(12))
    review_at = min(first_at + timedelta(days=rng.randint(*REVIEW_AFTER_DAYS)), latest)
    if review_at <= first_at:
        return (first,)
    revised = {**content, "goals": [*content["goals"], rng.choice(GOALS)]}
    revised["reviewed"] = review_at.date().isoformat()
    summary = _summary(age, frailty, conditions, revised) + " Reviewed."
    return first, DemoCarePlan(2, summary, revised, author, review_at)


def _plan_content(
    rng: random.Random, *, age: int, frailty: int | None, conditions: tuple[str, ...]
) -> dict[str, Any]:
    frail = frailty is not None and frailty >= DNACPR_FROM_FRAILTY
    return {
        "conditions": list(conditions),
        "frailty": frailty,
        "lives": rng.choice(LIVING),
        "goals": rng.sample(GOALS, 2),
        "escalation": rng.choice(ESCALATIONS),
        "next_of_kin": {
            "name": person_name(rng),
            "relationship": rng.choice(RELATIONSHIPS),
            "phone": f"+442079460{rng.randrange(1000):03d}",
        },
        "dnacpr": frail and rng.random() < DNACPR_PROBABILITY,
        "medication_support": age >= 75 or "dementia" in conditions,
    }


def _summary(
    age: int, frailty: int | None, conditions: tuple[str, ...], content: dict[str, Any]
) -> str:
    listed = ", ".join(c.replace("_", " ") for c in conditions) or "no long-term conditions"
    cfs = f", Clinical Frailty Scale {frailty}" if frailty is not None else ""
    return f"{age}-year-old{cfs}; {listed}. Lives {content['lives']}. {content['escalation']}"
