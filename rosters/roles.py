"""Roles, skills and the default skill set of each role.

The skill codes are shared with ``triage/`` (a disposition lists the skills a visit needs) and
``routing/`` (only staff who hold every required skill may take a visit), so they are plain,
stable strings.

Why the defaults look the way they do
-------------------------------------
The defaults describe what a member of each role can *usually* be sent to do without checking
their individual competencies; a roster lists each worker's actual skills and may add or remove
any. They follow how integrated community teams of the kind described in the seeds work:

- A **district nurse** (registered nurse, community) does clinical assessment, wound care,
  catheter and continence care, insulin administration, falls assessment, medication prompts
  and end-of-life care. **IV therapy is not a default**: community IV antibiotics and
  fluids need an extra, individually signed-off competency, so only some nurses hold it and the
  roster must say so.
- A **hybrid worker** (health and social care support worker, serving the top two risk strata)
  does personal care, medication prompts, a first falls assessment and reablement support.
  Catheter care (bag changes) is trained for some hybrid workers only, so it is not a default.
- A **therapist** (occupational therapist or physiotherapist) does falls assessment,
  equipment provision and reablement.
- A **social worker** does social care assessments (including carer breakdown).
- A **coordinator** runs the board and does not make visits, so has no field skills.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

IV_THERAPY: Final = "iv_therapy"
CATHETER_CARE: Final = "catheter_care"
WOUND_CARE: Final = "wound_care"
INSULIN_ADMINISTRATION: Final = "insulin_administration"
FALLS_ASSESSMENT: Final = "falls_assessment"
PERSONAL_CARE: Final = "personal_care"
MEDICATION_PROMPT: Final = "medication_prompt"
END_OF_LIFE_CARE: Final = "end_of_life_care"
EQUIPMENT: Final = "equipment"
CLINICAL_ASSESSMENT: Final = "clinical_assessment"
SOCIAL_CARE_ASSESSMENT: Final = "social_care_assessment"
REABLEMENT: Final = "reablement"

#: Every skill code the service knows, in a stable display order.
SKILLS: Final[tuple[str, ...]] = (
    IV_THERAPY,
    CATHETER_CARE,
    WOUND_CARE,
    INSULIN_ADMINISTRATION,
    FALLS_ASSESSMENT,
    PERSONAL_CARE,
    MEDICATION_PROMPT,
    END_OF_LIFE_CARE,
    EQUIPMENT,
    CLINICAL_ASSESSMENT,
    SOCIAL_CARE_ASSESSMENT,
    REABLEMENT,
)

DISTRICT_NURSE: Final = "district_nurse"
HYBRID_WORKER: Final = "hybrid_worker"
THERAPIST: Final = "therapist"
SOCIAL_WORKER: Final = "social_worker"
COORDINATOR: Final = "coordinator"

#: Every role the service knows, in a stable display order.
ROLES: Final[tuple[str, ...]] = (
    DISTRICT_NURSE,
    HYBRID_WORKER,
    THERAPIST,
    SOCIAL_WORKER,
    COORDINATOR,
)

#: Skills a member of each role holds unless the roster says otherwise (see module docstring).
DEFAULT_SKILLS: Final = MappingProxyType(
    {
        DISTRICT_NURSE: frozenset(
            {
                CLINICAL_ASSESSMENT,
                WOUND_CARE,
                CATHETER_CARE,
                INSULIN_ADMINISTRATION,
                FALLS_ASSESSMENT,
                MEDICATION_PROMPT,
                END_OF_LIFE_CARE,
                # Urgent community response nurses also give the personal care a severely frail
                # person needs at the same visit (triage asks for it at CFS 7+).
                PERSONAL_CARE,
            }
        ),
        # Hybrid health-and-social-care workers also make the first social care assessment
        # (the tri-borough hybrid role), so a carer breakdown needs one visit, not two.
        HYBRID_WORKER: frozenset(
            {PERSONAL_CARE, MEDICATION_PROMPT, FALLS_ASSESSMENT, REABLEMENT, SOCIAL_CARE_ASSESSMENT}
        ),
        THERAPIST: frozenset({FALLS_ASSESSMENT, EQUIPMENT, REABLEMENT}),
        SOCIAL_WORKER: frozenset({SOCIAL_CARE_ASSESSMENT}),
        COORDINATOR: frozenset(),
    }
)


def default_skills(role: str) -> frozenset[str]:
    """Return the default skill set of ``role``.

    Parameters
    ----------
    role
        One of :data:`ROLES`.

    Returns
    -------
    frozenset of str
        The role's default skills (see the module docstring for why).

    Raises
    ------
    ValueError
        If ``role`` is not a known role.
    """
    try:
        return DEFAULT_SKILLS[role]
    except KeyError:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}") from None


def unknown_skills(skills: frozenset[str] | set[str]) -> list[str]:
    """Return the codes in ``skills`` that are not known skills, sorted.

    Why: both the constructor and the CSV importer need the same list for their messages.
    """
    return sorted(skill for skill in skills if skill not in SKILLS)


#: Skills some (not all) members of a role hold on top of the defaults (the roster grants
#: them per person): IV therapy for trained nurses, catheter care for some hybrid workers...
EXTRA_SKILLS: Final = MappingProxyType(
    {
        DISTRICT_NURSE: frozenset({IV_THERAPY}),
        HYBRID_WORKER: frozenset({CATHETER_CARE, EQUIPMENT}),
        THERAPIST: frozenset({CLINICAL_ASSESSMENT}),
        SOCIAL_WORKER: frozenset({REABLEMENT}),
        COORDINATOR: frozenset(),
    }
)


#: Skills no role holds by default: only some members of a role have them (IV therapy).
ONLY_EXTRAS: Final = frozenset(SKILLS) - frozenset().union(*DEFAULT_SKILLS.values())


def possible_skills(role: str) -> frozenset[str]:
    """Skills a member of ``role`` may hold: the defaults plus the role's extras."""
    return DEFAULT_SKILLS[role] | EXTRA_SKILLS[role]


