"""The layers at run time: each module imports on its own, and the lower layers load no web code.

``pyproject.toml``'s import-linter contracts check the imports as written (``lint-imports`` in
``./dev.sh test``); these tests check what Python actually loads. Each module is imported
first, in a fresh process, so an import cycle that only breaks when one side is imported first
(``import routing.osrm`` raised ImportError before the travel/osrm split) fails here.

To keep this fast, one fresh interpreter per group preloads the third-party libraries the group
may use (never Flask) and forks a child per module; each child imports its module first among
ours and reports which watched modules ended up in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="the probe forks")

PROBE = r"""
import importlib, json, os, sys
preload, modules, watched = json.loads(sys.argv[1])
for name in preload:
    importlib.import_module(name)
leaked = sorted(w for w in watched if w in sys.modules)
if leaked:  # reported like a module, so the test's message says what went wrong
    print(json.dumps({"(preloading) " + ", ".join(preload): {"error": None, "loaded": leaked}}))
    sys.exit(0)
results = {}
for name in modules:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(name)
            out = {"error": None, "loaded": sorted(w for w in watched if w in sys.modules)}
        except BaseException as exc:
            out = {"error": f"{type(exc).__name__}: {exc}", "loaded": []}
        with os.fdopen(write, "w") as pipe:
            pipe.write(json.dumps(out))
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        results[name] = json.loads(pipe.read())
    os.waitpid(pid, 0)
print(json.dumps(results))
"""

#: What no module of the pure packages may load.
WEB_AND_STORAGE = ["flask", "flask_smorest", "flask_login", "sqlalchemy", "twilio", "dispatch"]
#: What no service, SMS, planning, FHIR or model module may load.
WEB = ["flask", "flask_smorest", "flask_login", "flask_wtf", "dispatch.api", "dispatch.web",
       "dispatch.auth", "dispatch.webauth", "dispatch.error_pages"]

#: Third-party libraries the services may use, loaded once before the forks (speed only).
SERVICE_LIBRARIES = ["sqlalchemy.orm", "numpy", "marshmallow", "geopy",
                     "ortools.constraint_solver.pywrapcp"]
FHIR_LIBRARIES = ["fhir.resources.R4B.bundle"]


def modules_of(package: str) -> list[str]:
    """Every module of ``package`` (a dotted name), the package itself first."""
    folder = ROOT.joinpath(*package.split("."))
    names = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(names, key=lambda name: (name != package, name))


def probe(modules: list[str], *, preload: list[str], watched: list[str]) -> dict[str, dict]:
    """Import each module first in a fresh child process; what each loaded of ``watched``."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([preload, modules, watched])],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=600,
    )
    results: dict[str, dict] = json.loads(done.stdout)
    return results


def problems(results: dict[str, dict]) -> dict[str, str]:
    """The modules that failed to import or loaded a watched module, and what went wrong."""
    found = {}
    for name, result in results.items():
        if result["error"]:
            found[name] = result["error"]
        elif result["loaded"]:
            found[name] = "loaded " + ", ".join(result["loaded"])
    return found


@needs_fork
def test_layers_pure_packages_load_no_web_storage_or_dispatch() -> None:
    """triage/, routing/ and rosters/ are pure: each module imports on its own (no cycle that
    breaks on import order) and loads neither Flask, SQLAlchemy, Twilio nor ``dispatch``."""
    modules = [m for package in ("triage", "routing", "rosters") for m in modules_of(package)]
    assert "routing.osrm" in modules  # the module whose import failed first, before the split
    results = probe(modules, preload=["numpy", "ortools.constraint_solver.pywrapcp", "geopy"],
                    watched=WEB_AND_STORAGE)
    assert problems(results) == {}


@needs_fork
def test_layers_models_load_no_flask_api_or_web() -> None:
    """The models import on their own and load no Flask, API, web or sign-in code."""
    results = probe(modules_of("dispatch.models"), preload=["sqlalchemy.orm"], watched=WEB)
    assert problems(results) == {}


@needs_fork
def test_layers_services_load_no_flask_api_or_web() -> None:
    """Services, SMS, planning and the shared schemas import on their own and load no Flask,
    no API, no web package and no sign-in code: importing a service no longer drags in the app
    (the 25-module api <-> services <-> auth cycle of issue 19). The models are preloaded for
    speed (the test above imports them fresh)."""
    modules = [m for package in ("dispatch.services", "dispatch.sms", "dispatch.planning",
                                 "dispatch.schemas")
               for m in modules_of(package)]
    results = probe(modules, preload=[*SERVICE_LIBRARIES, "dispatch.models"], watched=WEB)
    assert problems(results) == {}


