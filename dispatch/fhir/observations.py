"""Observation resources -> the NEWS2 ``observations`` of the triage input.

Codes come from ``dispatch.fhir.codes.OBSERVATION_CODES`` (LOINC vital signs, the SNOMED
ACVPU score, and a few local codes). A blood-pressure panel is read through its components.
When a parameter is measured more than once, the latest ``effectiveDateTime`` wins (the
patient's state now matters, not an hour ago); ties go to the later entry. Observations we
have no code for (age, pain score...) are left alone; readings we cannot interpret safely
(Fahrenheit, an unknown ACVPU value, a missing value) are refused with the element's path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from dispatch.fhir import codes as c
from dispatch.fhir.bundle import Entry
from dispatch.fhir.types import Issue
from triage import CONSCIOUSNESS_LEVELS

NUMERIC = ("respiration_rate", "spo2", "systolic_bp", "pulse", "temperature")
SKIPPED_STATUSES = ("entered-in-error", "cancelled")
_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Reading:
    key: str
    value: Any
    path: str
    effective: datetime
    order: int


def read_observations(
    entries: list[Entry], issues: list[Issue]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The observations dict and, per key, the FHIRPath it was read from.

    Problems are appended to ``issues`` rather than raised, so one reply lists them all.
    """
    latest: dict[str, Reading] = {}
    order = 0
    for entry in entries:
        obs = entry.resource
        if obs.status in SKIPPED_STATUSES:
            continue
        effective = _aware(obs.effectiveDateTime) or _EARLIEST
        holders = [(obs, entry.path)] + [
            (comp, f"{entry.path}.component[{k}]") for k, comp in enumerate(obs.component or ())
        ]
        for holder, path in holders:
            order += 1
            reading = _reading(holder, path, effective, order, issues)
            if reading is None:
                continue
            kept = latest.get(reading.key)
            if kept is None or (reading.effective, reading.order) >= (kept.effective, kept.order):
                latest[reading.key] = reading
    values = {k: r.value for k, r in latest.items()}
    origins = {f"observations.{k}": r.path for k, r in latest.items()}
    return values, origins


def _aware(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) and value.utcoffset() is not None else None


def _reading(
    holder: Any, path: str, effective: datetime, order: int, issues: list[Issue]
) -> Reading | None:
    match = _match(holder.code)
    if match is None:
        return None
    key, code = match
    if getattr(holder, "dataAbsentReason", None) is not None:
        return None  # the sender says why there is no value; score what is given
    value = _value(key, code, holder, path, issues)
    if value is None:
        return None
    where = f"{path}.valueQuantity.value" if key in NUMERIC else path
    return Reading(key, value, where, effective, order)


def _match(concept: Any) -> tuple[str, str] | None:
    for coding in (concept.coding or ()) if concept is not None else ():
        key = c.OBSERVATION_CODES.get((coding.system or "", coding.code or ""))
        if key:
            return key, str(coding.code)
    return None


def _value(key: str, code: str, holder: Any, path: str, issues: list[Issue]) -> Any:
    if key in NUMERIC:
        return _number(key, holder, path, issues)
    if key == "consciousness":
        return _consciousness(holder, path, issues)
    if key == "spo2_scale":
        value = holder.valueInteger
        if value is None and holder.valueQuantity is not None:
            value = _plain(holder.valueQuantity.value)
        if value is None:
            issues.append(Issue("required", "the SpO2 scale needs valueInteger 1 or 2", path))
        return value
    return _on_oxygen(code, holder, path, issues)


def _plain(value: Decimal | None) -> int | float | None:
    """JSON-friendly number: 22 stays an int, 36.8 a float."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _number(key: str, holder: Any, path: str, issues: list[Issue]) -> int | float | None:
    quantity = holder.valueQuantity
    if quantity is None or quantity.value is None:
        issues.append(Issue("required", f"the {key.replace('_', ' ')} Observation needs a "
                            "valueQuantity.value", f"{path}.valueQuantity"))
        return None
    if key == "temperature":
        unit = quantity.code or quantity.unit
        if unit is not None and unit not in c.CELSIUS_UNITS:
            issues.append(Issue("code-invalid", f"body temperature must be in degrees Celsius "
                                f"(UCUM 'Cel'), got {unit!r}", f"{path}.valueQuantity.code"))
            return None
    return _plain(quantity.value)


def _consciousness(holder: Any, path: str, issues: list[Issue]) -> str | None:
    concept = holder.valueCodeableConcept
    for k, coding in enumerate((concept.coding or ()) if concept is not None else ()):
        if coding.system == c.SNOMED and coding.code in c.ACVPU_SNOMED:
            return c.ACVPU_SNOMED[coding.code]
        if coding.system == c.CONSCIOUSNESS_SYSTEM:
            if coding.code in CONSCIOUSNESS_LEVELS:
                return str(coding.code)
            issues.append(Issue("code-invalid", f"unknown consciousness level {coding.code!r} "
                                f"(known: {', '.join(CONSCIOUSNESS_LEVELS)})",
                                f"{path}.valueCodeableConcept.coding[{k}].code"))
            return None
    known = ", ".join(f"{code} ({level})" for code, level in c.ACVPU_SNOMED.items())
    issues.append(Issue("code-invalid", "the ACVPU Observation needs a valueCodeableConcept with "
                        f"a SNOMED CT ACVPU value: {known}", f"{path}.valueCodeableConcept"))
    return None


def _on_oxygen(code: str, holder: Any, path: str, issues: list[Issue]) -> bool | None:
    if holder.valueBoolean is not None:
        return bool(holder.valueBoolean)
    quantity = holder.valueQuantity
    if quantity is None or quantity.value is None:
        issues.append(Issue("required", "the oxygen Observation needs valueBoolean or a "
                            "valueQuantity", path))
        return None
    if code == c.OXYGEN_FLOW_CODE:
        return bool(quantity.value > 0)
    room_air = Decimal(str(c.ROOM_AIR_FIO2_PERCENT))
    if quantity.value <= 1:  # sent as a fraction (0.28), not a percentage (28)
        room_air /= 100
    return bool(quantity.value > room_air)
