"""An entry page with its map, and the front page with its overview map, in headless
Chromium at 1280 and 390 CSS pixels: screenshots to ``test-artifacts/accessibility/``, no
critical or serious axe-core violation, the maps' text alternatives and links as a screen
reader is told them, and no sideways scrolling on a phone."""

from __future__ import annotations

import pytest

from tests.browser.test_accessibility import audit, pytestmark, visit  # noqa: F401

PAGE = "/doc/statistical-geography/E06000066?date=2024-06-01"  # Somerset and its neighbours


@pytest.mark.parametrize("width", [1280, 390])
def test_entry_page_with_its_map(site, browser, width):
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    try:
        visit(browser, f"{site.url}{PAGE}")
        title = browser.find_element(By.CSS_SELECTOR, "svg.map title").get_attribute("textContent")
        assert title == "Map of Somerset (E06000066) as at 1 June 2024"
        caption = browser.find_element(By.CSS_SELECTOR, "figure.map-figure figcaption").text
        assert "Contains OS data © Crown copyright and database right 2025" in caption
        # What a screen reader is told: Chromium's own accessible name of the map, and a
        # named link for each drawn area, every one of them named in the caption too.
        assert accessible_name(browser, "svg.map") == title
        drawn = browser.execute_script(
            "return [...document.querySelectorAll('svg.map a')].map("
            "a => [a.getAttribute('href'), a.getAttribute('aria-label')])"
        )
        assert ["/doc/statistical-geography/E06000066?date=2024-06-01", "Somerset (E06000066)"] in (
            drawn
        )
        assert len(drawn) > 10
        for _href, label in drawn:
            assert label.rsplit(" (", 1)[0] in caption, label
        svg_width = browser.execute_script(
            "return document.querySelector('svg.map').getBoundingClientRect().width"
        )
        assert 0 < svg_width <= width
        page_width = browser.execute_script(
            "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        )
        assert page_width <= width
        audit(browser, f"entry-map-{width}")
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("width", [1280, 390])
def test_front_page_with_its_overview_map(site, browser, width):
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    try:
        visit(browser, f"{site.url}/?date=2023-06-01")
        assert accessible_name(browser, "svg.map--overview") == (
            "Map of the United Kingdom’s 361 local authority districts on 1 June 2023, with the "
            "4 made or changed in 2023 highlighted"
        )
        # Each highlighted district is a link a keyboard reaches, named for its change.
        links = browser.execute_script(
            "return [...document.querySelectorAll('svg.map--overview a')].map(a => {"
            "a.focus(); return [a.getAttribute('href'), document.activeElement === a]; })"
        )
        assert ["/doc/change-event/2023-04-01-E06000066", True] in links
        assert len(links) == 4 and all(focused for _, focused in links)
        assert accessible_name(browser, "svg.map--overview a[href$='E06000066']") == (
            "Somerset (E06000066): merge, 1 April 2023"
        )
        page_width = browser.execute_script(
            "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        )
        assert page_width <= width
        audit(browser, f"home-map-{width}")
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def accessible_name(browser, selector: str) -> str:
    """The accessible name Chromium computes for the element ``selector`` finds."""
    document = browser.execute_cdp_cmd("DOM.getDocument", {"depth": 0})
    node = browser.execute_cdp_cmd(
        "DOM.querySelector", {"nodeId": document["root"]["nodeId"], "selector": selector}
    )
    tree = browser.execute_cdp_cmd(
        "Accessibility.getPartialAXTree",
        {"nodeId": node["nodeId"], "fetchRelatives": False},
    )
    return tree["nodes"][0]["name"]["value"]
