"""The diagrams as a browser draws them (headless Debian chromium through Playwright, as
tests/test_portal_browser.py): screenshots of two services' SVGs saved in ``tests/artifacts/``,
and the rendered text's own boxes (``getBBox()``) checked for overlaps, every service, kind and
language."""

from __future__ import annotations

from itertools import product
from pathlib import Path

import pytest

from egovsim.diagrams import KINDS, LANGS, variants
from egovsim.testing import ServedSimulator
from tests.test_diagrams import CATALOG

playwright = pytest.importorskip("playwright.async_api")
Page = playwright.Page

# every <text> of the drawing: its box as drawn, in the SVG's user units
BOXES = """() => [...document.querySelectorAll('svg text')].filter(t => t.textContent.trim()).map(t => {
  const b = t.getBBox(); return {text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height};
})"""


def overlapping(boxes: list[dict[str, float | str]], slack: float = 0.5) -> list[tuple[str, str]]:
    items = sorted(boxes, key=lambda b: float(b["x"]))
    found = []
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if float(b["x"]) >= float(a["x"]) + float(a["w"]) - slack:
                break
            if (
                float(a["y"]) < float(b["y"]) + float(b["h"]) - slack
                and float(b["y"]) < float(a["y"]) + float(a["h"]) - slack
            ):
                found.append((str(a["text"]), str(b["text"])))
    return found


async def test_two_services_diagrams_in_chromium_are_saved_as_screenshots(
    egovsim_server: ServedSimulator, egovsim_browser: Page, egovsim_artifacts: Path
) -> None:
    page = egovsim_browser
    shots = [
        ("disabled_child_home_education_compensation", "interaction", "kk", "chain=hqo"),
        ("disabled_child_home_education_compensation", "business", "ru", "route=provider"),
        ("foreign_labour_permit", "interaction", "en", "chain=portal"),
        ("foreign_labour_permit", "business", "kk", "route=provider"),
    ]
    for service_id, kind, lang, which in shots:
        # the inspector's page shows the SVG inline: a picture of the drawing alone
        await page.goto(f"{egovsim_server.url}/inspector/diagrams/{service_id}?kind={kind}&lang={lang}&{which}")
        drawing = page.locator("main svg")
        assert await drawing.locator("g.node").count() > 5
        width, height = await drawing.evaluate("s => [s.width.baseVal.value, s.height.baseVal.value]")
        await page.set_viewport_size({"width": int(width) + 120, "height": int(height) + 400})  # all of it in view
        path = egovsim_artifacts / f"diagram-{service_id}-{kind}-{lang}.png"
        await drawing.screenshot(path=str(path))
        assert path.stat().st_size > 10_000
    assert await page.locator("main svg g[data-step='provider:4a']").count() == 1


async def test_no_two_labels_overlap_as_chromium_draws_them(
    egovsim_server: ServedSimulator, egovsim_browser: Page
) -> None:
    page = egovsim_browser
    problems = {}
    for service, kind, lang in product(CATALOG, KINDS, LANGS):
        for variant in variants(service, kind):
            key = "chain" if kind == "interaction" else "route"
            url = f"{egovsim_server.url}/api/catalog/services/{service.id}/diagrams/{kind}?lang={lang}&{key}={variant}"
            await page.goto(url)
            found = overlapping(await page.evaluate(BOXES))
            if found:
                problems[(service.id, kind, variant, lang)] = found[:3]
    assert problems == {}
