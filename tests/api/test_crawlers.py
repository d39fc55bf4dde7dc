"""What browsers and crawlers ask for: the favicon, robots.txt and the sitemap it names."""

import struct
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def test_favicon_is_a_small_icon_of_two_sizes(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/vnd.microsoft.icon"
    assert "max-age=604800" in response["Cache-Control"]
    icon = response.content
    assert len(icon) < 2_000
    reserved, kind, count = struct.unpack("<HHH", icon[:6])
    assert (reserved, kind, count) == (0, 1, 2)
    sizes = [icon[6 + 16 * i] for i in range(count)]
    assert sizes == [16, 32]
    offset = struct.unpack("<I", icon[6 + 12 : 6 + 16])[0]
    assert icon[offset : offset + 8] == b"\x89PNG\r\n\x1a\n"


def test_pages_link_the_favicon(client):
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/").content.decode()


def test_robots_txt_names_the_sitemap_and_keeps_crawlers_out_of_the_admin(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == (
        "User-agent: *\n"
        "Disallow: /admin/\n"
        "Disallow: /api/v1/check/results/\n"
        "Allow: /\n"
        "\n"
        f"Sitemap: {settings.REGISTRY_URI_BASE}/sitemap.xml\n"
    )


def test_sitemap_lists_the_site_pages_and_every_register(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    root = ET.fromstring(response.content)  # noqa: S314 (our own answer, in a test)
    assert root.tag == f"{SITEMAP}urlset"
    base = settings.REGISTRY_URI_BASE
    locations = [url.findtext(f"{SITEMAP}loc") for url in root]
    assert locations == [
        f"{base}/",
        f"{base}/about",
        f"{base}/downloads",
        f"{base}/search",
        f"{base}/api/v1/check/",
        f"{base}/doc/change-event",
        f"{base}/doc/local-authority",
        f"{base}/doc/statistical-entity",
        f"{base}/doc/statistical-geography",
    ]
    for location in locations:
        assert client.get(location.removeprefix(base)).status_code == 200, location


@pytest.mark.parametrize("path", ["/favicon.ico", "/robots.txt", "/sitemap.xml"])
def test_they_take_only_get_and_head(client, path):
    assert client.head(path).status_code == 200
    assert client.post(path).status_code == 405
