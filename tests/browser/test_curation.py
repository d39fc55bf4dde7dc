"""A curator's journey in Debian's Chromium: log in, correct a Welsh name with a change note,
see the difference in the entry's history, and find the new name on the public page and in
its Turtle."""

import urllib.request

import pytest
from rdflib import Graph, Literal

from registry.models import Entry
from tests.browser.test_journeys import (  # noqa: F401
    CHROMEDRIVER,
    CHROMIUM,
    arrive,
    browser,
    heading,
    screenshot,
    site,
)
from tests.conftest import BROWSER_CURATOR

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or not __import__("pathlib").Path(CHROMEDRIVER).exists(),
    reason="Chromium and chromedriver are not installed: run tests/browser/setup.sh",
)

CODE = "W06000006"  # Wrexham, Welsh name Wrecsam


def test_curator_corrects_a_welsh_name_and_the_public_sees_it(site, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    entry = Entry.objects.get(register__slug="statistical-geography", key=CODE)
    before = entry.version
    try:
        browser.get(f"{site.url}/admin/login/?next=/admin/")
        username, password = BROWSER_CURATOR
        browser.find_element(By.NAME, "username").send_keys(username)
        browser.find_element(By.NAME, "password").send_keys(password)
        browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        WebDriverWait(browser, 30).until(
            lambda b: "Registers, entries and their history" in b.page_source
        )

        browser.get(f"{site.url}/admin/registry/entry/?q={CODE}")
        browser.find_element(By.LINK_TEXT, CODE).click()
        arrive(browser, f"{site.url}/admin/registry/entry/{entry.pk}/change/")
        welsh = next(
            field
            for field in browser.find_elements(By.CSS_SELECTOR, "input[name^=names-][name$=-text]")
            if field.get_attribute("value") == "Wrecsam"
        )
        welsh.clear()
        welsh.send_keys("Wrecsam (Bwrdeistref Sirol)")
        browser.find_element(By.NAME, "change_note").send_keys("Use the full Welsh form")
        browser.find_element(By.NAME, "_continue").click()
        WebDriverWait(browser, 30).until(lambda b: "was changed successfully" in b.page_source)

        browser.find_element(By.PARTIAL_LINK_TEXT, "see every version").click()
        arrive(browser, f"{site.url}/admin/registry/entry/{entry.pk}/versions/")
        history = browser.find_element(By.ID, "content-main").text
        assert "“Wrecsam (Bwrdeistref Sirol)” (cy, official) from 2009-01-01" in history
        assert "“Wrecsam” (cy, official) from 2009-01-01" in history
        assert "Use the full Welsh form" in history
        assert browser.find_element(By.TAG_NAME, "ins").text.startswith(
            "“Wrecsam (Bwrdeistref Sirol)”"
        )
        screenshot(browser, "admin-history-W06000006.png")

        browser.get(f"{site.url}/doc/statistical-geography/{CODE}")
        assert "Wrecsam (Bwrdeistref Sirol)" in heading(browser)
        with urllib.request.urlopen(f"{site.url}/doc/statistical-geography/{CODE}.ttl") as answer:  # noqa: S310
            assert answer.headers["Content-Type"].startswith("text/turtle")
            graph = Graph().parse(data=answer.read().decode(), format="turtle")
        welsh_names = {o for o in graph.objects() if isinstance(o, Literal) and o.language == "cy"}
        assert Literal("Wrecsam (Bwrdeistref Sirol)", lang="cy") in welsh_names
        assert Literal("Wrecsam", lang="cy") not in welsh_names
    finally:
        # Put the entry back through the live server, so that on PostgreSQL (where the server
        # committed the edit on its own connection) the undo is committed too.
        entry.refresh_from_db()
        if entry.version != before:
            browser.get(f"{site.url}/admin/registry/entry/{entry.pk}/versions/{before}/restore/")
            note = browser.find_element(By.NAME, "change_note")
            note.clear()
            note.send_keys("Undo the browser test's edit")
            browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
            WebDriverWait(browser, 30).until(
                lambda b: f"Restored {CODE} to version {before}" in b.page_source
            )
            entry.refresh_from_db()
            assert entry.version == before + 2
