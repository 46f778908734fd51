"""A parsed message Bundle -> a :class:`ReferralMessage` (the referral we are asked to make).

Checks run in the order a reader would: the MessageHeader (event, reason, focus), the
ServiceRequest (status, intent, category, subject, requester, occurrencePeriod), then the
clinical content. Every problem found is collected, and one :class:`BundleInvalid` lists
them all, each with the FHIRPath of its element. A cancelling ServiceRequest (revoked or
entered-in-error) needs only the header and the ServiceRequest's identity.

Source (999 or 111), first match wins:

1. ``ServiceRequest.category`` has BaRS use case ``A4T3`` (999 to community services);
2. ``MessageHeader.source.name`` or ``.endpoint`` contains "999" as a word;
3. ``Encounter.class`` is ``EMER`` (v3 ActCode);
4. otherwise ``111``.

``received_at`` is ``Encounter.period.start``, else ``Bundle.timestamp``; one is required so
that a redelivered message is byte-for-byte the same referral (never "now").
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from dispatch.fhir import codes as c
from dispatch.fhir.bundle import Entry, MessageBundle
from dispatch.fhir.clinical import notes_text, read_clinical, read_consent
from dispatch.fhir.errors import BundleInvalid
from dispatch.fhir.observations import read_observations
from dispatch.fhir.outcome import origin_of
from dispatch.fhir.people import read_patient, read_referrer
from dispatch.fhir.types import DischargeFacts, Issue, ReferralMessage

MAX_KEY = 100  # Referral.idempotency_key and Referral.external_id columns
KEY_PREFIX = "fhir:"  # keeps message ids apart from REST Idempotency-Key values
_WORD_999 = re.compile(r"(?<!\d)999(?!\d)")


def to_referral_message(mb: MessageBundle) -> ReferralMessage:
    """What the message asks for.

    Raises
    ------
    BundleInvalid
        With every missing, malformed or unknown element found.
    """
    issues: list[Issue] = []
    header_id, reason, sr = _header(mb, issues)
    if sr is None:
        raise BundleInvalid(issues)
    status = sr.resource.status
    ids = _identity(mb, sr, issues)
    if status in c.SR_CANCELLING:
        _raise_if(issues)
        return ReferralMessage(header_id, reason, status, ids[0], ids[1],
                               service_request_path=sr.path)
    if status != c.SR_ACTIVE:
        issues.append(Issue("code-invalid", f"ServiceRequest.status must be active (a referral) or "
                            f"revoked / entered-in-error (a cancellation), got {status!r}",
                            f"{sr.path}.status"))
    elif reason == c.REASON_UPDATE:
        issues.append(Issue("not-supported", "an update may only cancel a referral (status revoked "
                            "or entered-in-error); call the service to change one",
                            f"{mb.header.path}.reason"))
    message = _referral(mb, sr, header_id, reason, ids, issues)
    _raise_if(issues)
    return message


def _raise_if(issues: list[Issue]) -> None:
    if issues:
        raise BundleInvalid(issues)


def _header(mb: MessageBundle, issues: list[Issue]) -> tuple[str, str, Entry | None]:
    header, path = mb.header.resource, mb.header.path
    event = header.eventCoding
    if event is None or (event.system, event.code) != (c.MESSAGE_EVENTS_SYSTEM,
                                                       c.EVENT_REFERRAL_REQUEST):
        got = f"{event.system}|{event.code}" if event is not None else header.eventUri
        issues.append(Issue("code-invalid", "MessageHeader.eventCoding must be "
                            f"{c.MESSAGE_EVENTS_SYSTEM}|{c.EVENT_REFERRAL_REQUEST}, got {got!r}",
                            f"{path}.eventCoding"))
    reason = _reason(header, path, issues)
    header_id = header.id or (mb.header.full_url or "").rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    if not header_id:
        issues.append(Issue("required", "the MessageHeader needs an id (or a urn:uuid fullUrl) for "
                            "the response to quote", f"{path}.id"))
    return header_id, reason, _focus(mb, header, path, issues)


def _reason(header: Any, path: str, issues: list[Issue]) -> str:
    codings = list(header.reason.coding or ()) if header.reason is not None else []
    for coding in codings:
        if coding.system == c.MESSAGE_REASON_SYSTEM and coding.code in c.MESSAGE_REASONS:
            return str(coding.code)
    got = ", ".join(f"{d.system}|{d.code}" for d in codings) or "nothing"
    issues.append(Issue("code-invalid" if codings else "required",
                        f"MessageHeader.reason must be new or update ({c.MESSAGE_REASON_SYSTEM}), "
                        f"got {got}", f"{path}.reason"))
    return c.REASON_NEW


def _focus(mb: MessageBundle, header: Any, path: str, issues: list[Issue]) -> Entry | None:
    focus = list(header.focus or ())
    if not focus:
        issues.append(Issue("required", "MessageHeader.focus must reference the ServiceRequest",
                            f"{path}.focus"))
        return None
    entry = mb.resolve(focus[0])
    if entry is None or entry.type != "ServiceRequest":
        what = "nothing in the Bundle" if entry is None else f"a {entry.type}"
        issues.append(Issue("invalid", f"MessageHeader.focus {focus[0].reference!r} must reference "
                            f"the ServiceRequest entry; it resolves to {what}",
                            f"{path}.focus[0]"))
        return None
    return entry


def _identity(mb: MessageBundle, sr: Entry, issues: list[Issue]) -> tuple[str, str | None]:
    """``external_id`` (the ServiceRequest's identity), ``idempotency_key`` (the message's)."""
    resource = sr.resource
    identifiers = [i.value for i in resource.identifier or () if i.value]
    external = identifiers[0] if identifiers else (
        sr.full_url or (f"ServiceRequest/{resource.id}" if resource.id else ""))
    if not external:
        issues.append(Issue("required", "the ServiceRequest needs an identifier, a fullUrl or "
                            "an id so it can be cancelled later", f"{sr.path}.identifier"))
    elif len(external) > MAX_KEY:
        issues.append(Issue("too-long", f"the ServiceRequest identifier is longer than {MAX_KEY} "
                            "characters", f"{sr.path}.identifier[0].value"))
    bundle_id = mb.bundle.identifier.value if mb.bundle.identifier is not None else None
    message_id = bundle_id or mb.header.resource.id or mb.header.full_url
    key = f"{KEY_PREFIX}{message_id}" if message_id else None
    if key is not None and len(key) > MAX_KEY:
        issues.append(Issue("too-long", f"the message identifier is longer than "
                            f"{MAX_KEY - len(KEY_PREFIX)} characters", "Bundle.identifier.value"))
    return external, key


def _referral(
    mb: MessageBundle, sr: Entry, header_id: str, reason: str, ids: tuple[str, str | None],
    issues: list[Issue],
) -> ReferralMessage:
    resource = sr.resource
    _check_service_request(resource, sr.path, issues)
    patient_entry = mb.resolve(resource.subject)
    payload: dict[str, Any] = {}
    origins: dict[str, str] = {"source": f"{mb.header.path}.source"}
    if patient_entry is None or patient_entry.type != "Patient":
        issues.append(Issue("invalid", "ServiceRequest.subject must reference the Patient entry in "
                            "the Bundle", f"{sr.path}.subject"))
    else:
        payload["patient"], found = read_patient(patient_entry, issues)
        origins.update(found)
    payload["referrer"], origins["referrer"] = read_referrer(mb, sr)
    payload["source"] = _source(mb, sr)
    received = _received_at(mb, sr, issues, origins)
    if received is not None:
        payload["received_at"] = received.isoformat()
    _clinical(mb, sr, payload, origins, issues)
    end = _occurrence_end(resource, sr.path, received, issues)
    consent = None
    if patient_entry is not None and patient_entry.type == "Patient":
        who = payload["referrer"].get("organisation") or payload["referrer"]["name"]
        consent = read_consent(mb, patient_entry, who)
    discharge = _discharge(mb, sr, payload, origins, end, issues) if is_discharge(sr) else None
    return ReferralMessage(header_id, reason, str(resource.status), ids[0], ids[1],
                           payload=payload, origins=origins, occurrence_end=end, consent=consent,
                           service_request_path=sr.path, discharge=discharge)


def is_discharge(sr: Entry) -> bool:
    """Whether the ServiceRequest asks for a hospital discharge to be followed up at home."""
    return any((d.system, d.code) == (c.REFERRAL_TYPE_SYSTEM, c.REFERRAL_TYPE_DISCHARGE)
               for cat in sr.resource.category or () for d in cat.coding or ())


def _discharge(
    mb: MessageBundle, sr: Entry, payload: dict[str, Any], origins: dict[str, str],
    end: datetime | None, issues: list[Issue],
) -> DischargeFacts | None:
    """The discharge a hospital's message reports (issue 16, H-205): when (the inpatient
    Encounter's ``period.end``), the follow-up window (``occurrencePeriod.end`` 24 or 48 hours
    after it) and the summary (the ServiceRequest's notes)."""
    encounter = _encounter(mb, sr)
    period = encounter.resource.period if encounter is not None else None
    discharged = _aware(period.end) if period is not None else None
    where = f"{encounter.path}.period.end" if encounter is not None else f"{sr.path}.encounter"
    if discharged is None:
        issues.append(Issue("required", "a discharge needs the inpatient Encounter with "
                            "period.end (when the patient left hospital, with a zone)", where))
    if end is None:
        issues.append(Issue("required", "a discharge needs occurrencePeriod.end: the follow-up "
                            "visit is due 24 or 48 hours after discharge",
                            f"{sr.path}.occurrencePeriod.end"))
    hours = None
    if discharged is not None and end is not None:
        span = (end - discharged).total_seconds() / 3600
        if span not in (24, 48):
            issues.append(Issue("invalid", f"occurrencePeriod.end must be 24 or 48 hours after "
                                f"discharge ({discharged.isoformat()}); it is {span:g} hours",
                                f"{sr.path}.occurrencePeriod.end"))
        else:
            hours = int(span)
    summary = "\n".join(n.text for n in sr.resource.note or () if n.text).strip()
    if not summary:
        issues.append(Issue("required", "a discharge needs its summary in ServiceRequest.note",
                            f"{sr.path}.note"))
    for key, what in (("red_flags", "red flags"), ("observations", "observations")):
        if payload.get(key):
            # Never dropped silently (under-triage): a discharge is a planned follow-up.
            issues.append(Issue("not-supported", f"a discharge follow-up does not take {what}: "
                                "a patient who is unwell now needs an urgent referral (send it "
                                "without the hospital-discharge category) or 999",
                                origin_of(f"{key}.{next(iter(payload[key]))}", origins)))
    referrer = payload.get("referrer", {})
    hospital = referrer.get("organisation") or referrer.get("name") or ""
    lines = _care_at_home(mb, issues)
    if discharged is None or hours is None or not summary:
        return None
    return DischargeFacts(hospital=hospital, discharged_at=discharged, follow_up_hours=hours,
                          summary=summary[:2000], care_lines=lines)


#: Timing units a CarePlan activity may use, in days.
_DAYS = {"d": 1, "wk": 7}


def _care_at_home(mb: MessageBundle, issues: list[Issue]) -> tuple[tuple[str, float, int], ...]:
    """The care at home a discharge asks for, from the CarePlan(s) in the message: each
    activity's ``detail.code`` in the care tariff, ``scheduledTiming.repeat`` frequency per
    period (days or weeks) and ``boundsDuration`` (days or weeks). A line that cannot be read is
    an issue naming its element, never dropped."""
    lines = []
    for entry in mb.of_type("CarePlan"):
        for i, activity in enumerate(entry.resource.activity or ()):
            path = f"{entry.path}.activity[{i}].detail"
            detail = activity.detail
            codes = [d.code for d in (detail.code.coding or ()) if d.system ==
                     c.CARE_TARIFF_SYSTEM] if detail is not None and detail.code else []
            repeat = (detail.scheduledTiming.repeat if detail is not None
                      and detail.scheduledTiming is not None else None)
            if not codes:
                issues.append(Issue("required", f"each CarePlan activity needs detail.code from "
                                    f"{c.CARE_TARIFF_SYSTEM} (the care tariff)", f"{path}.code"))
                continue
            per_week = weeks = None
            if repeat is not None and repeat.frequency and repeat.period and \
                    repeat.periodUnit in _DAYS:
                per_week = float(repeat.frequency) * 7 / (float(repeat.period) *
                                                          _DAYS[repeat.periodUnit])
            bounds = repeat.boundsDuration if repeat is not None else None
            unit = (bounds.code or bounds.unit) if bounds is not None else None
            if bounds is not None and bounds.value and unit in _DAYS:
                days = float(bounds.value) * _DAYS[unit]
                weeks = int(days // 7) if days % 7 == 0 else None
            if per_week is None or per_week <= 0:
                issues.append(Issue("required", "give how often: scheduledTiming.repeat with "
                                    "frequency, period and periodUnit d or wk",
                                    f"{path}.scheduledTiming.repeat"))
            elif weeks is None or weeks <= 0:
                issues.append(Issue("required", "give for how long: scheduledTiming.repeat."
                                    "boundsDuration in whole weeks (unit wk, or d in sevens)",
                                    f"{path}.scheduledTiming.repeat.boundsDuration"))
            else:
                lines.append((str(codes[0]), round(per_week, 2), weeks))
    return tuple(lines)


def _check_service_request(sr: Any, path: str, issues: list[Issue]) -> None:
    if sr.intent not in c.SR_INTENTS:
        issues.append(Issue("code-invalid", f"ServiceRequest.intent must be plan or order, got "
                            f"{sr.intent!r}", f"{path}.intent"))
    categories = [(d.system, d.code) for cat in sr.category or () for d in cat.coding or ()]
    if (c.SERVICE_REQUEST_CATEGORY_SYSTEM, c.CATEGORY_REFERRAL) not in categories:
        issues.append(Issue("code-invalid" if categories else "required",
                            f"ServiceRequest.category must include "
                            f"{c.SERVICE_REQUEST_CATEGORY_SYSTEM}|{c.CATEGORY_REFERRAL}",
                            f"{path}.category"))
    if sr.requester is None:
        issues.append(Issue("required", "ServiceRequest.requester must say who made the referral",
                            f"{path}.requester"))


def _clinical(
    mb: MessageBundle, sr: Entry, payload: dict[str, Any], origins: dict[str, str],
    issues: list[Issue],
) -> None:
    found = read_clinical(mb, sr, issues)
    observations, obs_origins = read_observations(mb.of_type("Observation"), issues)
    origins.update(found.origins)
    origins.update(obs_origins)
    if found.needs:
        payload["needs"] = found.needs
    if found.red_flags:
        payload["red_flags"] = found.red_flags
    if observations:
        payload["observations"] = observations
    if found.disposition:
        payload["pathways_disposition"] = found.disposition
    notes = notes_text(found.notes)
    if notes:
        payload["notes"] = notes


def _encounter(mb: MessageBundle, sr: Entry) -> Entry | None:
    linked = mb.resolve(sr.resource.encounter)
    if linked is not None and linked.type == "Encounter":
        return linked
    encounters = mb.of_type("Encounter")
    return encounters[0] if encounters else None


def _source(mb: MessageBundle, sr: Entry) -> str:
    use_cases = [str(d.code).lower() for cat in sr.resource.category or ()
                 for d in cat.coding or () if d.system == c.USE_CASE_SYSTEM and d.code]
    if c.USE_CASE_999_TO_COMMUNITY in use_cases:
        return c.SOURCE_999
    source = mb.header.resource.source
    words = " ".join(filter(None, [source.name, source.endpoint])) if source is not None else ""
    if _WORD_999.search(words):
        return c.SOURCE_999
    encounter = _encounter(mb, sr)
    klass = encounter.resource.class_fhir if encounter is not None else None
    if klass is not None and (klass.system, klass.code) == (c.ENCOUNTER_CLASS_SYSTEM,
                                                            c.ENCOUNTER_CLASS_EMERGENCY):
        return c.SOURCE_999
    return c.SOURCE_111


def _aware(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) and value.utcoffset() is not None else None


def _received_at(
    mb: MessageBundle, sr: Entry, issues: list[Issue], origins: dict[str, str]
) -> datetime | None:
    encounter = _encounter(mb, sr)
    period = encounter.resource.period if encounter is not None else None
    start = _aware(period.start) if period is not None else None
    if start is not None and encounter is not None:
        origins["received_at"] = f"{encounter.path}.period.start"
        return start
    stamp = _aware(mb.bundle.timestamp)
    if stamp is not None:
        origins["received_at"] = "Bundle.timestamp"
        return stamp
    issues.append(Issue("required", "say when the call was received: Encounter.period.start or "
                        "Bundle.timestamp (a date-time with a zone)", "Bundle.timestamp"))
    return None


def _occurrence_end(
    sr: Any, path: str, received: datetime | None, issues: list[Issue]
) -> datetime | None:
    period = sr.occurrencePeriod
    if period is None or period.end is None:
        return None
    end = _aware(period.end)
    where = f"{path}.occurrencePeriod.end"
    if end is None:
        issues.append(Issue("invalid", "occurrencePeriod.end needs a time and a zone", where))
    elif received is not None and end <= received:
        issues.append(Issue("invalid", f"occurrencePeriod.end ({end.isoformat()}) must be after "
                            f"the call was received ({received.isoformat()})", where))
    return end
