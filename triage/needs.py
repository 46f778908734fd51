"""The catalogue of presenting needs a call handler can record.

Each need says which response it warrants, the skills a worker must hold to meet it and how
long a visit typically takes. The nine urgent community response (UCR) conditions are the
NHS England two-hour standard's list (CLINICAL.md, "Response standards"); needs that must
be met within a day follow the Greenwich joint emergency team 24-hour model; the rest are
planned visits or signposting.

``clinical`` marks needs that need a nurse or clinician rather than social care. It decides
what happens to an urgent referral outside 08:00-20:00 (see ``triage.ucr_hours``): clinical
needs go to the out-of-hours nursing service, non-clinical ones to the next morning's slot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from triage.specs import SKILLS, NeedSpec

__all__ = [
    "ASSESSMENT_VISIT_MINUTES",
    "two_staff_skills",
    "EXTRA_NEED_MINUTES",
    "MAX_VISIT_MINUTES",
    "NEEDS",
    "SKILLS",
    "UCR_NEEDS",
    "need",
    "visit_duration",
]

# A visit that meets several needs takes the longest one plus this much for each other need.
EXTRA_NEED_MINUTES = 15
MAX_VISIT_MINUTES = 120
# Visit length when only observations or a Pathways timeframe call for one.
ASSESSMENT_VISIT_MINUTES = 45

_CATALOGUE: tuple[NeedSpec, ...] = (
    # Urgent community response: within 2 hours (NHS England), 08:00-20:00.
    NeedSpec("fall_no_injury", "Fall without serious injury", "urgent_2h",
             ("falls_assessment", "clinical_assessment"), 60, clinical=True, ucr=True),
    NeedSpec("sudden_confusion", "Sudden confusion or delirium", "urgent_2h",
             ("clinical_assessment",), 60, clinical=True, ucr=True),
    NeedSpec("loss_of_mobility", "Sudden loss of mobility or decompensation of frailty",
             "urgent_2h", ("clinical_assessment", "falls_assessment"), 60, clinical=True, ucr=True),
    NeedSpec("urgent_catheter", "Urgent catheter care", "urgent_2h",
             ("catheter_care",), 45, clinical=True, ucr=True),
    NeedSpec("urgent_continence", "Urgent continence care", "urgent_2h",
             ("personal_care",), 45, clinical=False, ucr=True),
    NeedSpec("urgent_diabetes", "Urgent diabetes support", "urgent_2h",
             ("clinical_assessment", "insulin_administration"), 45, clinical=True, ucr=True),
    NeedSpec("carer_breakdown", "Urgent support for a carer who can no longer cope",
             "urgent_2h", ("social_care_assessment", "personal_care"), 90,
             clinical=False, ucr=True),
    # The carer's own crisis (taken ill, injured, admitted, bereaved): the person they look
    # after is suddenly without care. Part of NHS England's carer-breakdown UCR condition
    # ("urgent support for carer breakdown which, if not resolved, will result in a
    # healthcare need for the person receiving care"), kept as its own code so that the
    # carer's needs are seen and followed up (issue 16, item 2).
    NeedSpec("carer_crisis", "The carer's own crisis: the person they look after is left "
             "without care", "urgent_2h", ("social_care_assessment", "personal_care"), 90,
             clinical=False, ucr=True),
    NeedSpec("end_of_life_crisis", "End-of-life crisis support", "urgent_2h",
             ("end_of_life_care", "clinical_assessment"), 60, clinical=True, ucr=True),
    NeedSpec("urgent_equipment", "Urgent equipment provision", "urgent_2h",
             ("equipment",), 45, clinical=False, ucr=True),
    NeedSpec("urgent_reablement", "Urgent reablement or rehabilitation", "urgent_2h",
             ("reablement",), 60, clinical=False, ucr=True),
    # Needs that must be met within a day (joint emergency team model).
    NeedSpec("wound_care", "Wound care", "response_24h", ("wound_care",), 45, clinical=True),
    NeedSpec("medication_support", "Medication support", "response_24h",
             ("medication_prompt",), 20, clinical=False),
    NeedSpec("personal_care", "Personal care", "response_24h",
             ("personal_care",), 45, clinical=False),
    NeedSpec("iv_therapy", "Intravenous therapy", "response_24h",
             ("iv_therapy",), 60, clinical=True),
    NeedSpec("insulin_administration", "Insulin administration", "response_24h",
             ("insulin_administration",), 30, clinical=True),
    NeedSpec("catheter_care", "Routine catheter care", "response_24h",
             ("catheter_care",), 30, clinical=True),
    # Moving a person with a hoist takes two trained people (manual handling guidance: the
    # Manual Handling Operations Regulations 1992 risk assessment; hoist transfers are
    # routinely double-handed in home care), so the visit is booked for two staff at once.
    NeedSpec("hoist_transfer", "Two-person hoist transfer", "response_24h",
             ("personal_care",), 45, clinical=False, staff=2),
    # Planned visits.
    NeedSpec("care_package_review", "Care package review", "planned",
             ("social_care_assessment",), 60, clinical=False),
    NeedSpec("falls_prevention", "Falls prevention assessment", "planned",
             ("falls_assessment",), 60, clinical=False),
    NeedSpec("equipment_review", "Equipment review", "planned", ("equipment",), 45,
             clinical=False),
    NeedSpec("medication_review", "Medication review", "planned",
             ("clinical_assessment",), 45, clinical=True),
    # Signposting: advice or another service, no visit.
    NeedSpec("social_isolation", "Loneliness or social isolation", "signpost", (), 0,
             clinical=False),
    NeedSpec("benefits_or_housing_advice", "Benefits or housing advice", "signpost", (), 0,
             clinical=False),
    NeedSpec("carer_information", "Information for carers", "signpost", (), 0,
             clinical=False),
)

NEEDS: Mapping[str, NeedSpec] = MappingProxyType({n.code: n for n in _CATALOGUE})
UCR_NEEDS: tuple[str, ...] = tuple(n.code for n in _CATALOGUE if n.ucr)

assert len(NEEDS) == len(_CATALOGUE), "need codes must be unique"
assert set(SKILLS) == {s for n in _CATALOGUE for s in n.skills}, "every skill is used"


def need(code: str) -> NeedSpec:
    """Look up a need by code.

    Raises
    ------
    KeyError
        If the code is not in the catalogue (parsing rejects such codes first).
    """
    return NEEDS[code]


def visit_duration(codes: Iterable[str]) -> int:
    """Typical minutes for one visit that meets all the given needs.

    The longest need sets the base and each further visit-needing need adds
    ``EXTRA_NEED_MINUTES``, capped at ``MAX_VISIT_MINUTES``: one worker does them together,
    which is quicker than separate visits. Signposting needs add nothing; with no visit
    need at all the visit is an assessment of ``ASSESSMENT_VISIT_MINUTES``.
    """
    minutes = sorted(
        (NEEDS[c].visit_minutes for c in codes if NEEDS[c].visit_minutes), reverse=True
    )
    if not minutes:
        return ASSESSMENT_VISIT_MINUTES
    return min(MAX_VISIT_MINUTES, minutes[0] + EXTRA_NEED_MINUTES * (len(minutes) - 1))


def two_staff_skills(codes: Iterable[str]) -> frozenset[str]:
    """The skills of the needs among ``codes`` that take two staff at once: a visit that
    brings any of them needs two workers (issue 15)."""
    return frozenset(s for c in codes if NEEDS[c].staff == 2 for s in NEEDS[c].skills)
