"""The public interfaces: web pages, persistent URIs and documents, the lookup API and the
reconciliation service."""

from django.urls import include, path

urlpatterns = [
    path("", include("api.site_urls")),
    path("api/v1/curation/", include("api.curation")),
    path("api/v1/", include("api.v1.urls")),
]
