"""CarePlan, ServiceRequest codes, Flags and Consent -> needs, red flags, disposition, notes.

Where the codes are read (each a CodeableConcept, every coding looked at):

- ``ServiceRequest.code`` and ``ServiceRequest.reasonCode[]``;
- ``CarePlan.activity[].detail.code`` and ``CarePlan.activity[].outcomeCodeableConcept[]``
  (BaRS puts the Pathways SG, SD and Dx codes there).

What each system means (tables in ``dispatch.fhir.codes``):

=========================== ==================================================================
system                      effect
=========================== ==================================================================
local ``needs``             the code is a ``triage.NEEDS`` code; unknown -> 422 code-invalid
local ``red-flags``         the code is a ``triage.RED_FLAGS`` code; unknown -> 422
Pathways Dx                 ``pathways_disposition`` (``DX05`` -> ``Dx05``); bad shape -> 422
Pathways SG / SD            a need if in ``PATHWAYS_NEEDS``; always copied into the notes
text only (no coding)       copied into the notes (the Pathways consultation summary)
anything else               ignored
=========================== ==================================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dispatch.fhir import codes as c
from dispatch.fhir.bundle import Entry, MessageBundle
from dispatch.fhir.types import ConsentGiven, Issue
from triage import NEEDS, RED_FLAGS

MAX_NOTES = 2000  # ReferralCreateSchema.notes
TRUNCATED = " [truncated; see the sender's record]"
_DX = re.compile(r"^dx(\d{2,5})$", re.IGNORECASE)


@dataclass
class Clinical:
    """What the codes, flags and notes of a message add up to."""

    needs: list[str] = field(default_factory=list)
    red_flags: list[str] = field(default_factory=list)
    disposition: str | None = None
    notes: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)


def read_clinical(mb: MessageBundle, service_request: Entry, issues: list[Issue]) -> Clinical:
    """Needs, red flags, the Pathways disposition and notes, appending problems to ``issues``."""
    found = Clinical()
    for concept, path in _concepts(mb, service_request):
        _read_concept(concept, path, found, issues)
    for entry in mb.of_type("Flag"):
        if entry.resource.status == "active":
            found.notes.append(_flag_note(entry.resource))
    sr = service_request.resource
    found.notes.extend(f"Referrer's note: {n.text}" for n in sr.note or () if n.text)
    if sr.patientInstruction:
        found.notes.append(f"Patient instruction: {sr.patientInstruction}")
    return found


def notes_text(notes: list[str]) -> str | None:
    """The notes as one text that fits the referral's column, cut with a marker if need be."""
    text = "\n".join(dict.fromkeys(n.strip() for n in notes if n.strip()))
    if len(text) > MAX_NOTES:
        text = text[: MAX_NOTES - len(TRUNCATED)] + TRUNCATED
    return text or None


def _concepts(mb: MessageBundle, sr: Entry) -> Iterator[tuple[Any, str]]:
    if sr.resource.code is not None:
        yield sr.resource.code, f"{sr.path}.code"
    for k, concept in enumerate(sr.resource.reasonCode or ()):
        yield concept, f"{sr.path}.reasonCode[{k}]"
    for plan in mb.of_type("CarePlan"):
        for a, activity in enumerate(plan.resource.activity or ()):
            base = f"{plan.path}.activity[{a}]"
            if activity.detail is not None and activity.detail.code is not None:
                yield activity.detail.code, f"{base}.detail.code"
            for o, concept in enumerate(activity.outcomeCodeableConcept or ()):
                yield concept, f"{base}.outcomeCodeableConcept[{o}]"


def _read_concept(concept: Any, path: str, found: Clinical, issues: list[Issue]) -> None:
    codings = list(concept.coding or ())
    if not codings and concept.text:
        found.notes.append(f"Pathways: {concept.text}")
    for j, coding in enumerate(codings):
        where = f"{path}.coding[{j}].code"
        system, code = coding.system or "", coding.code or ""
        if system == c.NEEDS_SYSTEM:
            _known(code, NEEDS, "need", where, found.needs, issues)
            found.origins.setdefault("needs", where)
        elif system == c.RED_FLAGS_SYSTEM:
            _known(code, RED_FLAGS, "red flag", where, found.red_flags, issues)
            found.origins.setdefault("red_flags", where)
        elif system == c.PATHWAYS_DX_SYSTEM:
            _disposition(code, where, found, issues)
        elif system in (c.PATHWAYS_SG_SYSTEM, c.PATHWAYS_SD_SYSTEM):
            label = coding.display or ""
            found.notes.append(f"Pathways {code} {label}".rstrip())
            mapped = c.PATHWAYS_NEEDS.get((system, code))
            if mapped and mapped not in found.needs:
                found.needs.append(mapped)
                found.origins.setdefault("needs", where)


def _known(
    code: str, table: Any, noun: str, where: str, into: list[str], issues: list[Issue]
) -> None:
    if code in table:
        if code not in into:
            into.append(code)
        return
    issues.append(Issue("code-invalid", f"unknown {noun} code {code!r}; see the code list "
                        f"{', '.join(sorted(table))}", where))


def _disposition(code: str, where: str, found: Clinical, issues: list[Issue]) -> None:
    match = _DX.match(code)
    if match is None:
        issues.append(Issue("code-invalid", f"{code!r} is not an NHS Pathways disposition code "
                            "(Dx followed by 2 to 5 digits, e.g. Dx05)", where))
        return
    if found.disposition is None:
        found.disposition = f"Dx{match.group(1)}"
        found.origins["pathways_disposition"] = where


def _flag_note(flag: Any) -> str:
    label = c.DEFAULT_FLAG_LABEL
    for concept in flag.category or ():
        for coding in concept.coding or ():
            if coding.system == c.FLAG_CATEGORY_SYSTEM and coding.code in c.FLAG_CATEGORY_LABELS:
                label = c.FLAG_CATEGORY_LABELS[coding.code]
    code = flag.code
    words = code.text or next((d.display or d.code for d in code.coding or () if d.display
                               or d.code), None)
    return f"{label}: {words or 'see the sender record'}"


def read_consent(
    mb: MessageBundle, patient: Entry, recorded_by: str
) -> ConsentGiven | None:
    """An active Consent to share for direct care (scope patient-privacy, or category DRC).

    A Consent whose provision denies, or that is about another patient, does not count.
    We only ever *record* consent from a message; withdrawing it is a conversation, not a
    message field, and stays with the care coordinator.
    """
    for entry in mb.of_type("Consent"):
        consent = entry.resource
        if consent.status != "active" or not _is_care_sharing(consent):
            continue
        if consent.provision is not None and consent.provision.type == "deny":
            continue
        subject = mb.resolve(consent.patient)
        if consent.patient is not None and subject is not None and subject is not patient:
            continue
        return ConsentGiven(recorded_by=recorded_by, expression=entry.path)
    return None


def _is_care_sharing(consent: Any) -> bool:
    scope = [(d.system, d.code) for d in (consent.scope.coding or ())] if consent.scope else []
    categories = [(d.system, d.code) for cat in consent.category or () for d in cat.coding or ()]
    return ((c.CONSENT_SCOPE_SYSTEM, c.CONSENT_SCOPE_PRIVACY) in scope
            or (c.CONSENT_CATEGORY_SYSTEM, c.CONSENT_CATEGORY_DIRECT_CARE) in categories)
