"""The code systems and code lists FHIR intake relies on, with the mapping tables to our terms.

National systems (NHS England BaRS and UK Core, LOINC, SNOMED CT) are named by their
canonical URLs. Where no national code exists for one of our own terms (presenting needs,
red flags, a few observation flags) we use a **local** code system under
``LOCAL_SYSTEM_BASE``: these URLs are ours, not national, and their codes are exactly the
codes of ``triage`` (``triage.NEEDS``, ``triage.RED_FLAGS``, ``triage.CONSCIOUSNESS_LEVELS``)
so there is one vocabulary, not two.

Every table here is read by ``dispatch.fhir.referral_map``; a code in one of *our* systems
that is not in its table is refused (422, ``code-invalid``) because silently dropping a need
or a red flag would under-triage the patient. Codes from national systems we do not map
(most Pathways symptom groups, unknown Observation codes) are carried as notes instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# --- National systems -----------------------------------------------------------------
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
MESSAGE_EVENTS_SYSTEM = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
EVENT_REFERRAL_REQUEST = "servicerequest-request"
MESSAGE_REASON_SYSTEM = "https://fhir.nhs.uk/CodeSystem/message-reason-bars"
REASON_NEW = "new"
REASON_UPDATE = "update"
MESSAGE_REASONS = (REASON_NEW, REASON_UPDATE)
SERVICE_REQUEST_CATEGORY_SYSTEM = "https://fhir.nhs.uk/CodeSystem/message-category-servicerequest"
CATEGORY_REFERRAL = "referral"
USE_CASE_SYSTEM = "https://fhir.nhs.uk/CodeSystem/usecases-categories-bars"
# BaRS use case A4T3: "999 to community services (2-hour urgent community response)".
USE_CASE_999_TO_COMMUNITY = "a4t3"
PATHWAYS_DX_SYSTEM = "https://fhir.nhs.uk/CodeSystem/pathways-dx-codes"
PATHWAYS_SG_SYSTEM = "https://fhir.nhs.uk/CodeSystem/pathways-sg-codes"
PATHWAYS_SD_SYSTEM = "https://fhir.nhs.uk/CodeSystem/pathways-sd-codes"
FLAG_CATEGORY_SYSTEM = "https://fhir.nhs.uk/CodeSystem/flag-categories-bars"
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_SCOPE_PRIVACY = "patient-privacy"
CONSENT_CATEGORY_SYSTEM = "https://fhir.nhs.uk/CodeSystem/consent-categories-bars"
CONSENT_CATEGORY_DIRECT_CARE = "DRC"
ENCOUNTER_CLASS_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ENCOUNTER_CLASS_EMERGENCY = "EMER"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"

# ServiceRequest statuses we act on: a new referral, or a withdrawal of an earlier one.
SR_ACTIVE = "active"
SR_CANCELLING = ("revoked", "entered-in-error")
SR_INTENTS = ("plan", "order")

# --- Local systems (ours; see the module docstring) ---------------------------------------
LOCAL_SYSTEM_BASE = "https://dispatch.example.nhs.uk"
NEEDS_SYSTEM = f"{LOCAL_SYSTEM_BASE}/CodeSystem/needs"
RED_FLAGS_SYSTEM = f"{LOCAL_SYSTEM_BASE}/CodeSystem/red-flags"
OBSERVATIONS_SYSTEM = f"{LOCAL_SYSTEM_BASE}/CodeSystem/observations"
CONSCIOUSNESS_SYSTEM = f"{LOCAL_SYSTEM_BASE}/CodeSystem/consciousness"
CATEGORY_SYSTEM = f"{LOCAL_SYSTEM_BASE}/CodeSystem/disposition-category"
VISIT_OUTCOME_SYSTEM = f"{LOCAL_SYSTEM_BASE}/CodeSystem/visit-outcome"
NETWORK_ID_SYSTEM = f"{LOCAL_SYSTEM_BASE}/Id/network"
TASK_ID_SYSTEM = f"{LOCAL_SYSTEM_BASE}/Id/referral"
SERVICE_ENDPOINT = f"{LOCAL_SYSTEM_BASE}/fhir"
# A hospital discharge for follow-up at home (issue 16): a ServiceRequest.category coding.
# Local: BaRS has no discharge-to-community use case code yet.
REFERRAL_TYPE_SYSTEM = f"{LOCAL_SYSTEM_BASE}/CodeSystem/referral-type"
# Care at home a discharge asks for: a CarePlan activity's detail.code in the service's tariff
# (dispatch/services/tariffs.py codes), how often by detail.scheduledTiming.
CARE_TARIFF_SYSTEM = f"{LOCAL_SYSTEM_BASE}/CodeSystem/care-tariff"
REFERRAL_TYPE_DISCHARGE = "hospital-discharge"

# --- Observations -> triage observation keys -------------------------------------------
# (system, code) -> the ``observations`` key of the triage input (DESIGN.md).
OBSERVATION_CODES: Mapping[tuple[str, str], str] = MappingProxyType({
    (LOINC, "9279-1"): "respiration_rate",  # Respiratory rate
    (LOINC, "59408-5"): "spo2",  # SpO2 by pulse oximetry
    (LOINC, "2708-6"): "spo2",  # Oxygen saturation in arterial blood
    (LOINC, "8480-6"): "systolic_bp",  # Systolic blood pressure (alone or a BP component)
    (LOINC, "8867-4"): "pulse",  # Heart rate
    (LOINC, "8310-5"): "temperature",  # Body temperature
    (SNOMED, "1104441000000107"): "consciousness",  # ACVPU scale score (UK Core / NEWS2)
    (LOINC, "3151-8"): "on_oxygen",  # Inhaled oxygen flow rate: > 0 means on oxygen
    (LOINC, "3150-0"): "on_oxygen",  # Inhaled oxygen concentration: > 21 % means on oxygen
    (OBSERVATIONS_SYSTEM, "on-oxygen"): "on_oxygen",  # valueBoolean
    (OBSERVATIONS_SYSTEM, "spo2-scale"): "spo2_scale",  # valueInteger 1 or 2
    (OBSERVATIONS_SYSTEM, "consciousness"): "consciousness",  # valueCodeableConcept
})
OXYGEN_FLOW_CODE = "3151-8"
ROOM_AIR_FIO2_PERCENT = 21.0
CELSIUS_UNITS = frozenset({"Cel", "°C", "C", "degC"})

# ACVPU values (CareConnect / UK Core ACVPU value set) -> triage consciousness levels.
ACVPU_SNOMED: Mapping[str, str] = MappingProxyType({
    "248234008": "alert",  # Mentally alert
    "130987000": "new_confusion",  # Acute confusion
    "300202002": "voice",  # Responds to voice
    "450847001": "pain",  # Responds to pain
    "422768004": "unresponsive",  # Unresponsive
})

# --- Pathways symptom groups / discriminators -> needs ----------------------------------
# ILLUSTRATIVE: a handful of entries so the mechanism is exercised by tests and the demo.
# The code numbers have NOT been checked against an NHS Pathways release; the clinical
# safety officer must confirm or replace them before go-live. Unmapped SG/SD codes are never
# refused: they are copied into the referral notes for the clinician to read.
PATHWAYS_NEEDS: Mapping[tuple[str, str], str] = MappingProxyType({
    (PATHWAYS_SG_SYSTEM, "SG1035"): "fall_no_injury",  # illustrative: "Falls"
    (PATHWAYS_SD_SYSTEM, "SD4304"): "sudden_confusion",  # illustrative: "New confusion"
    (PATHWAYS_SD_SYSTEM, "SD4157"): "urgent_catheter",  # illustrative: "Blocked catheter"
    (PATHWAYS_SD_SYSTEM, "SD4326"): "urgent_diabetes",  # illustrative: "Blood glucose high"
    (PATHWAYS_SD_SYSTEM, "SD4540"): "carer_breakdown",  # illustrative: "Carer unable to cope"
})

# --- Flags -> note prefixes --------------------------------------------------------------
FLAG_CATEGORY_LABELS: Mapping[str, str] = MappingProxyType({
    "SG": "Safeguarding concern",
    "RA": "Reasonable adjustment",
    "SS": "Scene safety",
    "IR": "Infection risk",
    "RS": "Rejected services",
    "RC": "Repeat caller",
})
DEFAULT_FLAG_LABEL = "Flag"

# --- Source of the referral ---------------------------------------------------------------
SOURCE_999 = "999"
SOURCE_111 = "111"
