"""The admin, built for inspection: counts per row, error filters, read-only identifiers, small actions."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Length
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal

from graph import metrics
from graph.models import (
    BatchJob,
    Chapter,
    Character,
    CharacterAttribute,
    LLMTask,
    Novel,
    Origin,
    Relation,
    RelationPhase,
)

admin.site.site_header = "novelgraph 人物关系图谱"
admin.site.site_title = "novelgraph 人物关系图谱"
admin.site.index_title = "图谱数据 (graph data)"

PREVIEW_CHARS = 20_000
SETTLED = (LLMTask.Status.SUCCEEDED, LLMTask.Status.DEFAULTED)
UNANSWERED = (LLMTask.Status.FAILED, LLMTask.Status.DEFAULTED)


def count_of(model: type, fk: str, **filters: Any) -> Coalesce:
    """A correlated COUNT subquery: several counts per row without the fan-out of joined Counts."""
    rows = (
        model.objects.filter(**{fk: OuterRef("pk")}, **filters)
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def preview(attr: str, description: str) -> Callable[[Any, Any], str]:
    """A ModelAdmin method showing a big text or JSON field, escaped, scrolling, truncated."""

    @admin.display(description=description)
    def show(model_admin: admin.ModelAdmin, obj: Any) -> str:
        value = getattr(obj, attr)
        if not isinstance(value, str):
            value = "" if value is None else json.dumps(value, ensure_ascii=False, indent=2)
        return pre_block(value)

    return show


def pre_block(text: str) -> str:
    """A `<pre>` block with at most PREVIEW_CHARS characters of `text`."""
    if not text:
        return "—"
    more = ""
    if len(text) > PREVIEW_CHARS:
        more = f"\n… (共 {len(text)} 字符，仅显示前 {PREVIEW_CHARS} / truncated)"
    return format_html(
        '<pre style="white-space: pre-wrap; max-height: 40em; overflow: auto;">{}{}</pre>',
        text[:PREVIEW_CHARS],
        more,
    )


def column(attr: str, description: str) -> Callable[[Any], Any]:
    """A list column showing an annotation made in get_queryset(), sortable by it."""

    @admin.display(description=description, ordering=attr)
    def show(obj: Any) -> Any:
        return getattr(obj, attr, None)

    return show


def read_only(model: type, *editable: str) -> list[str]:
    """Every concrete field of `model` except `editable` (identifiers, counters, timestamps)."""
    return [f.name for f in model._meta.concrete_fields if f.name not in {"id", *editable}]


@admin.display(description="有错误", boolean=True)
def has_error(obj: Novel | BatchJob | LLMTask) -> bool:
    return bool(obj.last_error)


class ErrorFilter(admin.SimpleListFilter):
    """Rows whose `last_error` is set or blank."""

    title = "错误 (error)"
    parameter_name = "has_error"

    def lookups(self, request, model_admin):
        return [("yes", "有错误 (error)"), ("no", "无错误 (no error)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(last_error="")
        if self.value() == "no":
            return queryset.filter(last_error="")
        return queryset


@admin.register(Novel)
class NovelAdmin(admin.ModelAdmin):
    list_display = ["title", "stage", "mode", column("chapters_n", "章节数"),
                    column("characters_n", "人物数"), column("relations_n", "关系数"), "tasks",
                    column("failures_n", "失败/默认 (failures)"), has_error, "created",
                    "graph_link"]  # fmt: skip
    list_filter = ["stage", "mode", ErrorFilter]
    search_fields = ["title", "sha256", "source_name"]
    readonly_fields = [*read_only(Novel, "title", "stage", "mode"), "graph_link"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # novels come from upload_novel (the sha256 is the file's)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Novel]:
        return (
            super()
            .get_queryset(request)
            .annotate(
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


@admin.register(Chapter)
class ChapterAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "novel", column("length_n", "字数")]
    list_display_links = ["number", "title"]
    list_filter = ["novel"]
    list_select_related = ["novel"]
    search_fields = ["title"]
    readonly_fields = ["text"]
    fieldsets = [
        (None, {"fields": ["novel", "number", "title"]}),
        ("正文 (text)", {"fields": ["text"], "classes": ["collapse"]}),
    ]  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[Chapter]:
        # The list needs the length, not megabytes of text.
        return super().get_queryset(request).defer("text").annotate(length_n=Length("text"))


def alias_q(word: str) -> Q:
    """Match `word` inside the JSON list of aliases on SQLite and PostgreSQL alike.

    SQLite stores the JSON text as `json.dumps` wrote it (non-ASCII as \\uXXXX escapes), PostgreSQL
    casts jsonb back to text with the characters themselves; search both spellings.
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
    by_novel = metrics.for_novels({character.novel_id for character in characters})
    for character in characters:
        character.graph_metrics = by_novel[character.novel_id].get(character.name, {})


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
class CharacterAdmin(admin.ModelAdmin):
    form = CharacterForm
    inlines = [CharacterAttributeInline]
    list_display = ["name", "alias_list", "novel", "mention_count", "first_chapter",
                    "last_chapter", "rank", character_relations, *METRIC_COLUMNS,
                    "aliases_locked"]  # fmt: skip
    list_filter = ["novel", "aliases_locked"]
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
        super().save_model(request, obj, form, change)

    @admin.display(description="别名")
    def alias_list(self, obj: Character) -> str:
        return "、".join(obj.aliases) if isinstance(obj.aliases, list) else str(obj.aliases)


