"""The site's URLs plus ``/benchmark/ceiling``: a minimal view with a fixed JSON body."""

from django.http import HttpResponse
from django.urls import include, path

BODY = b'{"register":"statistical-geography","key":"E07000004","name":"Aylesbury Vale"}'


def ceiling(request):
    return HttpResponse(BODY, content_type="application/json")


urlpatterns = [
    path("benchmark/ceiling", ceiling),
    path("", include("config.urls")),
]