def split_by_role(skills: frozenset[str] | set[str]) -> list[frozenset[str]]:
    """Split the skills a referral needs into groups one role can cover alone.

    Why: a visit is made by one person, so a need that spans roles (a carer breakdown in a
    person who has also fallen) becomes one visit per role. Greedy set cover over the roles'
    *default* skills, largest overlap first, ties broken by role order. A role's extras are
    held by some of its members only (a therapist who may also make clinical assessments), so
    a group that leans on one is refused whenever none of them is on shift (H-242: an urgent
    reablement whose observations called for an assessment went back to 999). Extras therefore
    join a group only for skills no role holds by default (IV therapy joins the nurse's
    assessment), and a skill no role can hold stays in a group of its own.

    Returns
    -------
    list of frozenset
        Non-empty groups whose union is ``skills``; ``[frozenset()]`` when none are needed.
    """
    remaining = set(skills)
    groups: list[frozenset[str]] = []
    while remaining:
        best = max(ROLES, key=lambda role: (len(DEFAULT_SKILLS[role] & remaining),
                                            len(EXTRA_SKILLS[role] & remaining & ONLY_EXTRAS),
                                            -ROLES.index(role)))
        covered = (DEFAULT_SKILLS[best] | EXTRA_SKILLS[best] & ONLY_EXTRAS) & remaining
        if not covered:
            groups.extend(frozenset({skill}) for skill in sorted(remaining))
            break
        groups.append(frozenset(covered))
        remaining -= covered
    return groups or [frozenset()]


#: Skills only a registered clinician (a district nurse) holds by default.
CLINICAL_SKILLS: Final = frozenset(
    {CLINICAL_ASSESSMENT, WOUND_CARE, INSULIN_ADMINISTRATION, IV_THERAPY, END_OF_LIFE_CARE}
)


def spares(worker_skills: frozenset[str], visit_skills: frozenset[str]) -> bool:
    """Whether a visit needing ``visit_skills`` should spare a worker holding ``worker_skills``.

    Why: nurses also hold personal care and medication prompts, so without a preference the
    planner filled their days with home care calls as readily as the hybrid workers', and the
    urgent clinical assessments that only nurses can make found every nurse busy (issue 17).
    A worker who can make a clinical assessment is spared a visit that needs no clinical
    skill; the planner gives such a worker the visit only at a cost (a preference, never a
    rule: the nurse still takes it when nobody else can in time).
    """
    return CLINICAL_ASSESSMENT in worker_skills and not visit_skills & CLINICAL_SKILLS