@admin.register(CharacterAttribute)
class CharacterAttributeAdmin(admin.ModelAdmin):
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
class RelationAdmin(admin.ModelAdmin):
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

    def save_model(self, request, obj: Relation, form, change: bool) -> None:
        # A type chosen by a person is marked as such, unless the origin was set explicitly.
        if change and "type" in form.changed_data and "origin" not in form.changed_data:
            obj.origin = Origin.MANUAL
        super().save_model(request, obj, form, change)

    @admin.display(description="章节跨度 (span)", ordering="first_chapter")
    def span(self, obj: Relation) -> str:
        if obj.first_chapter is None:
            return "—"
        return f"{obj.first_chapter}–{obj.last_chapter}"


@admin.register(RelationPhase)
class RelationPhaseAdmin(admin.ModelAdmin):
    list_display = ["relation", "from_chapter", "to_chapter", "type", "origin"]
    list_filter = ["type", "origin", "relation__novel"]
    list_select_related = ["relation__source", "relation__target"]
    search_fields = ["relation__source__name", "relation__target__name", "event"]
    raw_id_fields = ["relation"]


@admin.register(LLMTask)
class LLMTaskAdmin(admin.ModelAdmin):
    list_display = ["custom_id", "kind", "subject", "status", "attempts", "batch_job", "tokens",
                    has_error, "novel"]  # fmt: skip
    list_filter = ["status", "kind", "origin", "novel", ErrorFilter]
    list_select_related = ["novel", "batch_job"]
    search_fields = ["custom_id", "subject", "batch_job__remote_id"]
    actions = ["retry_failed"]
    fieldsets = [
        (None, {"fields": ["custom_id", "novel", "kind", "subject", "relation", "character",
                           "status", "attempts", "batch_job", "origin", "last_error",
                           "prompt_tokens", "completion_tokens", "created", "updated",
                           "result_json"]}),
        ("请求与回复 (request / response)", {"fields": ["request_body", "response_text"],
                                           "classes": ["collapse"]}),
    ]  # fmt: skip
    readonly_fields = [*read_only(LLMTask, "status", "attempts", "last_error"),
                       "request_body", "response_text", "result_json"]  # fmt: skip
    request_body = preview("request", "请求体 (request)")
    response_text = preview("response", "模型回复 (response)")
    result_json = preview("result", "解析结果 (result)")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tasks come from the pipeline

    def get_queryset(self, request: HttpRequest) -> QuerySet[LLMTask]:
        return (
            super()
            .get_queryset(request)
            .select_related("novel", "batch_job")
            .defer("request", "response", "batch_job__output_content", "batch_job__error_content")
        )

    @admin.display(description="tokens")
    def tokens(self, obj: LLMTask) -> int:
        return obj.prompt_tokens + obj.completion_tokens

    @admin.action(description="立即重试失败的任务 (retry failed tasks now)")
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[LLMTask]) -> None:
        """Failed or defaulted tasks go back to pending; their novels back to the dispatch stage."""
        failed = queryset.filter(status__in=UNANSWERED)
        with transaction.atomic():
            novel_ids = list(failed.order_by().values_list("novel_id", flat=True).distinct())
            count = failed.update(
                status=LLMTask.Status.PENDING, attempts=0, last_error="", batch_job=None
            )
            # A finished novel waits for its answers again: poll_batches (batch mode) or a new
            # upload_novel run (realtime, offline) sends the reset tasks and re-applies the graph.
            reopened = Novel.objects.filter(pk__in=novel_ids, stage=Novel.Stage.DONE).update(
                stage=Novel.Stage.DISPATCHED, applied_at=None
            )
        if not count:
            self.message_user(request, "所选任务中没有失败或使用默认值的任务。", messages.WARNING)
            return
        self.message_user(
            request,
            f"已将 {count} 个任务重置为待提交；{reopened} 部已完成的小说重新等待结果。"
            "批处理模式由 poll_batches 重新提交，其他模式请重新运行 upload_novel。",
        )


