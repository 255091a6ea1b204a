"""Admin for the graph itself: characters, their attributes, relations and phases."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal

from graph import export, metrics
from graph.admin.common import (
    ManualEdits,
    column,
    count_of,
    preview,
)
from graph.models import (
    Character,
    CharacterAttribute,
    Novel,
    Relation,
    RelationPhase,
)


def alias_q(word: str) -> Q:
    """Match `word` inside the JSON list of aliases on SQLite and PostgreSQL alike.

    `Character.aliases` is written with `ReadableJSONEncoder`, so Chinese is stored as itself and
    plain `icontains` finds it on both databases; a list written by plain `json.dumps` (rows
    loaded from a fixture or by hand in SQL) holds \\uXXXX escapes instead, so that spelling is
    searched too.
    """
    q = Q(aliases__icontains=word)
    escaped = json.dumps(word)[1:-1]
    return q | Q(aliases__icontains=escaped) if escaped != word else q


class CharacterForm(forms.ModelForm):
    class Meta:
        model = Character
        fields = ["novel", "name", "aliases", "aliases_locked"]
        help_texts = {"aliases": 'JSON 列表，例如 ["悟空", "孙行者"]。修改后流水线重跑会保留。'}

    def clean_aliases(self) -> list[str]:
        value = self.cleaned_data.get("aliases") or []
        if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
            raise forms.ValidationError("别名必须是字符串列表 (a JSON list of strings)。")
        return list(dict.fromkeys(a.strip() for a in value if a.strip()))


character_relations = column("relations_n", "关系数")


def attach_metrics(characters: Iterable[Character]) -> None:
    """Set `graph_metrics` on each character: two queries, one computation per novel. Per request,
    since the objects live only as long as the page being rendered."""
    characters = list(characters)
    novels = Novel.objects.filter(pk__in={c.novel_id for c in characters})
    by_novel = {pk: metrics.compute(graph) for pk, graph in export.build_graphs(novels).items()}
    for character in characters:
        character.graph_metrics = by_novel.get(character.novel_id, {}).get(character.name, {})


def metric(key: str, description: str) -> Callable[[Character], Any]:
    """A read-only column of `graph.metrics` (computed for the whole novel on first use)."""

    @admin.display(description=description)
    def show(obj: Character) -> Any:
        if not hasattr(obj, "graph_metrics"):
            attach_metrics([obj])
        return obj.graph_metrics.get(key, "—")

    show.__name__ = key
    return show


METRIC_COLUMNS = [metric("degree", "度"), metric("weighted_degree", "加权度"),
                  metric("betweenness", "介数中心性"), metric("community", "社群")]  # fmt: skip


class CharacterAttributeInline(admin.TabularInline):
    model = CharacterAttribute
    extra = 0
    fields = ["key", "value", "origin"]


@admin.register(Character)
class CharacterAdmin(ManualEdits):
    form = CharacterForm
    inlines = [CharacterAttributeInline]
    list_display = ["name", "alias_list", "novel", "mention_count", "first_chapter",
                    "last_chapter", "rank", character_relations, *METRIC_COLUMNS,
                    "aliases_locked", "is_person"]  # fmt: skip
    list_filter = ["novel", "is_person", "aliases_locked"]
    list_select_related = ["novel"]
    search_fields = ["name"]  # aliases too: see get_search_results
    readonly_fields = ["mention_count", "first_chapter", "last_chapter", "rank",
                       character_relations, *METRIC_COLUMNS]  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[Character]:
        return (
            super()
            .get_queryset(request)
            .annotate(relations_n=count_of(Relation, "source") + count_of(Relation, "target"))
        )

    def get_changelist_instance(self, request: HttpRequest):
        # One metrics computation per novel on the page, not one per row and column.
        changelist = super().get_changelist_instance(request)
        attach_metrics(changelist.result_list)
        return changelist

    def get_search_results(self, request, queryset, search_term):
        """Every word must match the name or one of the aliases (a JSONField)."""
        for word in smart_split(search_term):
            if word[:1] in "\"'" and word[-1:] == word[:1]:
                word = unescape_string_literal(word)
            queryset = queryset.filter(Q(name__icontains=word) | alias_q(word))
        return queryset, False

    def save_model(self, request, obj: Character, form, change: bool) -> None:
        # A person's edit wins over discovery: re-running the pipeline keeps these aliases.
        changed = set(form.changed_data)
        if changed & {"aliases", "name"} and "aliases_locked" not in changed:
            obj.aliases_locked = True
        super().save_model(request, obj, form, change)  # attributes edited inline: manual

    @admin.display(description="别名")
    def alias_list(self, obj: Character) -> str:
        return alias_cell(obj.aliases)


ALIAS_CELL_CHARS = 24  # shown in the list; the whole list is the cell's tooltip


def alias_cell(aliases: object) -> str:
    """The aliases on one line of at most ALIAS_CELL_CHARS characters, all of them as a tooltip.

    Chinese breaks between any two characters, so a plain cell in a wide table shrinks to one
    character and grows one line per character; this one keeps a readable width.
    """
    text = "、".join(map(str, aliases)) if isinstance(aliases, list) else str(aliases or "")
    if not text:
        return "—"
    shown = text if len(text) <= ALIAS_CELL_CHARS else text[: ALIAS_CELL_CHARS - 1] + "…"
    return format_html(
        '<span class="alias-list" title="{}" style="display: inline-block; min-width: 6em; '
        "max-width: 16em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; "
        'vertical-align: bottom;">{}</span>',
        text,
        shown,
    )


@admin.register(CharacterAttribute)
class CharacterAttributeAdmin(ManualEdits):
    list_display = ["character", "key", "value", "origin"]
    list_filter = ["key", "origin", "character__novel"]
    list_select_related = ["character"]
    search_fields = ["character__name", "value"]
    raw_id_fields = ["character"]


class RelationPhaseInline(admin.TabularInline):
    model = RelationPhase
    extra = 0
    fields = ["from_chapter", "to_chapter", "type", "event", "origin"]


@admin.register(Relation)
class RelationAdmin(ManualEdits):
    inlines = [RelationPhaseInline]
    list_display = ["source", "target", "type", "confidence", "cooccurrence", "span", "origin",
                    "novel"]  # fmt: skip
    list_display_links = ["source", "target"]
    list_filter = ["type", "origin", "novel"]
    list_select_related = ["novel", "source", "target"]
    search_fields = ["source__name", "target__name"]
    raw_id_fields = ["source", "target"]
    readonly_fields = ["pair_key", "snippet_list"]
    snippet_list = preview("snippets", "共现片段 (snippets)")
    exclude = ["snippets"]

    @admin.display(description="章节跨度 (span)", ordering="first_chapter")
    def span(self, obj: Relation) -> str:
        if obj.first_chapter is None:
            return "—"
        return f"{obj.first_chapter}–{obj.last_chapter}"


@admin.register(RelationPhase)
class RelationPhaseAdmin(ManualEdits):
    list_display = ["relation", "from_chapter", "to_chapter", "type", "origin"]
    list_filter = ["type", "origin", "relation__novel"]
    list_select_related = ["relation__source", "relation__target"]
    search_fields = ["relation__source__name", "relation__target__name", "event"]
    raw_id_fields = ["relation"]
