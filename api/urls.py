"""The public interfaces: web pages, persistent URIs and documents, the lookup API and the
reconciliation service."""

from django.urls import include, path, re_path

from api import feed, service, sparql
from api.reconcile import views as reconcile

urlpatterns = [
    # For load balancers and orchestrators: alive, and ready (database up, data loaded).
    path("healthz", service.healthz, name="healthz"),
    path("readyz", service.readyz, name="readyz"),
    # Reconciliation (OpenRefine): /reconcile and /reconcile/ are the same 0.2 endpoint.
    path("reconcile", reconcile.service),
    path("reconcile/", include("api.reconcile.urls")),
    # SPARQL 1.1 Query and Protocol, read-only (api/sparql.py).
    path("sparql", sparql.endpoint, name="sparql"),
    # The change feed, for mirrors (api/feed.py).
    re_path(r"^feed(?:\.(?P<format>jsonl|atom))?$", feed.items, name="feed"),
    path("feed/head", feed.summary, name="feed-head"),
    path("feed/<int:sequence>", feed.item, name="feed-item"),
    path("", include("api.site_urls")),
    path("api/v1/curation/", include("api.curation")),
    path("api/v1/", include("api.v1.urls")),
]
