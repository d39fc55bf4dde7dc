"""What nginx in front may keep (deploy/nginx.conf's cache of public reads): X-Accel-Expires on
answers marked public, never longer than their max-age or REGISTRY_FRONT_CACHE_SECONDS, and on
nothing private. .ci/proxy-check runs nginx itself in front of a live server."""

import pytest
from django.http import HttpResponse

from api import http


@pytest.mark.parametrize(
    ("front", "max_age", "view_set", "status", "expected"),
    [
        (10, 3600, None, 200, "10"),  # a document: nginx keeps it 10 s, clients an hour
        (10, 5, None, 200, "5"),  # never longer than the answer's own max-age
        (10, None, None, 200, None),  # not marked cacheable at all
        (0, 3600, None, 200, None),  # the front cache switched off
        (10, 3600, "no-store", 200, None),  # the view's own Cache-Control stands, not kept
        (10, 3600, "private, max-age=60", 200, None),
        (10, 0, None, 200, None),  # max-age=0: not kept in front either
        (10, 3600, None, 303, "10"),  # the /id/ redirect
        (10, 3600, None, 404, None),  # errors are never kept
        (10, 3600, None, 412, None),
        (10, 3600, None, 503, None),
    ],
)
def test_publish_marks_what_nginx_may_keep(settings, front, max_age, view_set, status, expected):
    settings.REGISTRY_FRONT_CACHE_SECONDS = front
    response = HttpResponse(b"{}", status=status)
    if view_set:
        response["Cache-Control"] = view_set
    http.publish(response, max_age=max_age)
    assert response.get("X-Accel-Expires") == expected
    if view_set:
        assert response["Cache-Control"] == view_set


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        ("/doc/statistical-geography/E07000004.json", 200, "10"),
        ("/doc/statistical-geography/E07000004", 200, "10"),
        ("/id/statistical-geography/E07000004", 303, "10"),
        ("/api/v1/entries/statistical-geography/E07000004/", 200, "10"),
        ("/readyz", 200, None),
        ("/admin/login/", 200, None),
        ("/doc/statistical-geography/E06999999.json", 404, None),  # an error
        ("/downloads/statistical-entity.csv.gz", 200, None),  # a streamed download
    ],
)
def test_public_reads_are_marked_and_others_are_not(client, path, status, expected):
    response = client.get(path)
    assert response.status_code == status
    assert response.get("X-Accel-Expires") == expected


@pytest.mark.django_db
def test_a_page_varies_on_the_cookie_that_chooses_its_language(client):
    # nginx keeps a variant per Vary (and the language cookie is in its key too): an English
    # page is never the Welsh reader's.
    english = client.get("/doc/statistical-geography/W06000015")
    client.cookies["registry_language"] = "cy"
    welsh = client.get("/doc/statistical-geography/W06000015")
    assert "Cookie" in english["Vary"] and "Cookie" in welsh["Vary"]
    assert english["Content-Language"] == "en-GB" and welsh["Content-Language"] == "cy"
    assert english["X-Accel-Expires"] == welsh["X-Accel-Expires"] == "10"
