"""What browsers and crawlers ask every site for: ``/favicon.ico``, ``/robots.txt`` and the
sitemap it names, ``/sitemap.xml``.

The sitemap lists the registry's own pages and each register's listing (``/doc/<register>``),
from which every entry is linked; it does not list the entries themselves. robots.txt lets
crawlers read everything public and keeps them out of the admin and of the code checker's
kept results. Addresses are absolute under ``REGISTRY_URI_BASE``, as every URI the registry
publishes is.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from django.http import HttpResponse
from django.views.decorators.http import require_safe

from registry.statistics import registers
from registry.uris import base

from . import http

FAVICON = Path(__file__).resolve().parent / "static" / "api" / "favicon.ico"
# The site's own pages, beside the registers' listings and the change events'.
PAGES = ["/", "/about", "/downloads", "/search", "/api/v1/check/", "/doc/change-event"]
DAY = 24 * 3600


@cache
def _favicon() -> bytes:
    return FAVICON.read_bytes()


@require_safe
def favicon(request):
    """The registry's icon: a white R on GOV.UK blue, 16 and 32 pixels square."""
    response = HttpResponse(_favicon(), content_type="image/vnd.microsoft.icon")
    return http.publish(response, max_age=7 * DAY)


@require_safe
def robots(request):
    """Everything public may be crawled; not the admin nor the checker's kept files."""
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /api/v1/check/results/",
        "Allow: /",
        "",
        f"Sitemap: {base()}/sitemap.xml",
        "",
    ]
    response = HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
    return http.publish(response, max_age=DAY)


def sitemap_paths() -> list[str]:
    """The paths the sitemap lists: the site's own pages, then each register's listing."""
    listings = [f"/doc/{slug}" for slug in sorted(registers())]
    return [*PAGES, *(path for path in listings if path not in PAGES)]


@require_safe
def sitemap(request):
    """A sitemap (sitemaps.org 0.9) of the site's pages and the registers' listings."""
    urls = "".join(f"  <url><loc>{escape(base() + path)}</loc></url>\n" for path in sitemap_paths())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls}</urlset>\n"
    )
    response = HttpResponse(body, content_type="application/xml; charset=utf-8")
    return http.publish(response, max_age=DAY)
