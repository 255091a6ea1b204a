"""Shared pieces of the admin: columns, previews, the error filter."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.html import format_html

from graph.models import (
    BatchJob,
    LLMTask,
    Novel,
    Origin,
)

PREVIEW_CHARS = 20_000


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


ERROR_MARK_CHARS = 200  # of the error shown as the mark's tooltip


@admin.display(description="有错误", ordering="last_error")
def has_error(obj: Novel | BatchJob | LLMTask) -> str:
    """A red mark with the error as its tooltip; nothing for a healthy row (Django's boolean icons
    would show a red ⊗ on every healthy row, which reads as an error)."""
    if not obj.last_error:
        return ""
    return format_html(
        '<span class="error-mark" style="color: var(--error-fg, #ba2121); font-weight: 600;" '
        'title="{}">⚠ 有错误</span>',
        obj.last_error[:ERROR_MARK_CHARS],
    )


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


class ManualEdits(admin.ModelAdmin):
    """A row a person edits in the admin (the row itself or an inline of it) becomes theirs:
    origin manual, which every re-apply, retry and rebuild leaves as it is. Setting the origin
    explicitly in the form wins over this."""

    def save_model(self, request, obj, form, change: bool) -> None:
        changed = set(form.changed_data)
        if changed - {"origin"} and "origin" not in changed and hasattr(obj, "origin"):
            obj.origin = Origin.MANUAL
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change: bool) -> None:
        for row in formset.forms:
            data = getattr(row, "cleaned_data", None) or {}
            changed = set(row.changed_data) - {"DELETE"}
            edited = changed and "origin" not in changed and not data.get("DELETE")
            if edited and "origin" in data:
                data["origin"] = Origin.MANUAL
        super().save_formset(request, form, formset, change)
