"""Read, check and render the hazard log (``hazard-log.yaml`` -> ``hazard-log.md``).

Run ``python docs/safety/hazard_log.py`` after editing the YAML; ``tests/safety`` fails when the
page is stale, when a control names a test that does not exist, or when a test marked
``@pytest.mark.safety("H-xxx")`` is not named under that hazard.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LOG = HERE / "hazard-log.yaml"
PAGE = HERE / "hazard-log.md"

LIKELIHOODS = ("very_low", "low", "medium", "high", "very_high")
SEVERITIES = ("minor", "significant", "considerable", "major", "catastrophic")
# DCB0129 risk matrix: rows by likelihood (very low .. very high), columns by severity
# (minor .. catastrophic); 1 acceptable .. 5 unacceptable.
MATRIX = (
    (1, 1, 2, 2, 3),
    (1, 2, 2, 3, 4),
    (2, 2, 3, 3, 4),
    (2, 3, 3, 4, 5),
    (3, 4, 4, 5, 5),
)
STATUSES = ("implemented", "planned")
REQUIRED = ("id", "title", "hazard", "cause", "effect", "source", "initial", "controls", "residual")


def risk(rating: dict[str, str]) -> int:
    """The matrix's risk rating (1-5) for a likelihood and severity."""
    return MATRIX[LIKELIHOODS.index(rating["likelihood"])][SEVERITIES.index(rating["severity"])]


def load(path: Path = LOG) -> list[dict[str, Any]]:
    """The hazards, checked for shape (raises ValueError naming the hazard and the field)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    hazards: list[dict[str, Any]] = data["hazards"]
    seen: set[str] = set()
    for hazard in hazards:
        for field in REQUIRED:
            if field not in hazard:
                raise ValueError(f"{hazard.get('id', '?')}: missing {field}")
        if hazard["id"] in seen:
            raise ValueError(f"{hazard['id']}: duplicate id")
        seen.add(hazard["id"])
        for key in ("initial", "residual"):
            rating = hazard[key]
            if (
                rating.get("likelihood") not in LIKELIHOODS
                or rating.get("severity") not in SEVERITIES
            ):
                raise ValueError(f"{hazard['id']}: {key} needs a likelihood and a severity")
        for control in hazard["controls"]:
            if control.get("status") not in STATUSES:
                raise ValueError(f"{control.get('id')}: status must be one of {STATUSES}")
            if control["status"] == "implemented" and not control.get("tests"):
                raise ValueError(f"{control['id']}: an implemented control names its tests")
    return hazards


def _safety_ids(decorators: list[ast.expr]) -> tuple[str, ...]:
    ids: list[str] = []
    for dec in decorators:
        call = dec if isinstance(dec, ast.Call) else None
        target = call.func if call else dec
        if isinstance(target, ast.Attribute) and target.attr == "safety":
            for arg in call.args if call else []:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    ids.append(arg.value)
            if not call or not call.args:
                ids.append("")
    return tuple(ids)


def _module_marks(tree: ast.Module) -> tuple[str, ...]:
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets
        ):
            value = stmt.value
            values = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
            return _safety_ids(list(values))
    return ()


def collect_tests(root: Path = ROOT) -> dict[str, tuple[str, ...]]:
    """Every test function under tests/ -> the hazard ids it is marked with (maybe none)."""
    nodes: dict[str, tuple[str, ...]] = {}
    for path in sorted((root / "tests").rglob("test_*.py")):
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_ids = _module_marks(tree)
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name.startswith(
                "test"
            ):
                nodes[f"{rel}::{stmt.name}"] = module_ids + _safety_ids(stmt.decorator_list)
            elif isinstance(stmt, ast.ClassDef) and stmt.name.startswith("Test"):
                class_ids = module_ids + _safety_ids(stmt.decorator_list)
                for sub in stmt.body:
                    if isinstance(sub, ast.FunctionDef) and sub.name.startswith("test"):
                        nodes[f"{rel}::{stmt.name}::{sub.name}"] = class_ids + _safety_ids(
                            sub.decorator_list
                        )
    return nodes


def named_tests(hazard: dict[str, Any]) -> set[str]:
    """The tests a hazard's controls name (parametrised ids stripped)."""
    return {t.split("[")[0] for c in hazard["controls"] for t in c.get("tests") or []}


def problems(root: Path = ROOT, hazards: list[dict[str, Any]] | None = None) -> list[str]:
    """Everything wrong between the log and the test suite, in words (empty when consistent)."""
    hazards = load() if hazards is None else hazards
    nodes = collect_tests(root)
    found: list[str] = []
    for hazard in hazards:
        for test in sorted(named_tests(hazard)):
            if test not in nodes:
                found.append(f"{hazard['id']} names {test}, which does not exist")
    by_id = {h["id"]: named_tests(h) for h in hazards}
    for node, ids in sorted(nodes.items()):
        for hazard_id in ids:
            if hazard_id not in by_id:
                found.append(f"{node} is marked safety({hazard_id!r}), which is not in the log")
            elif node not in by_id[hazard_id]:
                found.append(f"{node} is marked safety({hazard_id!r}) but the log does not name it")
    return found


def _label(value: str) -> str:
    return value.replace("_", " ")


def render(hazards: list[dict[str, Any]]) -> str:
    """The hazard log as a Markdown page."""
    out = [
        "# Hazard log",
        "",
        "Rendered from `hazard-log.yaml` by `python docs/safety/hazard_log.py`;"
        " do not edit by hand.",
        "Risk is the DCB0129 matrix rating (1 acceptable .. 5 unacceptable; see the plan).",
        "",
        "| id | hazard | initial risk | controls | residual risk |",
        "| --- | --- | --- | --- | --- |",
    ]
    for h in hazards:
        done = sum(c["status"] == "implemented" for c in h["controls"])
        out.append(
            f"| {h['id']} | {h['title']} | {risk(h['initial'])} | {done}/{len(h['controls'])}"
            f" implemented | {risk(h['residual'])} |"
        )
    for h in hazards:
        out += [
            "",
            f"## {h['id']} {h['title']}",
            "",
            f"- **Hazard:** {h['hazard']}",
            f"- **Cause:** {h['cause']}",
            f"- **Effect on the patient:** {h['effect']}",
            f"- **Source:** {h['source']}",
            f"- **Initial risk:** {risk(h['initial'])} ({_label(h['initial']['likelihood'])}"
            f" likelihood, {_label(h['initial']['severity'])} severity)",
            f"- **Residual risk:** {risk(h['residual'])} ({_label(h['residual']['likelihood'])}"
            f" likelihood, {_label(h['residual']['severity'])} severity)",
            "",
            "Controls:",
            "",
        ]
        for c in h["controls"]:
            out.append(f"- **{c['id']}** ({c['status']}): {' '.join(c['description'].split())}")
            for test in c.get("tests") or []:
                out.append(f"  - `{test}`")
    return "\n".join(out) + "\n"


def main() -> int:
    page = render(load())
    if "--check" in sys.argv:
        return 0 if PAGE.exists() and PAGE.read_text(encoding="utf-8") == page else 1
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
