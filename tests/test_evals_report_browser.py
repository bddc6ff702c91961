"""The eval HTML report opened from disk in a real browser (Debian's Chromium driven
by Playwright), offline: the confusion matrix renders as a heat map with the right
counts and colours, and lead text stays text.

Skipped only when /usr/bin/chromium is absent (install: apt-get install chromium);
a browser is never downloaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.evals.datasets_io import load_dataset
from copilot.evals.html_report import render_html
from copilot.evals.runner import result_from_predictions

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} is absent: apt-get install chromium to run the browser tests",
)

EVIL = "<img src=x onerror=\"document.title='pwned'\">cuánto vale?"
# gold -> predicted: greeting 2/2 right; pricing 2 right, 1 read as greeting (the
# evil line); opt_out 1 right, 1 read as pricing.
ROWS = [
    ("i1", "hola", "greeting", "greeting"),
    ("i2", "buenas", "greeting", "greeting"),
    ("i3", "precio?", "pricing", "pricing"),
    ("i4", "cuanto sale", "pricing", "pricing"),
    ("i5", EVIL, "pricing", "greeting"),
    ("i6", "no me escriban mas", "opt_out", "opt_out"),
    ("i7", "basta de mensajes", "opt_out", "pricing"),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A report from known predictions, so every count in the matrix is known."""
    tmp = tmp_path_factory.mktemp("report")
    data = tmp / "dev" / "intents.jsonl"
    data.parent.mkdir()
    lines = [
        {"id": i, "lang": "es", "text": text, "gold": {"intent": gold}} for i, text, gold, _ in ROWS
    ]
    data.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    dataset = load_dataset(data)
    predictions = [
        {"id": i, "intent": pred, "confidence": 0.9, "engine": "fake", "latency_ms": 1.0}
        for i, _, _, pred in ROWS
    ]
    result = result_from_predictions(dataset, predictions, "fake")
    path = tmp / "report.html"
    path.write_text(render_html([result]), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def page(report: Path) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 2000})
        requests: list[str] = []
        context.on("request", lambda request: requests.append(request.url))
        opened = context.new_page()
        opened.goto(report.as_uri())
        opened.requests = requests  # type: ignore[attr-defined]
        yield opened
        browser.close()


def cell(page, gold: str, pred: str) -> dict:
    """Text, background colour and box of the heat-map cell (gold row, predicted column)."""
    return page.evaluate(
        """([gold, pred]) => {
            const table = document.querySelector('table.heat');
            const labels = [...table.rows[0].cells].slice(1).map(c => c.textContent.trim());
            const row = [...table.rows].find(r => r.cells[0].textContent.trim() === gold);
            const td = row.cells[labels.indexOf(pred) + 1];
            const box = td.getBoundingClientRect();
            return {text: td.textContent.trim(), bg: getComputedStyle(td).backgroundColor,
                    color: getComputedStyle(td).color, width: box.width, height: box.height};
        }""",
        [gold, pred],
    )


def rgba(css: str) -> tuple[int, int, int, float]:
    """``rgb(a, b, c)`` or ``rgba(a, b, c, d)`` as numbers."""
    parts = [p.strip() for p in css[css.index("(") + 1 : -1].split(",")]
    alpha = float(parts[3]) if len(parts) == 4 else 1.0
    return int(parts[0]), int(parts[1]), int(parts[2]), alpha


def test_the_confusion_heat_map_is_visible_with_its_labels(page) -> None:
    heat = page.locator("table.heat")
    assert heat.count() == 1
    assert heat.is_visible()
    header = [t.strip() for t in heat.locator("tr").first.locator("th").all_inner_texts()]
    assert header == ["", "greeting", "opt_out", "pricing"]
    box = heat.bounding_box()
    assert box is not None and box["width"] > 150 and box["height"] > 80


def test_cells_hold_the_counts_with_green_right_and_red_wrong(page) -> None:
    right = cell(page, "greeting", "greeting")
    assert right["text"] == "2"
    r, g, b, a = rgba(right["bg"])
    assert (r, g, b) == (5, 150, 105) and a > 0.8  # the whole row: dark green
    assert rgba(right["color"])[:3] == (255, 255, 255)  # white on dark, readable

    partly = cell(page, "pricing", "pricing")
    assert partly["text"] == "2"
    assert rgba(partly["bg"])[:3] == (5, 150, 105)
    assert 0.5 < rgba(partly["bg"])[3] < rgba(right["bg"])[3]  # 2 of 3: lighter

    wrong = cell(page, "pricing", "greeting")
    assert wrong["text"] == "1"
    r, g, b, a = rgba(wrong["bg"])
    assert (r, g, b) == (220, 38, 38) and a >= 0.15  # a stray case still shows
    assert wrong["width"] > 20 and wrong["height"] > 15

    assert cell(page, "opt_out", "pricing")["text"] == "1"
    assert cell(page, "opt_out", "opt_out")["text"] == "1"
    empty = cell(page, "greeting", "pricing")
    assert empty["text"] == ""
    assert rgba(empty["bg"])[3] == 0  # no case, no colour


def test_the_report_is_offline_and_lead_text_stays_text(page, report: Path) -> None:
    assert page.requests == [report.as_uri()]  # no stylesheet, script or font fetched
    assert page.title() == "Lead Copilot eval"  # the onerror handler never ran
    page.locator("details summary", has_text="Wrong cases").click()
    shown = page.locator("td.text", has_text="cuánto vale?")
    assert shown.is_visible()
    assert "<img src=x" in shown.inner_text()
    assert page.locator("img").count() == 0
