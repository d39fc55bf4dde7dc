"""A person's journeys through the site, in Debian's Chromium driven headless by Selenium.

``tests/browser/setup.sh`` installs ``chromium`` and ``chromium-driver`` (CI calls it); without
them these tests are skipped, saying so. Screenshots of an entry page and the front page go to
``test-artifacts/`` (git-ignored).

The server is pytest-django's ``LiveServer``, started here on top of the ``db`` fixture rather
than through the ``live_server`` fixture: that fixture forces ``transactional_db``, which
empties every table after the test and so would throw away the reference data the session
loaded once for every other test. Read-only journeys need no more than ``db``: on SQLite the
server thread shares the test's in-memory connection, on PostgreSQL it reads the committed
reference data through its own.
"""

import shutil
from pathlib import Path

import pytest
from django.core.servers.basehttp import WSGIServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1800",
]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or not Path(CHROMEDRIVER).exists(),
    reason="Chromium and chromedriver are not installed: run tests/browser/setup.sh",
)


@pytest.fixture
def site(db, monkeypatch):
    from django.db import connection
    from django.test.testcases import LiveServerThread
    from pytest_django.live_server_helper import LiveServer

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # The server shares the test's in-memory connection, which two threads must never
        # use at once; Chromium fetches a page's parts in parallel, so serve one at a time.
        monkeypatch.setattr(LiveServerThread, "server_class", OneRequestAtATime)
    server = LiveServer("localhost")
    yield server
    server.stop()


class OneRequestAtATime(WSGIServer):
    """Django's WSGI server without threads, taking the argument its threaded one takes (the
    server thread itself already uses the shared connection)."""

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def screenshot(browser, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    browser.save_screenshot(str(path))
    return path


def arrive(browser, url: str) -> None:
    """Wait until the browser is at ``url`` (any query string, if ``url`` has none): a click
    or an Enter starts a navigation that Selenium does not always wait for, so reading the
    page at once may read the old one."""
    from selenium.webdriver.support.ui import WebDriverWait

    def there(b) -> bool:
        return b.current_url == url or ("?" not in url and b.current_url.split("?")[0] == url)

    WebDriverWait(browser, 30).until(there, f"the browser never reached {url}")
    WebDriverWait(browser, 30).until(
        lambda b: b.execute_script("return document.readyState") == "complete"
    )


def heading(browser) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.TAG_NAME, "h1").text


def test_a_terminated_code_leads_to_the_council_area_that_replaced_it(site, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{site.url}/id/statistical-geography/E07000004")

    # The 303 lands on the document about the area.
    arrive(browser, f"{site.url}/doc/statistical-geography/E07000004")
    assert heading(browser) == "Aylesbury Vale"
    assert browser.find_element(By.ID, "status").text.lower() == "terminated"
    notice = browser.find_element(By.CSS_SELECTOR, "[aria-labelledby=terminated-heading]")
    assert "This code was terminated on 31 March 2020" in notice.text
    assert screenshot(browser, "entry-E07000004.png").stat().st_size > 10_000

    notice.find_element(By.LINK_TEXT, "Buckinghamshire").click()

    arrive(browser, f"{site.url}/doc/statistical-geography/E06000060")
    assert heading(browser) == "Buckinghamshire"
    assert browser.find_element(By.ID, "status").text.lower() == "live"


def test_a_welsh_name_typed_in_lower_case_finds_cardiff(site, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(f"{site.url}/")
    assert heading(browser) == "Reference Registry"
    assert browser.find_element(By.CSS_SELECTOR, ".chart svg rect")
    assert screenshot(browser, "front-page.png").stat().st_size > 10_000

    box = browser.find_element(By.ID, "q")
    box.send_keys("caerdydd", Keys.ENTER)

    arrive(browser, f"{site.url}/search?q=caerdydd")
    browser.find_element(By.LINK_TEXT, "Cardiff").click()

    arrive(browser, f"{site.url}/doc/statistical-geography/W06000015")
    assert heading(browser) == "Cardiff / Caerdydd"
    summary = browser.find_element(By.CSS_SELECTOR, ".summary-list").text
    assert "W06000015" in summary
    assert "Welsh name\nCaerdydd" in summary
