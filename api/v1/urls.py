"""The lookup API, version 1, mounted at ``/api/v1/`` (namespace ``api-v1``)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from .views import base, batch, entries, events, points, reference_lists

app_name = "api-v1"

ENTRY = "entries/<slug:register>/<str:key>/"

urlpatterns = [
    path("", base.ApiRootView.as_view(), name="root"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-v1:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-v1:schema"), name="redoc"),
    path("registers/", reference_lists.RegisterListView.as_view(), name="register-list"),
    path(
        "registers/<slug:register>/",
        reference_lists.RegisterDetailView.as_view(),
        name="register-detail",
    ),
    path("entries/<slug:register>/", entries.EntryListView.as_view(), name="entry-list"),
    path(ENTRY, entries.EntryDetailView.as_view(), name="entry-detail"),
    path(f"{ENTRY}children/", entries.ChildrenView.as_view(), name="entry-children"),
    path(f"{ENTRY}ancestors/", entries.AncestorsView.as_view(), name="entry-ancestors"),
    path(f"{ENTRY}current/", entries.CurrentView.as_view(), name="entry-current"),
    path(f"{ENTRY}history/", entries.HistoryView.as_view(), name="entry-history"),
    path(f"{ENTRY}versions/", entries.VersionListView.as_view(), name="entry-versions"),
    path(
        f"{ENTRY}versions/<int:number>/", entries.VersionDetailView.as_view(), name="entry-version"
    ),
    path("entity-types/", reference_lists.EntityTypeListView.as_view(), name="entity-type-list"),
    path(
        "entity-types/<str:key>/",
        reference_lists.EntityTypeDetailView.as_view(),
        name="entity-type",
    ),
    path(
        "entity-types/<str:key>/entries/",
        reference_lists.EntityTypeEntriesView.as_view(),
        name="entity-type-entries",
    ),
    path("identifiers/", reference_lists.SchemeListView.as_view(), name="scheme-list"),
    path(
        "identifiers/<slug:scheme>/<path:value>/",
        reference_lists.IdentifierView.as_view(),
        name="identifier",
    ),
    path("events/", events.EventListView.as_view(), name="event-list"),
    path("events/<str:key>/", events.EventDetailView.as_view(), name="event-detail"),
    path("lookup/", batch.BulkLookupView.as_view(), name="bulk-lookup"),
    path("check/", batch.CheckerView.as_view(), name="check"),
    # Which areas contain a point on a date (api/v1/views/points.py).
    path("point/", points.BulkPointView.as_view(), name="point-bulk"),
    re_path(
        r"^point/(?P<srid>4326|27700)/(?P<coordinates>[^/]+)$",
        points.PointView.as_view(),
        name="point-srid",
    ),
    re_path(r"^point/(?P<coordinates>[^/]+)$", points.PointView.as_view(), name="point"),
    # A file checked through the web form, while it is kept (api.v1.results).
    path("check/results/<str:token>/<str:filename>", batch.checked_file, name="check-result"),
    # Anything else ending in a slash (others get APPEND_SLASH's redirect first) is a 404 problem.
    re_path(r"^(?:.*/)?$", base.not_found),
]
