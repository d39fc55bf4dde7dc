"""The browser tests' fixtures (``site``, a live server; ``browser``, headless Chromium), from
``test_journeys`` where they are defined, for every module here."""

from tests.browser.test_journeys import browser, site  # noqa: F401
