"""OperationOutcome resources: the one way FHIR callers hear what went wrong."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dispatch.fhir.types import Issue

# Service field errors (``dispatch.errors.InvalidInput``) are "invalid" unless they say this.
_REQUIRED = "required"


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    """An OperationOutcome listing ``issues`` in order."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [_issue(i) for i in issues],
    }


def _issue(issue: Issue) -> dict[str, Any]:
    body: dict[str, Any] = {
        "severity": issue.severity,
        "code": issue.code,
        "diagnostics": issue.diagnostics,
    }
    if issue.expression:
        body["expression"] = [issue.expression]
    return body


def pydantic_path(loc: Sequence[Any], root: str = "Bundle") -> str:
    """``('entry', 0, 'resource', 'birthDate')`` -> ``Bundle.entry[0].resource.birthDate``."""
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "resource_type":
            path += ".resourceType"
        else:
            path += f".{part}"
    return path


def issues_from_field_errors(
    errors: Mapping[str, Any], origins: Mapping[str, str], prefix: str = ""
) -> list[Issue]:
    """Issues from ``{field: [reasons]}`` (nested dicts allowed), placed by ``origins``.

    A field with no origin of its own takes the nearest parent's (``patient.postcode`` ->
    ``patient``), and finally the Bundle itself.
    """
    issues: list[Issue] = []
    for key, value in errors.items():
        name = f"{prefix}{key}" if key != "_schema" else prefix.rstrip(".")
        if isinstance(value, Mapping):
            issues.extend(issues_from_field_errors(value, origins, f"{name}."))
            continue
        reasons = value if isinstance(value, list | tuple) else [value]
        for reason in reasons:
            text = str(reason)
            code = "required" if _REQUIRED in text else "invalid"
            label = name or "referral"
            issues.append(Issue(code, f"{label}: {text}", origin_of(name, origins)))
    return issues


def origin_of(name: str, origins: Mapping[str, str]) -> str:
    """The FHIRPath recorded for ``name`` or its nearest dotted parent; ``Bundle`` if none."""
    parts = name.split(".") if name else []
    while parts:
        found = origins.get(".".join(parts))
        if found:
            return found
        parts.pop()
    return "Bundle"