@needs_fork
def test_layers_fhir_imports_on_its_own() -> None:
    """Every FHIR module imports first without error (no import-order cycle). Flask is preloaded
    here for speed only: whether FHIR loads it is the next test."""
    results = probe(modules_of("dispatch.fhir"),
                    preload=[*SERVICE_LIBRARIES, *FHIR_LIBRARIES, "flask", "flask_smorest",
                             "dispatch.models", "dispatch.services.referrals"],
                    watched=[])
    assert problems(results) == {}


@needs_fork
def test_layers_fhir_loads_no_flask() -> None:
    """The FHIR mapping is a service like the others: it should load no Flask or API. The
    package imports all its modules, so importing it covers every one."""
    results = probe(["dispatch.fhir"], preload=[*SERVICE_LIBRARIES, *FHIR_LIBRARIES],
                    watched=WEB)
    assert problems(results) == {}


def import_cycles(*packages: str) -> dict[str, list[str]]:
    """Each module that is part of an import cycle, with one cycle through it
    (``[module, ..., module]``). Every import counts, at the top or inside a function (a
    function-level import only hides a cycle until that function runs), except imports under
    ``if TYPE_CHECKING:``, which never run."""
    graph = grimp.build_graph(*packages, exclude_type_checking_imports=True, cache_dir=None)
    cycles: dict[str, list[str]] = {}
    for module in sorted(graph.modules):
        around = graph.find_upstream_modules(module) & graph.find_downstream_modules(module)
        if around:
            other = min(around)
            there = graph.find_shortest_chain(importer=module, imported=other) or ()
            back = graph.find_shortest_chain(importer=other, imported=module) or ()
            cycles[module] = [*there, *back[1:]]
    return cycles


def test_layers_no_import_cycles() -> None:
    """No module of dispatch, triage, routing or rosters imports itself through others: each
    layer can be read, imported and tested without the ones above it (issue 19: the api <->
    services <-> auth, travel <-> osrm, web <-> webauth, triage types <-> needs, outbox <->
    escalation, runner <-> live demo and planning <-> manual assignment cycles)."""
    assert import_cycles("dispatch", "triage", "routing", "rosters") == {}


def test_import_cycles_finds_a_cycle_hidden_in_a_function(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above sees a cycle whose one side imports inside a function."""
    package = tmp_path / "cyclic_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclic_probe import b\n")
    (package / "b.py").write_text("def f():\n    from cyclic_probe import a\n    return a\n")
    (package / "c.py").write_text("from cyclic_probe import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cycles = import_cycles("cyclic_probe")
    assert cycles == {"cyclic_probe.a": ["cyclic_probe.a", "cyclic_probe.b", "cyclic_probe.a"],
                      "cyclic_probe.b": ["cyclic_probe.b", "cyclic_probe.a", "cyclic_probe.b"]}


def _audit_calls_in(path: Path) -> list[str]:
    """Calls to the audit trail made by ``path`` itself (``audit.record(...)``,
    ``audit_carer_read(...)``, any ``*.record`` on a module imported as ``audit``)."""
    import ast

    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = (func.attr if isinstance(func, ast.Attribute)
                else func.id if isinstance(func, ast.Name) else "")
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(
            func.value, ast.Name) else ""
        if (owner == "audit" and name == "record") or name.startswith("audit_"):
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
            found.append(f"{where}:{node.lineno} {owner + '.' if owner else ''}{name}")
    return found


@pytest.mark.safety("H-065")
def test_views_leave_auditing_to_the_services() -> None:
    """Issue 19 item 3: a read of patient data is audited inside the service that reads it
    (``services.visits.read_visit`` and the other ``read_*`` functions), never by the view, so
    no caller can read without the audit and the API and the pages audit alike."""
    views = sorted((ROOT / "dispatch" / "api").rglob("*.py")) + sorted(
        (ROOT / "dispatch" / "web").rglob("*.py"))
    calls = [c for path in views for c in _audit_calls_in(path)]
    assert calls == [], "views writing to the audit trail themselves:\n" + "\n".join(calls)


@pytest.mark.safety("H-065")
def test_views_audit_check_catches_a_view_that_audits(tmp_path: Path) -> None:
    """The check above is not vacuous: a view that records its own read is found."""
    view = tmp_path / "probe_view.py"
    view.write_text("from dispatch.services import audit\n\n\ndef page(session):\n"
                    "    audit.record(session, action='view_x')\n"
                    "    service.audit_carer_read(session)\n")
    assert _audit_calls_in(view) == ["probe_view.py:5 audit.record",
                                     "probe_view.py:6 service.audit_carer_read"]
