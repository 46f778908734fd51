"""Finding, matching and creating patients (care-plan reads: ``care_plan_access``)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from geopy.location import Location
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.database import settings_of
from dispatch.errors import InvalidInput, NotFound
from dispatch.models import Network, Patient, StaffBase
from dispatch.nhs_numbers import InvalidNhsNumber, normalise_nhs_number
from dispatch.services import audit
from dispatch.services.referral_commands import PatientDetails
from dispatch.services.text import storable
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
    name: str | None = None,
    limit: int = 20,
) -> list[Patient]:
    """Search by NHS number, or by any of family name (or ``name``), date of birth and
    postcode.

    Family name and date of birth alone find a patient whose postcode the caller does not
    know (or who has moved). ``name`` is what a caller says: a family name alone ("Bloggs") or
    given name(s) then family name ("Joe Bloggs", "Mary Ann van der Berg"); see
    :func:`name_matches`.

    Raises
    ------
    InvalidInput
        A malformed NHS number, or no search term at all (we never list the whole register).
    """
    bad = {name: [problem] for name, value in
           (("nhs_number", nhs_number), ("family_name", family_name), ("name", name),
            ("postcode", postcode))
           if value and (problem := storable(value))}
    if bad:
        raise InvalidInput("invalid search", errors=bad)
    stmt = sa.select(Patient)
    if nhs_number:
        try:
            stmt = stmt.where(Patient.nhs_number == normalise_nhs_number(nhs_number))
        except InvalidNhsNumber as exc:
            raise InvalidInput("invalid search", errors={"nhs_number": [str(exc)]}) from exc
    elif family_name or date_of_birth or postcode or name:
        if family_name:
            family = " ".join(family_name.split()).lower()
            stmt = stmt.where(sa.func.lower(Patient.family_name) == family)
        if name:
            stmt = stmt.where(name_matches(name))
        if date_of_birth:
            stmt = stmt.where(Patient.date_of_birth == date_of_birth)
        if postcode:
            stmt = stmt.where(Patient.postcode == normalise_postcode(postcode))
    else:
        raise InvalidInput(
            "give an NHS number, or a name, date of birth or postcode",
            errors={"nhs_number": ["or name, family_name, date_of_birth, postcode"]},
        )
    return list(session.scalars(stmt.order_by(Patient.family_name, Patient.id).limit(limit)))


def name_matches(name: str) -> sa.ColumnElement[bool]:
    """Patients a spoken name could be: the whole of it as the family name, or its first
    words as the given name(s) (whole words, so "Jo" is not "Joe") and the rest as the family
    name. Case and extra spaces do not matter."""
    words = name.lower().split()
    given, family = sa.func.lower(Patient.given_name), sa.func.lower(Patient.family_name)
    options = [family == " ".join(words)]
    for split in range(1, len(words)):
        first, rest = " ".join(words[:split]), " ".join(words[split:])
        options.append(sa.and_(family == rest, sa.or_(given == first, given.like(
            first.replace("%", "").replace("_", "") + " %"))))
    return sa.or_(*options)


def view_patient(
    session: so.Session, patient_id: int, *, actor: Actor, now: datetime, purpose: str,
    request_id: str | None = None,
) -> Patient:
    """One patient, the look-up audited (``view_patient``). :raise NotFound: no such patient."""
    patient = get_patient(session, patient_id)
    audit.record(session, actor=actor, action="view_patient", now=now, patient_id=patient.id,
                 entity=("patient", patient.id), purpose=purpose, request_id=request_id)
    return patient


def search_patients(
    session: so.Session, *, query: dict[str, Any], actor: Actor, now: datetime,
    purpose: str, request_id: str | None = None,
) -> list[Patient]:
    """:func:`find_patients` with ``query``'s terms; each patient found is audited as seen
    (which terms found them, never their values).

    :raise InvalidInput: as :func:`find_patients`.
    """
    found = find_patients(session, **query)
    for patient in found:
        audit.record(session, actor=actor, action="search_patient", now=now,
                     patient_id=patient.id, entity=("patient", patient.id), purpose=purpose,
                     request_id=request_id, details={"terms": sorted(query)})
    return found


def register_patient(
    session: so.Session, details: PatientDetails, nhs: str | None, now: datetime
) -> Patient:
    """Register a patient; without an NHS number they are flagged for tracing (``not_known``).

    Raises
    ------
    InvalidInput
        Naming each detail missing to register someone.
    """
    given = details.given()
    missing = [k for k in REQUIRED_FOR_NEW if not given.get(k)]
    errors = {f"patient.{k}": ["required to register a new patient"] for k in missing}
    if errors:
        raise InvalidInput("the patient is not on the register; more details needed", errors=errors)
    postcode = normalise_postcode(str(details.postcode))
    lat, lon = postcode_location(session, postcode)
    patient = Patient(
        nhs_number=nhs,
        nhs_number_status="present" if nhs else "not_known",
        given_name=details.given_name,
        family_name=details.family_name,
        date_of_birth=details.date_of_birth,
        address=details.address,
        postcode=postcode,
        phone=details.phone or None,
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
        existing = (session.scalar(sa.select(Patient).where(Patient.nhs_number == nhs))
                    if nhs else None)
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
