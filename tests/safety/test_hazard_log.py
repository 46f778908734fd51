"""The hazard log and the test suite agree: every named test exists, every safety test is named."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _hazard_log() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hazard_log", ROOT / "docs/safety/hazard_log.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hazard_log_loads_with_every_field() -> None:
    """Each hazard has its fields, ratings on the matrix and controls with a status."""
    hazards = _hazard_log().load()
    assert len(hazards) >= 11


def test_hazard_log_names_only_existing_tests_and_every_safety_test() -> None:
    """A control naming a missing test, or a safety-marked test the log omits, fails here."""
    assert _hazard_log().problems() == []


def test_hazard_log_page_is_up_to_date() -> None:
    """docs/safety/hazard-log.md is rendered from the YAML (run docs/safety/hazard_log.py)."""
    log = _hazard_log()
    assert log.PAGE.read_text(encoding="utf-8") == log.render(log.load())


def test_hazard_log_check_catches_a_missing_test(tmp_path: Path) -> None:
    """The consistency check itself fails on a dangling test name and an unlisted marked test."""
    log = _hazard_log()
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "import pytest\n\n@pytest.mark.safety('H-001')\ndef test_marked():\n    pass\n"
    )
    hazards = [
        {
            "id": "H-001",
            "controls": [
                {"id": "C1", "status": "implemented", "tests": ["tests/test_x.py::test_gone"]}
            ],
        }
    ]
    found = log.problems(tmp_path, hazards)
    assert any("tests/test_x.py::test_marked" in p and "does not name it" in p for p in found)
    assert any("does not exist" in p for p in found)
