"""The graph page of a novel (staff only) and the JSON it is drawn from.

The page is a shell in the admin's look; `novel_graph.js` fetches `graph_data` once and does the
filtering (relation types, minimum co-occurrence, chapter slider) in the browser, so moving the
slider costs no request. Names from the novel only ever reach the page as JSON data.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from graph import export, metrics, taxonomy
from graph.models import Novel
from graph.names import KIN_ADDRESS, TITLES

ATTRIBUTE_LABELS = {
    "gender": "性别",
    "identity": "身份",
    "faction": "阵营",
    "abilities": "能力",
    "traits": "性格",
    "aliases": "模型给出的别名",
}
# Birth-order kin nouns (长子, 次女, 幼子): discovery may keep them as characters, but they name a
# role, not a person, so the community legend does not name a group after them.
_KIN_ROLE = re.compile(r"[长次幼嫡庶大二三四五六七八九十小老]?[子女儿孙侄婿]")


def role_word(name: str) -> bool:
    """Whether a character's name is a bare title, role or kin word rather than a name."""
    return name in TITLES or name in KIN_ADDRESS or bool(_KIN_ROLE.fullmatch(name))


@staff_member_required
def novel_graph(request: HttpRequest, novel_id: int) -> HttpResponse:
    novel = get_object_or_404(Novel, pk=novel_id)
    config = {
        "data_url": reverse("graph:novel_graph_data", args=[novel.pk]),
        "attribute_labels": ATTRIBUTE_LABELS,
    }
    context = {
        **admin.site.each_context(request),
        "is_nav_sidebar_enabled": False,  # the drawing needs the width
        "title": f"《{novel.title}》人物关系图谱",
        "novel": novel,
        "opts": Novel._meta,
        "config": config,
    }
    return render(request, "graph/novel_graph.html", context)


@staff_member_required
def novel_graph_data(request: HttpRequest, novel_id: int) -> JsonResponse:
    novel = get_object_or_404(Novel, pk=novel_id)
    return JsonResponse(graph_data(novel), json_dumps_params={"ensure_ascii": False})


def graph_data(novel: Novel) -> dict[str, Any]:
    """Everything the page draws: the novel, the relation types, nodes with metrics, edges.

    Seven queries whatever the size: the four of `build_graph`, chapters, character ids, snippets.
    """
    graph = export.metric_graph(novel)
    chapters = novel.chapters.aggregate(last=Max("number"))["last"] or 0
    types = [
        {"code": code, "label": label, "directed": code in taxonomy.DIRECTED}
        for code, label in taxonomy.LABELS.items()
    ]
    return {
        "novel": {
            "id": novel.pk,
            "title": novel.title,
            "chapters": chapters,
            "provisional": novel.provisional,
        },
        "types": types,
        "default_type": taxonomy.DEFAULT_TYPE,
        "nodes": _nodes(novel, graph),
        "edges": _edges(novel, graph),
    }


def _nodes(novel: Novel, graph) -> list[dict[str, Any]]:
    """The page's nodes: names, attributes, metrics and a link to each character's admin page."""
    ids = dict(novel.characters.values_list("name", "pk"))
    change_url = reverse("admin:graph_character_change", args=[0]).replace("/0/", "/{id}/")
    return [
        {
            "id": name,
            "name": name,
            "aliases": data["aliases"],
            "attributes": data["attributes"],
            "mentions": data["mentions"],
            "role_word": role_word(name),
            "first_chapter": data["first_chapter"],
            "last_chapter": data["last_chapter"],
            **{key: data[key] for key in metrics.KEYS},
            "admin_url": change_url.replace("{id}", str(ids[name])),
        }
        for name, data in graph.nodes(data=True)
    ]


def _edges(novel: Novel, graph) -> list[dict[str, Any]]:
    """The page's edges: type, counts, timeline (with type codes) and the evidence snippets."""
    snippets = {
        (source, target): rows if isinstance(rows, list) else []
        for source, target, rows in novel.relations.values_list(
            "source__name", "target__name", "snippets"
        )
    }
    return [
        {
            "source": source,
            "target": target,
            "type": data["type"],
            "type_code": data["type_code"],
            "directed": data["directed"],
            "confidence": data["confidence"],
            "cooccurrences": data["cooccurrences"],
            "first_chapter": data["first_chapter"],
            "last_chapter": data["last_chapter"],
            "evidence": data["evidence"],
            "phases": [
                {**phase, "type_code": taxonomy.CODE_BY_LABEL.get(phase["type"], phase["type"])}
                for phase in data["phases"]
            ],
            "snippets": snippets.get((source, target), []),
        }
        for source, target, data in graph.edges(data=True)
    ]
