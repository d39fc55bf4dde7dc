"""URL configuration: the admin, and the public interfaces in ``api.urls``."""

from django.contrib import admin
from django.urls import include, path

from geography.admin_views import change_import_apply, change_import_view

# Every exception no view handled: a database outage is a 503 with Retry-After (api/service.py).
handler500 = "api.service.server_error"
# A path nothing answers: the site's own 404 page (or problem+json under /api/).
handler404 = "api.service.page_not_found"

urlpatterns = [
    path(
        "admin/change-import/",
        admin.site.admin_view(change_import_view),
        name="change-import",
    ),
    path(
        "admin/change-import/apply/",
        admin.site.admin_view(change_import_apply),
        name="change-import-apply",
    ),
    path("admin/", admin.site.urls),
    path("", include("api.urls")),
]
