"""The search page of a novel (staff only): a query box, a spoiler-safe chapter limit, and ranked
passages with their chapter, a highlighted excerpt and the characters they name.

A plain GET form rendered on the server; text from the novel and the query reach the page only
through the template's escaping.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from graph import passage_index, search
from graph.llm.zhipu import ZhipuError
from graph.models import Novel

TOP = 20  # passages shown


def _chapter_limit(raw: str | None, last: int) -> int | None:
    """The chapter limit asked for, or None (the whole novel) when absent, invalid or past the end."""
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if 1 <= value < last else None


@staff_member_required
def novel_search(request: HttpRequest, novel_id: int) -> HttpResponse:
    novel = get_object_or_404(Novel, pk=novel_id)
    query = " ".join(request.GET.get("q", "").split())
    last = passage_index.last_chapter(novel)
    chapter_max = _chapter_limit(request.GET.get("chapter"), last)
    results, error = None, ""
    if query:
        try:
            results = search.search(novel, query, top=TOP, chapter_max=chapter_max)
        except search.SearchError as exc:
            error = str(exc)
        except ZhipuError as exc:
            error = exc.user_line
    context = {
        **admin.site.each_context(request),
        "title": f"《{novel.title}》段落搜索",
        "novel": novel,
        "opts": Novel._meta,
        "query": query,
        "chapter": chapter_max or last,
        "last_chapter": last,
        "results": results,
        "error": error,
    }
    return render(request, "graph/novel_search.html", context)
