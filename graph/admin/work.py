"""Admin for the model work: LLM tasks and batch jobs, with the retry and cancel actions."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from graph import batches, dispatch
from graph.admin.common import (
    ErrorFilter,
    has_error,
    preview,
    read_only,
)
from graph.llm.zhipu import ZhipuError, client_from_settings
from graph.models import BatchJob, LLMTask


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
        """Failed or defaulted tasks go back to pending; their finished novels wait again."""
        count, reopened = dispatch.retry(queryset)
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
            client = client_from_settings()
        except ValueError:
            self.message_user(request, "未设置 ZHIPUAI_API_KEY，无法取消批处理。", messages.ERROR)
            return
        cancelled = 0
        for job in open_jobs:
            try:
                batches.cancel_job(job, client)
            except (ZhipuError, ValueError) as exc:  # one bad job must not hide the others
                self.message_user(request, f"取消 {job} 失败：{exc}", messages.ERROR)
            else:
                cancelled += 1
        if cancelled:
            self.message_user(request, f"已请求取消 {cancelled} 个批处理。")
