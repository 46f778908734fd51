"""The performance page's charts are readable: on a desktop and a 390 px phone, the smallest
text of every chart is at least 12 px on screen (the chart's rendered width over its SVG
width, times the smallest font size), and the page itself does not scroll sideways."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dispatch.reports.charts import CHARTS, MIN_FONT_PT
from tests.browser import every_page
from tests.browser.conftest import Blocked


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[every_page.EveryPage]:
    yield from every_page.start(tmp_path_factory)


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_chart_text_at_least_12_px(
    page: Any, blocked: Blocked, site: every_page.EveryPage, width: int
) -> None:
    """Each chart's smallest text is drawn at 12 px or more."""
    page.set_viewport_size({"width": width, "height": 900})
    username, password = site.sign_ins["manager"]
    page.goto(f"{site.base}/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    page.goto(f"{site.base}/reports/kpis")
    for name in CHARTS:
        sizes = page.evaluate("""async (id) => {
            const img = document.getElementById(id);
            if (!img.complete) await new Promise(r => img.addEventListener('load', r));
            const svg = await (await fetch(img.src)).text();
            const box = svg.match(/viewBox="[\\d.]+ [\\d.]+ ([\\d.]+) /);
            return {shown: img.getBoundingClientRect().width, units: parseFloat(box[1])};
        }""", f"chart-{name}")
        smallest = MIN_FONT_PT * sizes["shown"] / sizes["units"]
        assert smallest >= 12, f"{name}: smallest text {smallest:.1f} px ({sizes})"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert blocked.urls == []
