"""Red flags: answers that mean 999 or the emergency department, never a community visit.

CLINICAL.md: "In the community: 7+ or red flags means 999 / emergency department, not a
community visit." Each flag carries the sentence a call handler reads back, so the reason
for sending an ambulance is always spoken in the same plain words.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from triage.specs import RedFlagSpec

__all__ = ["RED_FLAGS", "red_flag"]

_FLAGS: tuple[RedFlagSpec, ...] = (
    RedFlagSpec("chest_pain", "Chest pain",
                "Chest pain may be a heart attack: call 999 now."),
    RedFlagSpec("stroke_symptoms", "Stroke symptoms (FAST positive)",
                "Face drooping, arm weakness or speech difficulty may be a stroke (FAST): "
                "call 999 now."),
    RedFlagSpec("severe_breathlessness", "Severe breathlessness",
                "Severe breathlessness needs emergency care: call 999 now."),
    RedFlagSpec("major_bleeding", "Major bleeding",
                "Major bleeding that will not stop needs emergency care: call 999 now."),
    RedFlagSpec("head_injury_on_anticoagulants", "Head injury while on anticoagulants",
                "A head injury in someone taking blood thinners can cause bleeding in the "
                "brain: send to the emergency department now."),
    RedFlagSpec("fall_with_serious_injury", "Fall with serious injury",
                "A fall with a serious injury needs the ambulance service, not a community "
                "visit: call 999 now."),
    RedFlagSpec("suspected_fracture", "Suspected fracture",
                "A suspected broken bone (for example a hip that cannot bear weight) needs "
                "the emergency department: call 999 now."),
    RedFlagSpec("unresponsive", "Unresponsive",
                "The person cannot be woken or does not respond: call 999 now."),
    RedFlagSpec("anaphylaxis", "Anaphylaxis",
                "A severe allergic reaction (swelling, wheeze, collapse) is life-threatening: "
                "call 999 now."),
    RedFlagSpec("sepsis_suspected", "Suspected sepsis",
                "Possible sepsis (very unwell with a suspected infection) needs emergency "
                "care: call 999 now."),
    RedFlagSpec("seizure", "Seizure",
                "A seizure that is new, prolonged or repeated needs emergency care: "
                "call 999 now."),
    RedFlagSpec("overdose_or_poisoning", "Overdose or poisoning",
                "A possible overdose or poisoning needs emergency care: call 999 now."),
)

RED_FLAGS: Mapping[str, RedFlagSpec] = MappingProxyType({f.code: f for f in _FLAGS})

assert len(RED_FLAGS) == len(_FLAGS), "red flag codes must be unique"


def red_flag(code: str) -> RedFlagSpec:
    """Look up a red flag by code.

    Raises
    ------
    KeyError
        If the code is not known (parsing rejects such codes first).
    """
    return RED_FLAGS[code]
