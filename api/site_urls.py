"""URLs of the registry's site: persistent URIs (``/id/…``), the documents about them
(``/doc/…``), the vocabulary (``/def/…``), the front page, search, downloads, the about page,
the VoID description at ``/.well-known/void``, and for browsers and crawlers
``/favicon.ico``, ``/robots.txt`` and ``/sitemap.xml`` (``api.crawlers``).

Keys are letters, digits and hyphens, so a final ``.xyz`` is always a format suffix; an
unknown one is a 404 (``api.negotiation``).
"""

from django.urls import path, re_path

from . import crawlers, geo, pages
from .documents import downloads, events, listings, resolution, vocabulary

KEY = r"(?P<key>[A-Za-z0-9][A-Za-z0-9_-]*)"
REGISTER = r"(?P<register>[a-z0-9][a-z0-9-]*)"
FORMAT = r"(?:\.(?P<format>[A-Za-z0-9]+))?"

urlpatterns = [
    path("", pages.HomeView.as_view(), name="home"),
    path("favicon.ico", crawlers.favicon, name="favicon"),
    path("robots.txt", crawlers.robots, name="robots"),
    path("sitemap.xml", crawlers.sitemap, name="sitemap"),
    re_path(
        rf"^id/change-event/{KEY}{FORMAT}$", resolution.resolve_entry, {"register": "change-event"}
    ),
    re_path(rf"^id/{REGISTER}/{KEY}{FORMAT}$", resolution.resolve_entry, name="id-entry"),
    re_path(rf"^id/{REGISTER}{FORMAT}/?$", resolution.resolve_register, name="id-register"),
    re_path(rf"^doc/change-event/{KEY}{FORMAT}$", events.EventView.as_view(), name="event"),
    re_path(rf"^doc/change-event{FORMAT}/?$", events.EventListView.as_view(), name="events"),
    # The entry's document; its boundary as GeoJSON by .geojson or Accept (api/geo.py).
    re_path(rf"^doc/{REGISTER}/{KEY}{FORMAT}$", geo.entry_view, name="entry"),
    re_path(rf"^doc/{REGISTER}{FORMAT}/?$", listings.RegisterView.as_view(), name="register"),
    re_path(rf"^def(?:/|{FORMAT})$", vocabulary.VocabularyView.as_view(), name="vocabulary"),
    re_path(r"^def/(?P<term>[A-Za-z0-9][A-Za-z0-9/_-]*)$", resolution.resolve_term, name="term"),
    re_path(rf"^\.well-known/void{FORMAT}$", vocabulary.VoidView.as_view(), name="void"),
    re_path(rf"^search{FORMAT}$", pages.SearchView.as_view(), name="search"),
    re_path(rf"^about{FORMAT}$", pages.AboutView.as_view(), name="about"),
    re_path(rf"^downloads{FORMAT}/?$", pages.DownloadsView.as_view(), name="downloads"),
    re_path(
        rf"^downloads/{REGISTER}\.(?P<extension>csv\.gz|nt\.gz)$",
        downloads.download,
        name="download",
    ),
    re_path(
        r"^downloads/boundaries/(?P<layer>[a-z][a-z-]*)/(?P<vintage>[0-9A-Za-z][0-9A-Za-z-]*)"
        r"\.(?P<extension>geojson|geojson\.gz)$",
        downloads.boundary_download,
        name="boundary-download",
    ),
]
