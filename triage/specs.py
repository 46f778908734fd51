"""The shapes of the triage catalogues: a presenting need, a red flag, and the skill codes.

Kept apart from :mod:`triage.types` so the catalogues (:mod:`triage.needs`,
:mod:`triage.red_flags`) are built from these and :mod:`triage.types` checks input against
the catalogues, with no import going back the other way.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COMMUNITY_CATEGORIES", "SKILLS", "NeedSpec", "RedFlagSpec"]

# The categories a need in the catalogue can ask for (a community service's answers).
COMMUNITY_CATEGORIES: tuple[str, ...] = ("urgent_2h", "response_24h", "planned", "signpost")

# The skill codes a visit can require and a worker can hold (rosters/ uses the same codes).
SKILLS: tuple[str, ...] = (
    "iv_therapy",
    "catheter_care",
    "wound_care",
    "insulin_administration",
    "falls_assessment",
    "personal_care",
    "medication_prompt",
    "end_of_life_care",
    "equipment",
    "clinical_assessment",
    "social_care_assessment",
    "reablement",
)


@dataclass(frozen=True)
class NeedSpec:
    """One presenting need in the catalogue: what it warrants and who can meet it."""

    code: str
    label: str
    category: str
    skills: tuple[str, ...]
    visit_minutes: int
    clinical: bool
    ucr: bool = False
    #: Staff the visit needs at once: 2 for two-person handling (a hoist transfer).
    staff: int = 1

    def __post_init__(self) -> None:
        if self.staff not in (1, 2):
            raise ValueError(f"need {self.code!r}: staff must be 1 or 2")
        if self.category not in COMMUNITY_CATEGORIES:
            raise ValueError(f"need {self.code!r}: category must be a community category")
        unknown = [s for s in self.skills if s not in SKILLS]
        if unknown:
            raise ValueError(f"need {self.code!r}: unknown skill(s) {', '.join(unknown)}")
        if self.ucr != (self.category == "urgent_2h"):
            raise ValueError(f"need {self.code!r}: UCR needs and only they are urgent_2h")
        if self.visit_minutes < 0 or (self.category != "signpost") != (self.visit_minutes > 0):
            raise ValueError(f"need {self.code!r}: visits need a duration, signposts none")


@dataclass(frozen=True)
class RedFlagSpec:
    """A red flag: an answer that sends the caller to 999 / ED, never a community visit."""

    code: str
    label: str
    sentence: str
