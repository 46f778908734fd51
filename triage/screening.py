"""Is there anything to triage? Red-flag screening as explicit answers (issue 13, H-003).

A referral with nothing filled in used to come out as "signpost", a benign answer nobody had
decided. Now each red-flag question is answered yes, no or not asked
(``TriageInput.red_flag_answers``), and a referral with no needs, no red-flag question
answered yes or no, and no observation is refused with ``IncompleteScreeningError`` (422 in
the API, a non-zero exit in the CLI). A Pathways disposition, frailty or risk tier alone are
not screening: they say how soon or how frail, not what is wrong.

Questions not asked are not a reason to refuse (a caller may not know), but the reasons say
which were not asked, so the handler can still ask them.
"""

from __future__ import annotations

from dataclasses import fields

from triage.errors import IncompleteScreeningError
from triage.red_flags import RED_FLAGS
from triage.types import Finding, Observations, TriageInput

__all__ = ["check_screening", "has_observations", "missing_screening", "screening_findings"]


def has_observations(obs: Observations) -> bool:
    """True when any observation was recorded (``spo2_scale`` is a setting, not one)."""
    return any(getattr(obs, f.name) is not None for f in fields(obs) if f.name != "spo2_scale")


def missing_screening(inp: TriageInput) -> tuple[str, ...]:
    """The screening fields missing, or () when at least one of them was recorded.

    Returns
    -------
    tuple of str
        ``("needs", "red_flag_answers", "observations")`` when none was recorded, else ().
    """
    if inp.needs or inp.screened or has_observations(inp.observations):
        return ()
    return ("needs", "red_flag_answers", "observations")


def check_screening(inp: TriageInput) -> None:
    """Refuse a referral with nothing to triage.

    Raises
    ------
    IncompleteScreeningError
        When there are no needs, no red-flag question answered yes or no and no observation.
    """
    missing = missing_screening(inp)
    if missing:
        raise IncompleteScreeningError(missing)


def screening_findings(inp: TriageInput) -> list[Finding]:
    """Say which red-flag questions were not asked (nothing when a red flag is a yes)."""
    if inp.red_flags:
        return []
    if not inp.screened:
        return [
            Finding(
                None,
                "No red-flag question was answered yes or no: ask them now if you can "
                "(a yes to any means 999).",
            )
        ]
    not_asked = inp.not_asked
    if not not_asked:
        return []
    names = "; ".join(RED_FLAGS[c].label for c in not_asked)
    return [Finding(None, f"Red-flag questions not asked: {names}. Ask them now if you can.")]
