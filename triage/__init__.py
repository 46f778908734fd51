"""Triage: pure, explainable dispositions for rapid-response referrals.

Plain data in, plain data out; no Flask, no database, no clock. The three calls the service
needs are ``parse_triage_input`` (JSON to ``TriageInput``), ``triage`` (``TriageInput`` to
``Disposition``) and ``disposition_to_dict`` (``Disposition`` to the JSON shape in DESIGN.md).
``check_screening`` refuses a referral with nothing to triage (``IncompleteScreeningError``)
before anything is stored; ``triage`` refuses it too.
"""

from triage.disposition import triage
from triage.errors import IncompleteScreeningError, TriageError, TriageInputError
from triage.frailty import CFS_NAMES, frailty_name
from triage.needs import NEEDS, SKILLS, UCR_NEEDS
from triage.news2 import score_news2
from triage.parsing import disposition_to_dict, parse_triage_input
from triage.red_flags import RED_FLAGS
from triage.screening import check_screening
from triage.types import (
    CATEGORIES,
    CONSCIOUSNESS_LEVELS,
    RED_FLAG_ANSWERS,
    RISK_TIERS,
    Disposition,
    NeedSpec,
    News2Score,
    Observations,
    RedFlagSpec,
    TriageInput,
)

__all__ = [
    "CATEGORIES",
    "CFS_NAMES",
    "CONSCIOUSNESS_LEVELS",
    "Disposition",
    "IncompleteScreeningError",
    "NEEDS",
    "NeedSpec",
    "News2Score",
    "Observations",
    "RED_FLAGS",
    "RED_FLAG_ANSWERS",
    "RISK_TIERS",
    "RedFlagSpec",
    "SKILLS",
    "TriageError",
    "TriageInput",
    "TriageInputError",
    "UCR_NEEDS",
    "check_screening",
    "disposition_to_dict",
    "frailty_name",
    "parse_triage_input",
    "score_news2",
    "triage",
]
