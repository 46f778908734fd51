"""FHIR R4 (BaRS-style) referral intake: message Bundles in, Tasks and OperationOutcomes out.

Modules: ``bundle`` (JSON -> fhir.resources R4B models, references), ``referral_map`` with
``people``, ``clinical`` and ``observations`` (resources -> the DESIGN.md referral payload),
``codes`` (every code list and mapping table), ``task`` (Task status mapping and the response
Bundle), ``outcome`` (OperationOutcome), ``intake`` (the services the view calls).
"""

from dispatch.fhir.errors import (
    BundleInvalid,
    BundleUnreadable,
    FhirError,
    MessageConflict,
    TaskNotFound,
)
from dispatch.fhir.intake import (
    IntakeResult,
    cancel_referral,
    facts_for,
    process_message,
    read_task,
    tighten_deadline,
)
from dispatch.fhir.task import response_bundle, task_resource, task_status

__all__ = [
    "BundleInvalid",
    "BundleUnreadable",
    "FhirError",
    "IntakeResult",
    "MessageConflict",
    "TaskNotFound",
    "cancel_referral",
    "facts_for",
    "process_message",
    "read_task",
    "response_bundle",
    "task_resource",
    "task_status",
    "tighten_deadline",
]
