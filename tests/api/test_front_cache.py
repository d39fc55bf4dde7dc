"""What nginx in front may keep (deploy/nginx.conf's cache of public reads): X-Accel-Expires on
answers marked public, never longer than their max-age or REGISTRY_FRONT_CACHE_SECONDS, and on
nothing private. .ci/proxy-check runs nginx itself in front of a live server."""

import pytest
from django.http import HttpResponse

from api import http


@pytest.mark.parametrize(
    ("front", "max_age", "view_set", "expected"),
    [
        (10, 3600, None, "10"),  # a document: nginx keeps it 10 s, clients an hour
        (10, 5, None, "5"),  # never longer than the answer's own max-age
        (10, None, None, None),  # not marked cacheable at all
        (0, 3600, None, None),  # the front cache switched off
        (10, 3600, "no-store", None),  # the view's own Cache-Control stands, and nothing is kept
        (10, 3600, "private, max-age=60", None),
        (10, 0, None, None),  # max-age=0: not kept in front either
    ],
)
def test_publish_marks_what_nginx_may_keep(settings, front, max_age, view_set, expected):
    settings.REGISTRY_FRONT_CACHE_SECONDS = front
    response = HttpResponse(b"{}")
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
    ],
)
def test_public_reads_are_marked_and_others_are_not(client, path, status, expected):
    response = client.get(path)
    assert response.status_code == status
    assert response.get("X-Accel-Expires") == expected
