"""COVERAGE.md lists every Rekognition operation with its current status."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from candor.api.model import service_model
from candor.api.operations import HANDLERS, REFUSED

ROOT = Path(__file__).resolve().parent.parent


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("coverage_script", ROOT / "scripts" / "coverage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_coverage_file_is_up_to_date() -> None:
    text = _script().render()
    assert (ROOT / "COVERAGE.md").read_text() == text, (
        "COVERAGE.md is out of date: run python scripts/coverage.py"
    )


def test_every_operation_is_listed_once() -> None:
    text = _script().render()
    operations = service_model().operation_names
    assert len(operations) == 75
    for op in operations:
        assert text.count(f"| {op} |") == 1, op
    for op in HANDLERS:
        assert f"| {op} | served |" in text
    for op in REFUSED:
        assert f"| {op} | refused by design |" in text
