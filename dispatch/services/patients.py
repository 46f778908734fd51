"""Finding, matching and creating patients (care-plan reads: ``care_plan_access``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from geopy.location import Location
from sqlalchemy import orm as so

from dispatch.database import settings_of
from dispatch.errors import InvalidInput, NotFound
from dispatch.models import Network, Patient, StaffBase
from dispatch.nhs_numbers import InvalidNhsNumber, normalise_nhs_number
from routing.geocoding import OfflinePostcodeGeocoder, locate_postcode, make_geocoder, outward_code
from routing.travel import great_circle_metres
from routing.travel_errors import GeocoderUnavailableError, UnknownLocationError

log = logging.getLogger(__name__)

REQUIRED_FOR_NEW = ("given_name", "family_name", "date_of_birth", "address", "postcode")


def normalise_postcode(raw: str) -> str:
    """Upper-case, single-spaced postcode ("w12 7rq" -> "W12 7RQ")."""
    compact = "".join(raw.split()).upper()
    if len(compact) > 4:
        return f"{compact[:-3]} {compact[-3:]}"
    return compact


def get_patient(session: so.Session, patient_id: int) -> Patient:
    """:raise NotFound: no such patient."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"patient {patient_id} not found")
    return patient


def find_patients(
    session: so.Session,
    *,
    nhs_number: str | None = None,
    family_name: str | None = None,
    date_of_birth: date | None = None,
    postcode: str | None = None,
    limit: int = 20,
) -> list[Patient]:
    """Search by NHS number, or by any of family name, date of birth and postcode.

    Raises
    ------
    InvalidInput
        A malformed NHS number, or no search term at all (we never list the whole register).
    """
    stmt = sa.select(Patient)
    if nhs_number:
        try:
            stmt = stmt.where(Patient.nhs_number == normalise_nhs_number(nhs_number))
        except InvalidNhsNumber as exc:
            raise InvalidInput("invalid search", errors={"nhs_number": [str(exc)]}) from exc
    elif family_name or date_of_birth or postcode:
        if family_name:
            stmt = stmt.where(sa.func.lower(Patient.family_name) == family_name.strip().lower())
        if date_of_birth:
            stmt = stmt.where(Patient.date_of_birth == date_of_birth)
        if postcode:
            stmt = stmt.where(Patient.postcode == normalise_postcode(postcode))
    else:
        raise InvalidInput(
            "give an NHS number, or a family name, date of birth or postcode",
            errors={"nhs_number": ["or family_name, date_of_birth, postcode"]},
        )
    return list(session.scalars(stmt.order_by(Patient.family_name, Patient.id).limit(limit)))


@dataclass(frozen=True)
class PatientMatch:
    patient: Patient
    created: bool
    matched_by: str  # "id", "nhs_number", "demographics" or "created"


def match_or_create(
    session: so.Session, *, patient_id: int | None, details: dict[str, Any] | None, now: datetime
) -> PatientMatch:
    """The referral's patient: by id, by NHS number, by name + date of birth + postcode, or new.

    Raises
    ------
    InvalidInput
        Unknown id, invalid NHS number, or too few details to create a patient.
    """
    if patient_id is not None:
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise InvalidInput("unknown patient", errors={"patient_id": ["no such patient"]})
        return PatientMatch(patient, False, "id")
    details = details or {}
    nhs = details.get("nhs_number")
    if nhs:
        try:
            nhs = normalise_nhs_number(nhs)
        except InvalidNhsNumber as exc:
            raise InvalidInput(
                "invalid patient", errors={"patient.nhs_number": [str(exc)]}
            ) from exc
        found = session.scalar(sa.select(Patient).where(Patient.nhs_number == nhs))
        if found is not None:
            return PatientMatch(found, False, "nhs_number")
    found = _by_demographics(session, details) if not nhs else None
    if found is not None:
        return PatientMatch(found, False, "demographics")
    return PatientMatch(_create(session, details, nhs, now), True, "created")


