from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # Before the admin: its catch-all would otherwise answer these URLs.
    path("admin/graph/", include("graph.urls")),
    path("admin/", admin.site.urls),
]
