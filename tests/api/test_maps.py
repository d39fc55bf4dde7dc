"""Entry pages draw the area's boundary as at the page's date (``api.maps``), and every area
with a boundary has it as GeoJSON (``api.geo``)."""

import re
from xml.etree import ElementTree

import pytest

pytestmark = pytest.mark.django_db

OS = "Contains OS data © Crown copyright and database right 2025"


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def svg_of(html):
    found = re.search(r"<svg .*?</svg>", html, re.S)
    assert found, "no map on the page"
    return ElementTree.fromstring(found.group(0))  # noqa: S314 - our own page


NS = {"s": "http://www.w3.org/2000/svg"}


def links(svg):
    return [a.get("href") for a in svg.iter("{http://www.w3.org/2000/svg}a")]


def test_a_district_page_draws_it_with_its_neighbours_and_a_text_alternative(client):
    html = page(client, "/doc/statistical-geography/E06000066?date=2024-06-01")
    svg = svg_of(html)
    assert svg.find("s:title", NS).text == "Map of Somerset (E06000066) as at 1 June 2024"
    hrefs = links(svg)
    assert "/doc/statistical-geography/E06000066?date=2024-06-01" in hrefs
    # Its neighbours, faint, each a link to its page as at the same date.
    assert "/doc/statistical-geography/E06000022?date=2024-06-01" in hrefs  # Bath and NE Somerset
    assert "/doc/statistical-geography/E06000059?date=2024-06-01" in hrefs  # Dorset
    # The parent (the South West region) outlined.
    assert "/doc/statistical-geography/E12000009?date=2024-06-01" in hrefs
    caption = re.search(r"<figcaption>(.*?)</figcaption>", html, re.S).group(1)
    assert caption.startswith("Somerset (E06000066), filled, as its 2024 (BGC) boundary drew it")
    assert "outlined: South West (E12000009)" in caption
    assert "Dorset" in caption
    assert OS in caption
    assert re.search(r"<text [^>]*>\d+ km</text>", html)  # the scale


def test_the_map_is_as_at_the_pages_date(client):
    # Aylesbury Vale, ended 31 March 2020, drawn as its 2019 district; Buckinghamshire's
    # unitary as its 2021 one.
    html = page(client, "/doc/statistical-geography/E07000004?date=2019-06-01")
    assert "Aylesbury Vale (E07000004), filled, as its 2019 (BUC) boundary drew it" in html
    html = page(client, "/doc/statistical-geography/E06000060?date=2021-06-01")
    assert "Buckinghamshire (E06000060), filled, as its 2021 (BGC) boundary drew it" in html


def test_a_region_shows_the_districts_within_it(client):
    html = page(client, "/doc/statistical-geography/E12000009?date=2024-06-01")
    assert "outlined: England (E92000001); faint: the 27 areas within it (" in html
    assert "/doc/statistical-geography/E06000066?date=2024-06-01" in links(svg_of(html))


def test_an_area_without_a_boundary_has_no_map(client):
    html = page(client, "/doc/statistical-geography/E04012089")
    assert '<svg class="map"' not in html


def test_geojson_by_suffix_and_by_accept(client):
    response = client.get("/doc/statistical-geography/W06000015.geojson?date=2025-06-01")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    props = feature["properties"]
    assert (props["code"], props["name"], props["vintage"], props["generalisation"]) == (
        "W06000015",
        "Cardiff",
        "2025",
        "BGC",
    )
    assert OS in props["attribution"]
    assert 138e6 < props["area_generalised_m2"] < 143e6
    by_accept = client.get(
        "/doc/statistical-geography/W06000015?date=2025-06-01",
        HTTP_ACCEPT="application/geo+json",
    )
    assert by_accept["Content-Type"] == "application/geo+json"
    assert by_accept.json()["properties"]["vintage"] == "2025"
    # Browsers still get the page.
    html = client.get("/doc/statistical-geography/W06000015", HTTP_ACCEPT="text/html")
    assert html["Content-Type"].startswith("text/html")


def test_simplify_tolerance_simplifies_and_bad_values_are_400(client):
    full = client.get("/doc/statistical-geography/W06000015.geojson").json()
    simple = client.get(
        "/doc/statistical-geography/W06000015.geojson?simplify_tolerance=0.01"
    ).json()
    count = lambda f: len(re.findall(r"\[-?\d+\.\d+, -?\d+\.\d+\]", str(f["geometry"])))  # noqa: E731
    assert count(simple) < count(full) / 5
    for bad in ("x", "-1", "nan", "5"):
        response = client.get(
            f"/doc/statistical-geography/W06000015.geojson?simplify_tolerance={bad}"
        )
        assert response.status_code == 400
        assert "simplify_tolerance" in response.json()["detail"]
    assert (
        client.get("/doc/statistical-geography/W06000015.geojson?date=2019-13-01").status_code
        == 400
    )


