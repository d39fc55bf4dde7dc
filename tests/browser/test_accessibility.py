"""axe-core over every kind of page, public and curators', in Debian's headless Chromium: no
critical or serious violation anywhere, and a screenshot of each page.

axe-core is the npm package pinned in ``tests/browser/package.json`` (``tests/browser/setup.sh``
installs it with ``npm ci``, as CI does); its ``axe.min.js`` is read from ``node_modules`` and
injected into each page, never fetched at run time. Without Chromium, chromedriver or axe-core
these tests are skipped, saying which is missing.

Each page's full-length screenshot, and axe's whole report (every violation, of any impact),
go to ``test-artifacts/accessibility/`` (git-ignored): ``<page>.png`` and ``<page>.json``. The
entry page is also laid out at 390 CSS pixels wide (a phone) and must not scroll sideways.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from registry.models import Entry
from tests.browser.test_journeys import ARTIFACTS, CHROMEDRIVER, CHROMIUM, arrive
from tests.conftest import BROWSER_CURATOR

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ARTIFACTS / "accessibility"
FAILING_IMPACTS = {"critical", "serious"}
PHONE_WIDTH = 390

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None or not Path(CHROMEDRIVER).exists(),
        reason="Chromium and chromedriver are not installed: run tests/browser/setup.sh",
    ),
    pytest.mark.skipif(
        not AXE.exists(),
        reason=f"axe-core is not installed ({AXE} is missing): run tests/browser/setup.sh",
    ),
]

# Every kind of public page: (artefact name, path).
PUBLIC_PAGES = [
    ("home", "/"),
    ("register-listing", "/doc/statistical-geography"),
    ("register-listing-councils", "/doc/local-authority"),
    ("entry-live", "/doc/statistical-geography/E06000060"),
    ("entry-terminated", "/doc/statistical-geography/E07000004"),
    ("entry-council", "/doc/local-authority/BIR"),
    ("entry-entity-type", "/doc/statistical-entity/E06"),
    ("change-events", "/doc/change-event"),
    ("change-event", "/doc/change-event/2020-04-01-E06000060"),
    ("search", "/search?q=newport"),
    ("about", "/about"),
    ("downloads", "/downloads"),
    ("vocabulary", "/def/"),
    ("checker", "/api/v1/check/"),
    ("not-found-entry", "/doc/statistical-geography/E99999999"),
    ("not-found-page", "/no/such/page"),
    # The Welsh interface (the cookie it sets is reset by the last, English, page).
    ("home-welsh", "/?lang=cy"),
    ("entry-welsh", "/doc/statistical-geography/W06000015?lang=cy"),
    ("listing-welsh", "/doc/statistical-geography?type=W05&lang=cy"),
    ("search-welsh", "/search?q=caerdydd&lang=cy"),
    ("checker-welsh", "/api/v1/check/?lang=cy"),
    ("not-found-welsh", "/doc/statistical-geography/W06999999?lang=cy"),
    ("home-english-again", "/?lang=en"),
]


def run_axe(browser) -> list[dict]:
    """Every violation axe-core finds in the page the browser shows."""
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    browser.set_script_timeout(120)
    found = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ["violations"]})
          .then((results) => done(results.violations))
          .catch((error) => done({error: String(error)}));
        """
    )
    assert not isinstance(found, dict), f"axe-core failed: {found}"
    return found


def full_screenshot(browser, name: str) -> Path:
    """The whole length of the page (to 12,000 px), not only the window."""
    metrics = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    clip = {
        "x": 0,
        "y": 0,
        "width": size["width"],
        "height": min(size["height"], 12_000),
        "scale": 1,
    }
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def audit(browser, name: str) -> None:
    """Screenshot the page, keep axe's report beside it, and fail on any critical or
    serious violation, listing each rule with the elements it failed on."""
    assert full_screenshot(browser, name).stat().st_size > 5_000
    violations = run_axe(browser)
    (SHOTS / f"{name}.json").write_text(
        json.dumps({"url": browser.current_url, "violations": violations}, indent=2)
    )
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}; "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        + (f" and {len(v['nodes']) - 5} more" if len(v["nodes"]) > 5 else "")
        for v in failing
    )
    assert not failing, f"axe-core found on {browser.current_url}:\n{report}"