@admin.register(BatchJob)
class BatchJobAdmin(admin.ModelAdmin):
    list_display = ["remote_id", "novel", "status", "remote_status", "progress", "failed",
                    "last_polled", has_error]  # fmt: skip
    list_filter = ["status", "remote_status", "novel", ErrorFilter]
    list_select_related = ["novel"]
    search_fields = ["remote_id", "input_file_id", "output_file_id", "error_file_id"]
    actions = ["cancel_batches"]
    fieldsets = [
        (None, {"fields": ["novel", "remote_id", "status", "remote_status", "last_error",
                           "input_file_id", "output_file_id", "error_file_id", "input_path",
                           "line_count", "total", "completed", "failed", "created",
                           "submitted_at", "completed_at", "last_polled", "claimed_until",
                           "attempts"]}),
        ("结果文件 (result files)", {"fields": ["output_preview", "error_preview"],
                                    "classes": ["collapse"]}),
    ]  # fmt: skip
    readonly_fields = [*read_only(BatchJob, "status", "last_error"), "output_preview",
                       "error_preview"]  # fmt: skip
    output_preview = preview("output_content", "输出文件内容 (output)")
    error_preview = preview("error_content", "错误文件内容 (errors)")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs come from the pipeline

    def get_queryset(self, request: HttpRequest) -> QuerySet[BatchJob]:
        return super().get_queryset(request).defer("output_content", "error_content")

    @admin.display(description="进度 (completed/total)")
    def progress(self, obj: BatchJob) -> str:
        total = "?" if obj.total is None else obj.total
        return f"{obj.completed or 0}/{total}"

    @admin.action(description="取消批处理 (cancel batch)")
    def cancel_batches(self, request: HttpRequest, queryset: QuerySet[BatchJob]) -> None:
        """Ask Zhipu to cancel each selected open job; one failure does not stop the others."""
        open_jobs = list(
            queryset.filter(status__in=[BatchJob.Status.SUBMITTED, BatchJob.Status.COLLECTING])
        )
        if not open_jobs:
            self.message_user(
                request, "所选批处理中没有可取消的（已提交或收取中）。", messages.WARNING
            )
            return
        try:
            from graph import batches
        except ImportError as exc:
            self.message_user(request, f"无法取消：{exc}", messages.ERROR)
            return
        cancelled = 0
        for job in open_jobs:
            try:
                batches.cancel_job(job)
            except Exception as exc:  # one bad job must not hide the others
                self.message_user(request, f"取消 {job} 失败：{exc}", messages.ERROR)
            else:
                cancelled += 1
        if cancelled:
            self.message_user(request, f"已请求取消 {cancelled} 个批处理。")
