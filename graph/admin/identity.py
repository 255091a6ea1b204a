"""Admin for who-is-who decisions: merges, new aliases, "not a person" marks, and undoing them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from graph import identity
from graph.admin.common import read_only
from graph.models import IdentityDecision


@admin.register(IdentityDecision)
class IdentityDecisionAdmin(admin.ModelAdmin):
    list_display = ["character", "kind", "name_list", "origin", "undone", "created", "novel"]
    list_filter = ["kind", "origin", "undone", "novel"]
    list_select_related = ["character", "novel"]
    search_fields = ["character__name", "evidence"]
    readonly_fields = read_only(IdentityDecision)
    actions = ["undo_decisions"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # decisions come from the answers; a person undoes them

    @admin.display(description="名称")
    def name_list(self, obj: IdentityDecision) -> str:
        return "、".join(obj.names)

    @admin.action(description="撤销所选判定 (undo: split, remove alias, mark as person)")
    def undo_decisions(self, request: HttpRequest, queryset: QuerySet[IdentityDecision]) -> None:
        done = 0
        for decision in queryset.filter(undone=False).select_related("character", "novel"):
            with transaction.atomic():
                identity.undo(decision)
            done += 1
        if not done:
            self.message_user(request, "所选判定都已撤销过。", messages.WARNING)
            return
        self.message_user(
            request,
            f"已撤销 {done} 个判定；之后重新写入图谱也不会再做。被拆开的人物的关系需运行 "
            "upload_novel --restart-from pairs 重新统计。",
        )
