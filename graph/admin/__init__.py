"""The admin, built for inspection: novels, the graph, and the model work behind it."""

from django.contrib import admin

from graph.admin import characters, identity, novels, work  # noqa: F401  (registers the model admins)

admin.site.site_header = "novelgraph 人物关系图谱"
admin.site.site_title = "novelgraph 人物关系图谱"
admin.site.index_title = "图谱数据 (graph data)"
