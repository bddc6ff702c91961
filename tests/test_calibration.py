"""Calibration figures of the eval report: ECE, coverage–accuracy curve and its picture."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from copilot.cli import main
from copilot.evals.calibration import calibration, coverage_svg, suggest_threshold, svg_name


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    # Ten lines at 0.8 with eight right, ten at 0.3 with three right.
    conf = [0.8] * 10 + [0.3] * 10
    correct = [True] * 8 + [False] * 2 + [True] * 3 + [False] * 7
    assert calibration(conf, correct)["ece"] == pytest.approx(0.0)


def test_ece_measures_overconfidence() -> None:
    result = calibration([0.95] * 10, [True] * 5 + [False] * 5)
    assert result["ece"] == pytest.approx(0.45)
    assert result["bins"] == [
        {"low": 0.9, "high": 1.0, "n": 10, "confidence": 0.95, "accuracy": 0.5}
    ]


def test_coverage_curve_and_suggested_threshold() -> None:
    conf = [0.9, 0.9, 0.6, 0.4, None]
    correct = [True, True, True, False, False]
    curve = calibration(conf, correct)["curve"]
    at = {p["threshold"]: (p["coverage"], p["accuracy"]) for p in curve}
    assert at[0.0] == (1.0, pytest.approx(0.6))
    assert at[0.5] == (0.6, 1.0)
    assert suggest_threshold(curve, 0.95) == pytest.approx(0.5)
    assert suggest_threshold(calibration([0.9], [False])["curve"]) is None


def test_picture_is_valid_svg_and_escapes_the_title() -> None:
    calib = calibration([0.9, 0.5, 0.2], [True, True, False])
    svg = coverage_svg(calib, "dev/<intents>")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "<intents>" not in svg
    assert svg_name("dev/intents") == "dev-intents-coverage.svg"


def test_eval_report_has_the_calibration_table_and_picture(tmp_path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main, ["eval", "--dataset", "test/intents", "--limit", "40", "--report", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Calibration: ECE" in result.output
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "![coverage–accuracy](test-intents-coverage.svg)" in markdown
    ET.fromstring((out / "test-intents-coverage.svg").read_text(encoding="utf-8"))
