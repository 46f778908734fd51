"""Safety netting: what the caller should do if things get worse (issue 13, H-003).

Every disposition ends with advice the call handler reads back. It always names the signs
that mean "call 999 now", chosen for this referral, and says to call 111 for anything else;
for an emergency it says what to do while the ambulance is on its way; for a child (out of
scope, H-004) it names the signs of a seriously ill child and the children's pathway.

Which red-flag signs are named:

- always the core four (chest pain, stroke, severe breathlessness, cannot be woken), the
  commonest reasons for a 999 call that any deterioration can bring;
- the flags tied to the recorded needs (``NEED_SIGNS``: a fall names a serious injury, a
  broken bone and a head injury on blood thinners; a wound names bleeding and sepsis);
- sepsis when a recorded temperature or pulse scored on NEWS2 (possible infection).

Red flags already answered yes are not repeated: that referral is already a 999 call.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from triage.red_flags import RED_FLAGS
from triage.timing import describe_time
from triage.types import News2Score, TriageInput

__all__ = ["CORE_SIGNS", "NEED_SIGNS", "SIGN_WORDS", "safety_netting", "signs_to_name"]

# How each red flag is named in the read-back: "call 999 straight away for any of these: ...".
SIGN_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "chest_pain": "chest pain",
        "stroke_symptoms": "signs of a stroke (face drooping, arm weakness, slurred speech)",
        "severe_breathlessness": "severe difficulty breathing",
        "major_bleeding": "bleeding that will not stop",
        "head_injury_on_anticoagulants": "a head injury while taking blood thinners",
        "fall_with_serious_injury": "a fall with a serious injury",
        "suspected_fracture": "a possible broken bone (for example cannot stand on a leg)",
        "unresponsive": "they cannot be woken or stop responding",
        "anaphylaxis": "sudden swelling of the face or throat, wheezing or collapse",
        "sepsis_suspected": "signs of sepsis (very unwell with mottled or blue-grey skin, "
                            "confusion or fast breathing)",
        "seizure": "a fit (seizure)",
        "overdose_or_poisoning": "they may have taken too much medicine or something poisonous",
    }
)
assert set(SIGN_WORDS) == set(RED_FLAGS), "every red flag has its read-back words"

CORE_SIGNS: tuple[str, ...] = (
    "chest_pain", "stroke_symptoms", "severe_breathlessness", "unresponsive",
)
NEED_SIGNS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "fall_no_injury": ("fall_with_serious_injury", "suspected_fracture",
                           "head_injury_on_anticoagulants"),
        "loss_of_mobility": ("fall_with_serious_injury", "suspected_fracture"),
        "falls_prevention": ("fall_with_serious_injury", "suspected_fracture"),
        "sudden_confusion": ("sepsis_suspected", "seizure"),
        "urgent_diabetes": ("seizure",),
        "insulin_administration": ("seizure",),
        "urgent_catheter": ("sepsis_suspected",),
        "catheter_care": ("sepsis_suspected",),
        "wound_care": ("major_bleeding", "sepsis_suspected"),
        "iv_therapy": ("sepsis_suspected", "anaphylaxis"),
        "medication_support": ("overdose_or_poisoning",),
        "medication_review": ("overdose_or_poisoning",),
    }
)
# Signs of a seriously ill child (NHS advice on when to call 999 for a child).
CHILD_SIGNS: tuple[str, ...] = (
    "struggles to breathe, is grunting or the skin sucks in under the ribs",
    "has blue, grey or very pale lips or skin",
    "is floppy, cannot be woken or will not stay awake",
    "has a fit (seizure)",
    "has a rash that does not fade when a glass is pressed on it",
    "has chest pain or a serious injury",
)
WHILE_WAITING = (
    "While you wait for the ambulance: stay with the person; do not give them anything to "
    "eat or drink; keep them warm, and let them lie down if they feel faint; unlock the door, "
    "put a light on and keep the phone line free; have their medicines and any care plan "
    "ready to show the crew. If they stop breathing, cannot be woken or get worse, call 999 "
    "again straight away and follow the call handler's instructions."
)


def signs_to_name(inp: TriageInput, news2: News2Score | None) -> tuple[str, ...]:
    """The red-flag codes to name in the read-back, in catalogue order (module notes)."""
    wanted = set(CORE_SIGNS)
    for code in inp.needs:
        wanted.update(NEED_SIGNS.get(code, ()))
    if news2 is not None and (news2.parts.get("temperature") or news2.parts.get("pulse")):
        wanted.add("sepsis_suspected")
    wanted.difference_update(inp.red_flags)
    return tuple(code for code in RED_FLAGS if code in wanted)


def _join(items: tuple[str, ...] | list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return "; ".join(items[:-1]) + "; or " + items[-1]


def safety_netting(
    inp: TriageInput, *, category: str, deadline: datetime | None, news2: News2Score | None
) -> str:
    """The safety-netting advice for one disposition, as one paragraph to read back.

    Parameters
    ----------
    inp
        The triage input (needs and red flags decide which signs are named).
    category, deadline, news2
        The disposition's category, deadline (for a visit) and NEWS2.

    Returns
    -------
    str
        999 for the named signs, 111 otherwise; while-waiting advice for ``emergency_999``;
        the children's signs and pathway for ``out_of_scope``.
    """
    if category == "emergency_999":
        return (
            "Call 999 now if no one has called yet, or transfer the call. " + WHILE_WAITING
        )
    if category == "out_of_scope":
        return (
            "This service is for adults, so no visit is booked. Call 111 now for an urgent "
            "clinical assessment of the child (or their GP if it is open). Call 999 straight "
            f"away if the child {_join(list(CHILD_SIGNS))}."
        )
    signs = _join([SIGN_WORDS[c] for c in signs_to_name(inp, news2)])
    call_999 = f"call 999 straight away for any of these: {signs}."
    if category == "signpost":
        return (
            f"No visit is booked. If things get worse, {call_999} If they get worse in any "
            "other way, or you are worried, call 111."
        )
    assert deadline is not None  # visit categories always have one
    return (
        f"If things get worse before the visit: {call_999} If they get worse in any other "
        f"way, or no one has arrived by {describe_time(deadline)}, call 111."
    )
