"""Settings for the documents benchmark: the production settings, with a URL configuration
(``benchmarks/ceiling_urls.py``) that adds one minimal Django view returning a fixed JSON
body, the ceiling the same server can reach.

Used only by ``benchmarks/documents.py`` (``DJANGO_SETTINGS_MODULE=benchmarks.ceiling``);
the view is never part of the real site.
"""

from config.settings import *  # noqa: F403 (the production settings, unchanged)

ROOT_URLCONF = "benchmarks.ceiling_urls"
