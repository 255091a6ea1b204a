"""Admin for novels and their chapters."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Length
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from graph.admin.common import (
    ErrorFilter,
    column,
    count_of,
    has_error,
    read_only,
)
from graph.models import (
    SETTLED,
    UNANSWERED,
    Chapter,
    Character,
    LLMTask,
    Novel,
    NovelVersion,
    Relation,
)


def version_tasks(value=None, **filters) -> Coalesce:
    """A correlated subquery over the tasks a version asked: their count, or the sum of `value`."""
    rows = (
        LLMTask.objects.filter(novel=OuterRef("novel"), version=OuterRef("number"), **filters)
        .order_by()
        .values("novel")
        .annotate(n=Sum(value) if value is not None else Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


class NovelVersionInline(admin.TabularInline):
    """Each upload that created or extended the novel, and what its questions cost."""

    model = NovelVersion
    extra = 0
    can_delete = False
    verbose_name_plural = "版本 (versions)：每次上传新增或修改的章节与问题数"
    fields = ["number", "chapters", "added", "edited", "char_count", "source_name", "created",
              "questions", "settled", "failures", "tokens"]  # fmt: skip
    readonly_fields = fields
    questions = staticmethod(column("questions_n", "问题数 (questions)"))
    settled = staticmethod(column("settled_n", "已完成 (settled)"))
    failures = staticmethod(column("failures_n", "失败/默认 (failures)"))
    tokens = staticmethod(column("tokens_n", "tokens"))

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # versions come from upload_novel

    def get_queryset(self, request: HttpRequest) -> QuerySet[NovelVersion]:
        return (
            super()
            .get_queryset(request)
            .defer("roster", "changed")
            .annotate(
                questions_n=version_tasks(),
                settled_n=version_tasks(status__in=SETTLED),
                failures_n=version_tasks(status__in=UNANSWERED),
                tokens_n=version_tasks(F("prompt_tokens") + F("completion_tokens")),
            )
        )


@admin.register(Novel)
class NovelAdmin(admin.ModelAdmin):
    list_display = ["title", "stage", "mode", "provisional_mark", column("versions_n", "版本"),
                    column("chapters_n", "章节数"),
                    column("characters_n", "人物数"), column("relations_n", "关系数"), "tasks",
                    column("failures_n", "失败/默认 (failures)"), has_error, "created",
                    "graph_link", "search_link"]  # fmt: skip
    list_filter = ["stage", "mode", "provisional", ErrorFilter]
    search_fields = ["title", "sha256", "source_name"]
    readonly_fields = [*read_only(Novel, "title", "stage", "mode"), "graph_link", "search_link"]
    inlines = [NovelVersionInline]

    @admin.display(description="临时图谱", ordering="provisional")
    def provisional_mark(self, obj: Novel) -> str:
        """Blank for a final graph (a red "no" icon would read as an error)."""
        return "临时（离线规则，等待批处理结果）" if obj.provisional else ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # novels come from upload_novel (the sha256 is the file's)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Novel]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                versions_n=count_of(NovelVersion, "novel"),
                chapters_n=count_of(Chapter, "novel"),
                characters_n=count_of(Character, "novel"),
                relations_n=count_of(Relation, "novel"),
                tasks_n=count_of(LLMTask, "novel"),
                settled_n=count_of(LLMTask, "novel", status__in=SETTLED),
                failures_n=count_of(LLMTask, "novel", status__in=UNANSWERED),
            )
        )

    @admin.display(description="任务 已完成/总数 (settled/total)", ordering="tasks_n")
    def tasks(self, obj: Novel) -> str:
        return f"{obj.settled_n}/{obj.tasks_n}"

    @admin.display(description="图谱")
    def graph_link(self, obj: Novel) -> str:
        return format_html('<a href="{}">查看图谱</a>', reverse("graph:novel_graph", args=[obj.pk]))

    @admin.display(description="搜索")
    def search_link(self, obj: Novel) -> str:
        return format_html(
            '<a href="{}">搜索段落</a>', reverse("graph:novel_search", args=[obj.pk])
        )


@admin.register(Chapter)
class ChapterAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "novel", column("length_n", "字数")]
    list_display_links = ["number", "title"]
    list_filter = ["novel"]
    list_select_related = ["novel"]
    search_fields = ["title"]
    readonly_fields = ["text", "digest"]
    fieldsets = [
        (None, {"fields": ["novel", "number", "title", "digest"]}),
        ("正文 (text)", {"fields": ["text"], "classes": ["collapse"]}),
    ]  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[Chapter]:
        # The list needs the length, not megabytes of text.
        rows = super().get_queryset(request).defer("text", "mentions", "pairs")
        return rows.annotate(length_n=Length("text"))
