"""Reading a BaRS message Bundle: JSON, then fhir.resources (R4B) models, then references.

Problems that stop us reading the message at all (not JSON, not a Bundle, not a message)
raise :class:`BundleUnreadable` (400); a readable Bundle whose elements break FHIR's own
rules raises :class:`BundleInvalid` (422) with one issue per element, each with its path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pydantic
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource

from dispatch.fhir.errors import BundleInvalid, BundleUnreadable
from dispatch.fhir.outcome import pydantic_path
from dispatch.fhir.types import Issue

MESSAGE_TYPE = "message"
# pydantic reports every bad element; more than this many is noise, not help.
MAX_ISSUES = 25


@dataclass(frozen=True)
class Entry:
    """One entry of the Bundle, with the FHIRPath of its resource for error messages."""

    index: int
    full_url: str | None
    resource: Any

    @property
    def path(self) -> str:
        return f"Bundle.entry[{self.index}].resource"

    @property
    def type(self) -> str:
        return str(self.resource.get_resource_type())


@dataclass(frozen=True)
class MessageBundle:
    """A parsed message Bundle; the MessageHeader is its first entry."""

    bundle: Bundle
    entries: tuple[Entry, ...]

    @property
    def header(self) -> Entry:
        return self.entries[0]

    def of_type(self, resource_type: str) -> list[Entry]:
        return [e for e in self.entries if e.type == resource_type]

    def resolve(self, reference: Any) -> Entry | None:
        """The entry ``reference`` points at (by fullUrl or ``Type/id``), if in the Bundle."""
        ref = getattr(reference, "reference", None) if reference is not None else None
        if not ref:
            return None
        for entry in self.entries:
            if entry.full_url and (entry.full_url == ref or entry.full_url.endswith(f"/{ref}")):
                return entry
            if entry.resource.id and ref == f"{entry.type}/{entry.resource.id}":
                return entry
        return None


def read_bundle(body: bytes | str) -> MessageBundle:
    """Parse ``body`` as a FHIR R4 message Bundle.

    Raises
    ------
    BundleUnreadable
        Not JSON, not a Bundle, or ``Bundle.type`` is not ``message``.
    BundleInvalid
        An entry without a known resource, an element FHIR R4 does not allow, or a first
        entry that is not a MessageHeader.
    """
    data = _json(body)
    _check_envelope(data)
    _check_entries(data["entry"])
    try:
        bundle = Bundle.model_validate(data)
    except pydantic.ValidationError as exc:
        raise BundleInvalid(_validation_issues(exc)) from exc
    except (KeyError, ValueError, TypeError) as exc:  # fhir.resources' own lookups
        raise BundleInvalid([Issue("structure", f"the Bundle could not be read as FHIR R4: {exc}",
                                   "Bundle")]) from exc
    entries = tuple(Entry(i, e.fullUrl, e.resource) for i, e in enumerate(bundle.entry or ()))
    if entries[0].type != "MessageHeader":
        raise BundleInvalid([Issue("structure", "the first entry of a message Bundle must be its "
                                   f"MessageHeader, found {entries[0].type}", entries[0].path)])
    return MessageBundle(bundle, entries)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _json(body: bytes | str) -> Any:
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleUnreadable([Issue("structure", f"the request body is not JSON: {exc}",
                                      "Bundle")]) from exc


def _check_envelope(data: Any) -> None:
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        found = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        raise BundleUnreadable([Issue("structure", "send a FHIR Bundle (resourceType 'Bundle'); "
                                      f"got {found!r}", "Bundle.resourceType")])
    if data.get("type") != MESSAGE_TYPE:
        got = data.get("type")
        raise BundleUnreadable([Issue("invalid", "Bundle.type must be 'message' for "
                                      f"$process-message; got {got!r}", "Bundle.type")])
    entries = data.get("entry")
    if not isinstance(entries, list) or not entries:
        raise BundleInvalid([Issue("required", "a message Bundle needs entries, starting with "
                                   "its MessageHeader", "Bundle.entry")])


def _check_entries(entries: list[Any]) -> None:
    """Every entry holds a resource of a known type (fhir.resources fails obscurely otherwise)."""
    issues = []
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        path = f"Bundle.entry[{i}].resource"
        if not isinstance(resource, dict):
            issues.append(Issue("required", "each entry needs a resource", path))
            continue
        name = resource.get("resourceType")
        if not isinstance(name, str) or not _is_resource_type(name):
            issues.append(Issue("code-invalid", f"{name!r} is not a FHIR R4 resource type",
                                f"{path}.resourceType"))
    if issues:
        raise BundleInvalid(issues)


def _is_resource_type(name: str) -> bool:
    try:
        model = get_fhir_model_class(name)
    except (KeyError, ValueError):
        return False
    return isinstance(model, type) and issubclass(model, Resource)


def _validation_issues(exc: pydantic.ValidationError) -> list[Issue]:
    issues = []
    for error in exc.errors()[:MAX_ISSUES]:
        code = "required" if "missing" in error["type"] else "invalid"
        message = " ".join(str(error["msg"]).split())
        issues.append(Issue(code, message, pydantic_path(error["loc"])))
    return issues