def _by_demographics(session: so.Session, details: dict[str, Any]) -> Patient | None:
    if not all(details.get(k) for k in ("family_name", "date_of_birth", "postcode")):
        return None
    stmt = sa.select(Patient).where(
        sa.func.lower(Patient.family_name) == str(details["family_name"]).strip().lower(),
        Patient.date_of_birth == details["date_of_birth"],
        Patient.postcode == normalise_postcode(str(details["postcode"])),
    )
    matches = list(session.scalars(stmt.limit(2)))
    given = str(details.get("given_name") or "").strip().lower()
    if given:
        matches = [p for p in matches if p.given_name.lower() == given]
    # Two people with the same name, birthday and postcode: too ambiguous to pick one.
    return matches[0] if len(matches) == 1 else None


def _create(
    session: so.Session, details: dict[str, Any], nhs: str | None, now: datetime
) -> Patient:
    missing = [k for k in REQUIRED_FOR_NEW if not details.get(k)]
    errors = {f"patient.{k}": ["required to register a new patient"] for k in missing}
    if not nhs:
        errors["patient.nhs_number"] = ["required to register a new patient"]
    if errors:
        raise InvalidInput("the patient is not on the register; more details needed", errors=errors)
    postcode = normalise_postcode(str(details["postcode"]))
    lat, lon = postcode_location(session, postcode)
    patient = Patient(
        nhs_number=nhs,
        given_name=details["given_name"],
        family_name=details["family_name"],
        date_of_birth=details["date_of_birth"],
        address=details["address"],
        postcode=postcode,
        phone=details.get("phone"),
        lat=lat,
        lon=lon,
        network_id=_nearest_network(session, lat, lon),
        risk_tier="very_low",
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(patient)
            session.flush()
    except sa.exc.IntegrityError:
        # A concurrent request registered this NHS number first (PostgreSQL made us wait
        # for its commit): use that row rather than fail the referral with a 500.
        existing = session.scalar(sa.select(Patient).where(Patient.nhs_number == nhs))
        if existing is None:
            raise
        return existing
    return patient


def postcode_location(session: so.Session, postcode: str) -> tuple[float | None, float | None]:
    """Where a new patient lives, for planning: ``(lat, lon)``, or ``(None, None)``.

    With a Nominatim server configured (``DISPATCH_NOMINATIM_URL``, read from the session's
    settings) the postcode is geocoded there; without one, or when Nominatim fails or does not
    know the postcode, the offline postcode-district table gives the district's centre, so a
    referral is never refused because a geocoder is down.
    """
    nominatim_url = settings_of(session).get("NOMINATIM_URL")
    if nominatim_url:
        try:
            return locate_postcode(make_geocoder(str(nominatim_url)), postcode)
        except (UnknownLocationError, GeocoderUnavailableError) as error:
            # The district only: a full postcode with a referral identifies a patient.
            log.warning("Nominatim could not place a postcode in %s (%s); using the district "
                        "centre", postcode_district(postcode), type(error).__name__)
    location = OfflinePostcodeGeocoder().geocode(postcode, exactly_one=True)
    if isinstance(location, Location):
        return location.latitude, location.longitude
    return None, None


def _nearest_network(session: so.Session, lat: float | None, lon: float | None) -> int | None:
    """The network of the nearest base: who would send someone to this address."""
    if lat is None or lon is None:
        return None
    bases = session.execute(
        sa.select(StaffBase.network_id, StaffBase.lat, StaffBase.lon).join(
            Network, Network.id == StaffBase.network_id
        )
    ).all()
    if not bases:
        return None
    distances = great_circle_metres([(lat, lon)], [(b.lat, b.lon) for b in bases])[0]
    return int(bases[int(distances.argmin())].network_id)


def postcode_district(postcode: str) -> str:
    """The outward code ("W12") shown in SMS instead of the address."""
    return outward_code(postcode) or postcode.split()[0]
