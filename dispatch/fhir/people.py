"""Patient and requester resources -> the referral's ``patient`` and ``referrer``.

The NHS number is required and checked here (modulus 11, ``dispatch.nhs_numbers``) so an
invalid one is reported at its own element; the other demographics are passed on and the
referral service decides whether they are enough (a known NHS number needs nothing else).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from dispatch.fhir import codes as c
from dispatch.fhir.bundle import Entry, MessageBundle
from dispatch.fhir.types import Issue
from dispatch.nhs_numbers import InvalidNhsNumber, normalise_nhs_number

MAX_PHONE = 16  # Patient.phone column
MAX_REFERRER_NAME = 120
MAX_REFERRER_ROLE = 80
MAX_ORGANISATION = 120
_PHONE_JUNK = re.compile(r"[\s()\-.]")


def read_patient(
    entry: Entry, issues: list[Issue]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The ``patient`` details and their origins (``patient.postcode`` -> FHIRPath)."""
    patient = entry.resource
    details: dict[str, Any] = {}
    origins: dict[str, str] = {"patient": entry.path}
    _nhs_number(patient, entry.path, details, origins, issues)
    _name(patient, entry.path, details, origins)
    origins["patient.date_of_birth"] = f"{entry.path}.birthDate"
    if isinstance(patient.birthDate, date):  # a partial date ("1941") cannot register anyone
        details["date_of_birth"] = patient.birthDate.isoformat()
    _address(patient, entry.path, details, origins)
    phone = _phone(patient.telecom or ())
    if phone:
        details["phone"] = phone
    return details, origins


def _nhs_number(
    patient: Any, path: str, details: dict[str, Any], origins: dict[str, str],
    issues: list[Issue],
) -> None:
    for k, identifier in enumerate(patient.identifier or ()):
        if identifier.system != c.NHS_NUMBER_SYSTEM:
            continue
        where = f"{path}.identifier[{k}].value"
        try:
            details["nhs_number"] = normalise_nhs_number(identifier.value or "")
        except InvalidNhsNumber as exc:
            issues.append(Issue("invalid", f"invalid NHS number {identifier.value!r}: {exc}",
                                where))
        origins["patient.nhs_number"] = where
        return
    issues.append(Issue("required", f"the Patient needs an NHS number (identifier with system "
                        f"{c.NHS_NUMBER_SYSTEM})", f"{path}.identifier"))


def _name(patient: Any, path: str, details: dict[str, Any], origins: dict[str, str]) -> None:
    origins["patient.given_name"] = origins["patient.family_name"] = f"{path}.name"
    names = list(patient.name or ())
    if not names:
        return
    k, name = next(((i, n) for i, n in enumerate(names) if n.use == "official"), (0, names[0]))
    if name.given:
        details["given_name"] = name.given[0]
        origins["patient.given_name"] = f"{path}.name[{k}].given[0]"
    if name.family:
        details["family_name"] = name.family
        origins["patient.family_name"] = f"{path}.name[{k}].family"


def _address(patient: Any, path: str, details: dict[str, Any], origins: dict[str, str]) -> None:
    addresses = list(patient.address or ())
    if not addresses:
        return
    k, address = next(((i, a) for i, a in enumerate(addresses) if a.use == "home"),
                      (0, addresses[0]))
    parts = [*(address.line or ()), *([address.city] if address.city else [])]
    text = ", ".join(p for p in parts if p) or (address.text or "")
    if text:
        details["address"] = text
        origins["patient.address"] = f"{path}.address[{k}]"
    if address.postalCode:
        details["postcode"] = address.postalCode
        origins["patient.postcode"] = f"{path}.address[{k}].postalCode"


def _phone(telecoms: Any) -> str | None:
    """The preferred phone: mobile first, then by rank; None if none fits our column."""
    phones = [t for t in telecoms if t.system == "phone" and t.value]
    phones.sort(key=lambda t: (t.use != "mobile", t.rank or 99))
    for telecom in phones:
        number = _PHONE_JUNK.sub("", telecom.value)
        if len(number) <= MAX_PHONE:
            return number
    return None


def read_referrer(
    mb: MessageBundle, service_request: Entry
) -> tuple[dict[str, str], str]:
    """The ``referrer`` (name, role, organisation) and the FHIRPath of the requester."""
    requester = service_request.resource.requester
    path = f"{service_request.path}.requester"
    entry = mb.resolve(requester)
    name, role, organisation = _who(mb, entry)
    name = name or (requester.display if requester is not None else None)
    organisation = organisation or _sender_organisation(mb)
    referrer = {"name": _cut(name or organisation or "Unknown requester", MAX_REFERRER_NAME)}
    if role:
        referrer["role"] = _cut(role, MAX_REFERRER_ROLE)
    if organisation:
        referrer["organisation"] = _cut(organisation, MAX_ORGANISATION)
    return referrer, path


def _who(mb: MessageBundle, entry: Entry | None) -> tuple[str | None, str | None, str | None]:
    if entry is None:
        return None, None, None
    resource = entry.resource
    if entry.type == "Practitioner":
        return _human(resource), None, None
    if entry.type == "Organization":
        return resource.name, None, resource.name
    if entry.type == "PractitionerRole":
        practitioner = mb.resolve(resource.practitioner)
        organisation = mb.resolve(resource.organization)
        role = _concept_text(resource.code[0]) if resource.code else None
        return (_human(practitioner.resource) if practitioner else None, role,
                organisation.resource.name if organisation else None)
    return None, None, None


def _human(resource: Any) -> str | None:
    for name in resource.name or ():
        text = name.text or " ".join([*(name.given or ()), *([name.family] if name.family else [])])
        if text.strip():
            return text.strip()
    return None


def _sender_organisation(mb: MessageBundle) -> str | None:
    header = mb.header.resource
    sender = mb.resolve(header.sender)
    if sender is not None and sender.type == "Organization" and sender.resource.name:
        return str(sender.resource.name)
    if header.sender is not None and header.sender.display:
        return str(header.sender.display)
    return header.source.name if header.source is not None else None


def _concept_text(concept: Any) -> str | None:
    if concept.text:
        return str(concept.text)
    for coding in concept.coding or ():
        if coding.display:
            return str(coding.display)
    return None


def _cut(text: str, limit: int) -> str:
    """Labels (names, organisations) are cut to fit their column rather than refused."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