def visit(browser, url: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    WebDriverWait(browser, 30).until(
        lambda b: b.execute_script("return document.readyState") == "complete"
    )


@pytest.mark.parametrize(("name", "path"), PUBLIC_PAGES, ids=[name for name, _ in PUBLIC_PAGES])
def test_public_page_has_no_serious_accessibility_violation(site, browser, name, path):
    visit(browser, f"{site.url}{path}")
    audit(browser, name)


def test_checker_after_an_upload(site, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    upload = tmp_path / "areas.csv"
    upload.write_text("code,label\nE07000004,Aylesbury\nShepway,a name\nE99999999,no such\n")
    visit(browser, f"{site.url}/api/v1/check/?lang=en")
    browser.find_element(By.ID, "file").send_keys(str(upload))
    browser.find_element(By.ID, "column").send_keys("code")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 60).until(
        lambda b: "Your file has been checked: 3 rows" in b.page_source
    )
    audit(browser, "checker-after-upload")
    link = browser.find_element(By.PARTIAL_LINK_TEXT, "Download the checked file")
    assert link.get_attribute("download") == "areas-checked.csv"


@pytest.mark.parametrize(
    "path",
    [
        "/doc/statistical-geography/E06000060",
        "/doc/statistical-geography/E07000004",
        "/doc/statistical-geography",
        "/",
        "/api/v1/check/",
    ],
)
def test_pages_fit_a_phone_without_scrolling_sideways(site, browser, path):
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE_WIDTH, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    visit(browser, f"{site.url}{path}")
    width = browser.execute_script(
        "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    )
    name = "phone" + (path.rstrip("/").replace("/", "-") or "-home")
    full_screenshot(browser, name)
    assert width <= PHONE_WIDTH, f"{path} is {width} px wide at {PHONE_WIDTH} px"


def log_in(browser, site) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    visit(browser, f"{site.url}/admin/login/?next=/admin/")
    audit(browser, "admin-login")
    username, password = BROWSER_CURATOR
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 30).until(
        lambda b: "Registers, entries and their history" in b.page_source
    )


def test_admin_pages_have_no_serious_accessibility_violation(site, browser):
    from selenium.webdriver.common.by import By

    log_in(browser, site)
    audit(browser, "admin-index")

    visit(browser, f"{site.url}/admin/registry/entry/?q=Buckinghamshire")
    audit(browser, "admin-entry-list")

    # An area with names in two languages, identifiers, states and parents; a council with
    # attributes; an entity type.
    for register, key in [
        ("statistical-geography", "W06000015"),
        ("local-authority", "BIR"),
        ("statistical-entity", "E06"),
    ]:
        entry = Entry.objects.get(register__slug=register, key=key)
        visit(browser, f"{site.url}/admin/registry/entry/{entry.pk}/change/")
        audit(browser, f"admin-entry-change-{key}")
        # Each inline table fits its box: its last column (the delete box) is in sight.
        inlines = browser.execute_script(
            """return [...document.querySelectorAll('.inline-group')].map((g) => [
                 g.id, g.querySelector('table').getBoundingClientRect().right,
                 g.getBoundingClientRect().right])"""
        )
        assert inlines
        for group, table_right, box_right in inlines:
            assert table_right <= box_right + 1, f"{group} is clipped on {key}"

    # The HISTORY button leads to the registry's versions.
    entry = Entry.objects.get(register__slug="statistical-geography", key="W06000015")
    visit(browser, f"{site.url}/admin/registry/entry/{entry.pk}/change/")
    browser.find_element(By.CSS_SELECTOR, "a.historylink").click()
    arrive(browser, f"{site.url}/admin/registry/entry/{entry.pk}/history/")
    assert browser.find_element(By.ID, f"version-{entry.version}").text.startswith(
        f"Version {entry.version}"
    )
    audit(browser, "admin-entry-history")

    visit(browser, f"{site.url}/admin/change-import/")
    audit(browser, "admin-change-import")

    visit(browser, f"{site.url}/admin/registry/changeevent/")
    audit(browser, "admin-change-event-list")
    event = browser.find_element(By.CSS_SELECTOR, "#result_list tbody a")
    event.click()
    audit(browser, "admin-change-event")

    visit(browser, f"{site.url}/admin/registry/version/")
    audit(browser, "admin-version-list")
