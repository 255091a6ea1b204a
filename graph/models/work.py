"""The model work behind the graph: LLM tasks and batch jobs, with their state changes."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from graph import continuation, replies
from graph.dbutil import bulk_set
from graph.models.common import ERROR_CHARS, Origin, ReadableJSONEncoder
from graph.models.novels import Novel
from graph.models.people import Character, Relation


class BatchJobQuerySet(models.QuerySet):
    def unfinished(self) -> BatchJobQuerySet:
        return self.filter(status__in=BatchJob.OPEN)

    def claim_next(self, polled_before: datetime) -> BatchJob | None:
        """Claim the unfinished job polled longest ago, not yet polled since `polled_before` and
        held by nobody; None when there is none. The claim (a lease in `claimed_until`) is a
        conditional UPDATE, so two pollers never hold one job."""
        now = timezone.now()
        candidates = (
            self.unfinished()
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .filter(Q(last_polled__isnull=True) | Q(last_polled__lt=polled_before))
            .order_by("last_polled", "pk")
            .values_list("pk", "claimed_until")[:CLAIM_CANDIDATES]
        )
        lease = now + timedelta(seconds=settings.BATCH_CLAIM_SECONDS)
        for pk, held in candidates:
            if self.filter(pk=pk, status__in=BatchJob.OPEN, claimed_until=held).update(
                claimed_until=lease
            ):
                return self.select_related("novel").get(pk=pk)
        return None


CLAIM_CANDIDATES = 20  # jobs read per claim attempt (others may take some of them first)


class BatchJob(models.Model):
    class Status(models.TextChoices):
        SUBMITTING = "submitting", "提交中"
        SUBMITTED = "submitted", "已提交"
        COLLECTING = "collecting", "收取结果中"
        DONE = "done", "完成"
        FAILED = "failed", "失败"

    OPEN = (Status.SUBMITTING, Status.SUBMITTED, Status.COLLECTING)
    CHAT, EMBEDDINGS = "/v4/chat/completions", "/v4/embeddings"  # endpoints, one per file
    # The job's id travels in its batch's metadata under this key: a job whose submitter died
    # before saving the remote id finds its batch again.
    METADATA_KEY = "novelgraph_job"

    novel = models.ForeignKey(
        Novel, on_delete=models.CASCADE, related_name="batch_jobs", verbose_name="小说"
    )
    remote_id = models.CharField(
        "远程批处理 ID", max_length=128, null=True, blank=True, unique=True
    )
    # What the batch's lines ask: chat completions (the graph's questions) or embeddings.
    endpoint = models.CharField("接口", max_length=32, default=CHAT)
    input_file_id = models.CharField("输入文件 ID", max_length=128, blank=True)
    output_file_id = models.CharField("输出文件 ID", max_length=128, blank=True)
    error_file_id = models.CharField("错误文件 ID", max_length=128, blank=True)
    input_path = models.CharField("本地输入文件", max_length=500, blank=True)
    line_count = models.PositiveIntegerField("请求数", default=0)
    remote_status = models.CharField("远程状态", max_length=16, blank=True)
    total = models.PositiveIntegerField("总数", null=True, blank=True)
    completed = models.PositiveIntegerField("已完成", null=True, blank=True)
    failed = models.PositiveIntegerField("失败数", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status, default=Status.SUBMITTING)
    output_content = models.TextField("输出文件内容", blank=True)
    error_content = models.TextField("错误文件内容", blank=True)
    created = models.DateTimeField("创建时间", default=timezone.now)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    last_polled = models.DateTimeField("最近轮询", null=True, blank=True)
    # A poller owns the job until this time (conditional UPDATE claim; see claim_next).
    claimed_until = models.DateTimeField("占用至", null=True, blank=True)
    attempts = models.PositiveIntegerField("轮询出错次数", default=0)
    last_error = models.TextField("最近错误", blank=True)

    objects = BatchJobQuerySet.as_manager()

    class Meta:
        verbose_name = "批处理任务"
        verbose_name_plural = "批处理任务"
        ordering = ["-created"]
        indexes = [
            # poll_batches: open jobs, oldest poll first.
            models.Index(
                fields=["last_polled"],
                name="graph_batchjob_open",
                condition=Q(status__in=["submitting", "submitted", "collecting"]),
            )
        ]

    def __str__(self) -> str:
        return self.remote_id or f"BatchJob {self.pk}"

    def _set(self, rows: models.QuerySet, **fields) -> bool:
        """Write `fields` through `rows` (a conditional UPDATE); on success, on self too."""
        if not rows.update(**fields):
            return False
        for name, value in fields.items():
            setattr(self, name, value)
        return True

    def _rows(self, *statuses: str) -> models.QuerySet:
        rows = BatchJob.objects.filter(pk=self.pk)
        return rows.filter(status__in=statuses) if statuses else rows

    def adopt(self, remote_id: str, remote_status: str) -> None:
        """The remote batch exists: from now on it is polled, never submitted again."""
        self._set(
            self._rows(),
            remote_id=remote_id,
            remote_status=remote_status,
            status=self.Status.SUBMITTED,
            submitted_at=timezone.now(),
            last_error="",
        )

    def record_upload(self, file_id: str) -> None:
        self._set(self._rows(), input_file_id=file_id)

    def record_input_path(self, path: str) -> None:
        self._set(self._rows(), input_path=path)

    def record_poll(self, **fields) -> bool:
        """Store what the server said about a submitted job. Conditional on the job still being
        submitted: a poller whose claim ran out must not overwrite what its successor wrote."""
        return self._set(self._rows(self.Status.SUBMITTED), last_polled=timezone.now(), **fields)

    def store_results(self, **contents: str) -> None:
        """Keep the downloaded result files on the job, before anything is parsed."""
        self._set(self._rows(), **contents)

    def close(self, status: str, reason: str = "") -> bool:
        """End the job (done or failed); only an unfinished job can be closed."""
        fields = {"status": status}
        if reason:
            fields["last_error"] = reason[:ERROR_CHARS]
        return self._set(self._rows(*self.OPEN), **fields)

    def note_error(self, message: str) -> int:
        """Count a failed poll; returns how many there have been in a row."""
        self._set(self._rows(), attempts=self.attempts + 1, last_error=message[:ERROR_CHARS])
        return self.attempts

    def release(self, *, next_poll: datetime | None = None) -> None:
        """Give up the claim. `next_poll` pushes a troubled job back: nobody claims it before."""
        self._set(self._rows(), claimed_until=next_poll, last_polled=timezone.now())


class LLMTaskQuerySet(models.QuerySet):
    def settled(self) -> LLMTaskQuerySet:
        """Tasks with their final result (an answer, or the default)."""
        return self.filter(status__in=SETTLED)

    def unsettled(self) -> LLMTaskQuerySet:
        return self.exclude(status__in=SETTLED)

    def to_send(self) -> LLMTaskQuerySet:
        """Tasks that still need a question sent: unanswered, and in no unfinished batch."""
        return self.filter(status__in=TO_SEND).filter(
            Q(batch_job__isnull=True) | ~Q(batch_job__status__in=BatchJob.OPEN)
        )

    def take_for(self, job: BatchJob) -> int:
        """Put the tasks still to send into `job` (conditional: a task another submitter took
        a moment ago is left out); returns how many were taken."""
        return self.filter(status__in=TO_SEND).update(
            batch_job=job, status=LLMTask.Status.SUBMITTED
        )

    def give_back(self) -> int:
        """Tasks of a job that never reached the server: unsent again, no attempt counted."""
        return self.filter(status=LLMTask.Status.SUBMITTED).update(
            batch_job=None, status=LLMTask.Status.PENDING
        )

    def reset(self) -> int:
        """Failed or defaulted tasks start again, with all their attempts (admin retry)."""
        return self.filter(status__in=UNANSWERED).update(
            status=LLMTask.Status.PENDING, attempts=0, last_error="", batch_job=None
        )


class LLMTask(models.Model):
    class Kind(models.TextChoices):
        RELATION = "relation", "关系分类"
        EVOLUTION = "evolution", "关系演变"
        ATTRIBUTE = "attribute", "人物属性"

    class Status(models.TextChoices):
        PENDING = "pending", "待提交"
        SUBMITTED = "submitted", "已提交"
        SUCCEEDED = "succeeded", "成功"
        FAILED = "failed", "失败"
        DEFAULTED = "defaulted", "使用默认值"

    novel = models.ForeignKey(
        Novel, on_delete=models.CASCADE, related_name="tasks", verbose_name="小说"
    )
    kind = models.CharField("类型", max_length=16, choices=Kind)
    subject = models.CharField("对象", max_length=140)
    # SET_NULL: a character merged into another (or a relation of two names of one person) goes,
    # its tasks and their answers stay (they are the merge's evidence).
    relation = models.ForeignKey(
        Relation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name="关系",
    )
    character = models.ForeignKey(
        Character,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name="人物",
    )
    custom_id = models.CharField("custom_id", max_length=64, unique=True)
    # The NovelVersion.number that asked it (an update asks again only what can change).
    version = models.PositiveIntegerField("版本", default=1)
    # What is asked, as data (names, snippets): the request body is rendered from it, and the
    # offline rules answer from it directly.
    question = models.JSONField("问题", default=dict, encoder=ReadableJSONEncoder)
    request = models.JSONField("请求体", encoder=ReadableJSONEncoder)
    status = models.CharField("状态", max_length=16, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    batch_job = models.ForeignKey(
        BatchJob,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name="批处理任务",
    )
    response = models.TextField("模型回复", blank=True)
    result = models.JSONField("解析结果", null=True, blank=True, encoder=ReadableJSONEncoder)
    origin = models.CharField("来源", max_length=16, choices=Origin, blank=True)
    prompt_tokens = models.PositiveIntegerField("输入 tokens", default=0)
    completion_tokens = models.PositiveIntegerField("输出 tokens", default=0)
    last_error = models.TextField("最近错误", blank=True)
    created = models.DateTimeField("创建时间", default=timezone.now)
    updated = models.DateTimeField("更新时间", auto_now=True)

    objects = LLMTaskQuerySet.as_manager()

    # Fields record_reply / record_failure change (saved in bulk by save_answers).
    ANSWER_FIELDS = ("status", "attempts", "response", "result", "origin", "prompt_tokens",
                     "completion_tokens", "last_error", "updated")  # fmt: skip

    class Meta:
        verbose_name = "模型任务"
        verbose_name_plural = "模型任务"
        ordering = ["novel_id", "id"]
        indexes = [
            # dispatch: the tasks of a novel still to send or to settle.
            models.Index(fields=["novel", "status"], name="graph_llmtask_novel_status"),
        ]

    def __str__(self) -> str:
        return self.custom_id or f"LLMTask {self.pk}"

    @staticmethod
    def custom_id_for(novel_id: int, kind: str, subject_id: int, version: int = 1) -> str:
        """The id a task's request carries through the Batch API: unique, ASCII, 6–64
        characters (the service refuses a file with a shorter id), readable in the admin.
        An update's questions carry their version (the same subject may be asked again)."""
        suffix = f"-v{version}" if version > 1 else ""
        return f"ng{novel_id}-{kind}-{subject_id}{suffix}"

    @property
    def settled(self) -> bool:
        return self.status in SETTLED

    def record_reply(
        self, content: str, origin: str, prompt_tokens: int = 0, completion_tokens: int = 0
    ) -> None:
        """One reply: its parsed result, or (unparseable) a failure that is asked again or, out
        of attempts, takes the default. In memory: save with `save_answers`."""
        self.attempts += 1
        self.response = content
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.updated = timezone.now()
        try:
            members = len((self.question or {}).get("group") or [])
            self.result = replies.parse_reply(self.kind, content, members)
        except replies.ReplyError as exc:
            self.record_failure(f"回复无法解析：{exc}", counted=False)
            return
        # A continued question (an update) answers for the new chapters: joined to what was known.
        self.result = continuation.combine(self.question, self.result)
        self.status, self.origin, self.last_error = self.Status.SUCCEEDED, origin, ""

    def record_failure(self, error: str, *, counted: bool = True, permanent: bool = False) -> None:
        """A failed attempt: failed (asked again later) or, out of attempts, the default."""
        if counted:
            self.attempts += 1
        self.last_error = error[:ERROR_CHARS]
        self.updated = timezone.now()
        if permanent or self.attempts >= settings.LLM_MAX_ATTEMPTS:
            # The default, or (a question asked again by an update) the answer it had before.
            self.status = self.Status.DEFAULTED
            self.result, origin = continuation.fallback(self.question, self.kind)
            self.origin = origin or Origin.DEFAULT
        else:
            self.status = self.Status.FAILED

    @staticmethod
    def save_answers(tasks) -> None:
        """Write what record_reply / record_failure changed, for many tasks at once."""
        bulk_set(tasks, LLMTask.ANSWER_FIELDS)


# Task statuses by what they mean for the pipeline (queries use these, not ad-hoc lists).
SETTLED = (LLMTask.Status.SUCCEEDED, LLMTask.Status.DEFAULTED)  # has its final result
TO_SEND = (LLMTask.Status.PENDING, LLMTask.Status.FAILED)  # waits for a (new) request
UNANSWERED = (LLMTask.Status.FAILED, LLMTask.Status.DEFAULTED)  # no good answer yet
