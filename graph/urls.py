"""The graph page, its data and the search page, mounted under `admin/graph/` next to the admin (staff only)."""

from django.urls import path

from graph import search_views, views

app_name = "graph"

urlpatterns = [
    path("novels/<int:novel_id>/", views.novel_graph, name="novel_graph"),
    path("novels/<int:novel_id>/data.json", views.novel_graph_data, name="novel_graph_data"),
    path("novels/<int:novel_id>/search/", search_views.novel_search, name="novel_search"),
]
