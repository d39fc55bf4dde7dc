"""Routes under ``/reconcile/``: the 0.2 service and its suggest, preview, view and property
proposal endpoints, and the 1.0-draft service under ``v1/``. ``/reconcile`` without the slash
is routed to the same service in ``api/urls.py``."""

from django.urls import path, re_path

from . import views

urlpatterns = [
    path("", views.service, name="reconcile"),
    path("suggest/entity", views.suggest_entity, name="reconcile-suggest-entity"),
    path("suggest/type", views.suggest_type, name="reconcile-suggest-type"),
    path("suggest/property", views.suggest_property, name="reconcile-suggest-property"),
    path("extend/propose", views.propose_properties, name="reconcile-propose"),
    # (?s): an id is anything, a line break too (a path converter would leave a trailing
    # "%0A" to Django's HTML 404, without CORS); the preview's may be empty too, so that the
    # preview pane shows its HTML "not found" rather than a JSON 404.
    re_path(r"^preview/(?P<ident>(?s:.*))\Z", views.preview, name="reconcile-preview"),
    re_path(r"^view/(?P<ident>(?s:.+))\Z", views.view, name="reconcile-view"),
    path("v1", views.v1_manifest),
    path("v1/", views.v1_manifest, name="reconcile-v1"),
    path("v1/match", views.v1_match, name="reconcile-v1-match"),
    path("v1/suggest/entity", views.suggest_entity, {"v1": True}),
    path("v1/suggest/type", views.suggest_type, {"v1": True}),
    path("v1/suggest/property", views.suggest_property, {"v1": True}),
    path("v1/preview", views.preview, name="reconcile-v1-preview"),
    path("v1/extend", views.v1_extend, name="reconcile-v1-extend"),
    path("v1/extend/propose", views.propose_properties),
    re_path(r"^(?P<rest>(?s:.+))\Z", views.not_found),
]
