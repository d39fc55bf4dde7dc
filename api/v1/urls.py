"""The lookup API, version 1, mounted at ``/api/v1/`` (namespace ``api-v1``)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import views

app_name = "api-v1"

ENTRY = "entries/<slug:register>/<str:key>/"

urlpatterns = [
    path("", views.ApiRootView.as_view(), name="root"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-v1:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-v1:schema"), name="redoc"),
    path("registers/", views.RegisterListView.as_view(), name="register-list"),
    path("registers/<slug:register>/", views.RegisterDetailView.as_view(), name="register-detail"),
    path("entries/<slug:register>/", views.EntryListView.as_view(), name="entry-list"),
    path(ENTRY, views.EntryDetailView.as_view(), name="entry-detail"),
    path(f"{ENTRY}children/", views.ChildrenView.as_view(), name="entry-children"),
    path(f"{ENTRY}ancestors/", views.AncestorsView.as_view(), name="entry-ancestors"),
    path(f"{ENTRY}current/", views.CurrentView.as_view(), name="entry-current"),
    path(f"{ENTRY}history/", views.HistoryView.as_view(), name="entry-history"),
    path(f"{ENTRY}versions/", views.VersionListView.as_view(), name="entry-versions"),
    path(f"{ENTRY}versions/<int:number>/", views.VersionDetailView.as_view(), name="entry-version"),
    path("entity-types/", views.EntityTypeListView.as_view(), name="entity-type-list"),
    path("entity-types/<str:key>/", views.EntityTypeDetailView.as_view(), name="entity-type"),
    path(
        "entity-types/<str:key>/entries/",
        views.EntityTypeEntriesView.as_view(),
        name="entity-type-entries",
    ),
    path("identifiers/", views.SchemeListView.as_view(), name="scheme-list"),
    path(
        "identifiers/<slug:scheme>/<path:value>/",
        views.IdentifierView.as_view(),
        name="identifier",
    ),
    path("events/", views.EventListView.as_view(), name="event-list"),
    path("events/<str:key>/", views.EventDetailView.as_view(), name="event-detail"),
    path("lookup/", views.BulkLookupView.as_view(), name="bulk-lookup"),
    path("check/", views.CheckerView.as_view(), name="check"),
    # Anything else ending in a slash (others get APPEND_SLASH's redirect first) is a 404 problem.
    re_path(r"^(?:.*/)?$", views.not_found),
]