def test_geojson_of_an_area_without_a_boundary_on_the_date_is_404(client):
    response = client.get("/doc/statistical-geography/W06000015.geojson?date=2012-01-01")
    assert response.status_code == 404
    assert response.json()["detail"] == (
        "The registry holds no boundary of W06000015 for 2012-01-01."
    )
    assert client.get("/doc/statistical-geography/E07999999.geojson").status_code == 404


def test_the_rdf_carries_the_boundary_as_geosparql_wkt(client):
    from rdflib import Graph, Namespace, URIRef

    geo = Namespace("http://www.opengis.net/ont/geosparql#")
    response = client.get("/doc/statistical-geography/W06000015.ttl?date=2025-06-01")
    graph = Graph().parse(data=response.content, format="turtle")
    thing = next(s for s in graph.subjects(geo.hasGeometry, None))
    assert str(thing).endswith("/id/statistical-geography/W06000015")
    node = graph.value(thing, geo.hasGeometry)
    assert node == URIRef(f"{thing}#geometry-2025")
    wkt = graph.value(node, geo.asWKT)
    assert wkt.datatype == geo.wktLiteral
    assert str(wkt).startswith(("POLYGON", "MULTIPOLYGON"))
    import shapely

    shape = shapely.from_wkt(str(wkt))
    assert shape.covers(shapely.Point(-3.1791, 51.4816))
    # Every RDF format gives the same triples.
    xml = Graph().parse(
        data=client.get("/doc/statistical-geography/W06000015.rdf?date=2025-06-01").content,
        format="xml",
    )
    assert xml.value(node, geo.asWKT) == wkt


COMPLEX = "complex change (redistribution between several areas)"


def test_the_front_page_maps_the_districts_with_the_years_changes_linked(client):
    html = page(client, "/?date=2023-06-01")
    found = re.search(r'<svg class="map map--overview".*?</svg>', html, re.S)
    assert found, "no overview map on the front page"
    svg = ElementTree.fromstring(found.group(0))  # noqa: S314 - our own page
    title = (
        "Map of the United Kingdom’s 361 local authority districts on 1 June 2023, with the 4 "
        "made or changed in 2023 highlighted"
    )
    assert svg.find("s:title", NS).text == title
    assert svg.get("role") is None  # not an image: the links inside it are read out
    anchors = {a.get("aria-label"): a.get("href") for a in svg.iter(f"{{{NS['s']}}}a")}
    assert anchors == {
        f"Cumberland (E06000063): {COMPLEX}, 1 April 2023": "/doc/change-event/2023-04-01-E06000063",
        "North Yorkshire (E06000065): merge, 1 April 2023": "/doc/change-event/2023-04-01-E06000065",
        "Somerset (E06000066): merge, 1 April 2023": "/doc/change-event/2023-04-01-E06000066",
        f"Westmorland and Furness (E06000064): {COMPLEX}, 1 April 2023": (
            "/doc/change-event/2023-04-01-E06000063"
        ),
    }
    # The other districts are one path, hidden from assistive technology.
    [plain] = svg.findall("s:path", NS)
    assert plain.get("aria-hidden") == "true"
    caption = re.search(r'map-figure--overview">.*?<figcaption>(.*?)</figcaption>', html, re.S)
    text = caption.group(1)
    assert text.startswith(f"{title}. Highlighted, each a link to its change: Cumberland")
    assert "Somerset (E06000066): merge, 1 April 2023" in text
    assert OS in text
    assert len(found.group(0)) < 200_000  # small enough for a front page


def test_the_front_page_map_is_as_at_its_date(client):
    html = page(client, "/?date=2025-06-01")
    assert "with the 2 made or changed in 2025 highlighted" in html
    assert 'href="/doc/change-event/2025-04-01-E08000016"' in html  # Barnsley's boundary
    html = page(client, "/?date=2021-06-01")
    assert "districts on 1 June 2021, with the 2 made or changed in 2021 highlighted" in html
    # Before the first district boundary there is no map.
    assert "map--overview" not in page(client, "/?date=2012-06-01")
