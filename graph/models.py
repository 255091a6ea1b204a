"""Tables of novelgraph: novels and chapters, the character graph, and the LLM work that builds it."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from graph import continuation, replies, taxonomy
from graph.dbutil import bulk_set

ERROR_CHARS = 2000  # the longest error text kept on a row (last_error fields)


class ReadableJSONEncoder(json.JSONEncoder):
    """Store Chinese as itself (not \\uXXXX escapes), so SQLite text lookups on JSON fields work."""

    def __init__(self, *args, **kwargs):
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)


RelationType = models.TextChoices(
    "RelationType", [(code.upper(), (code, label)) for code, label in taxonomy.LABELS.items()]
)


class Origin(models.TextChoices):
    LLM = "llm", "模型 (LLM)"
    OFFLINE = "offline", "离线规则 (offline)"
    DEFAULT = "default", "默认值 (default)"
    MANUAL = "manual", "人工 (manual)"


class Mode(models.TextChoices):
    BATCH = "batch", "批处理 (Batch API)"
    REALTIME = "realtime", "实时 (realtime)"
    OFFLINE = "offline", "离线 (offline)"


class Novel(models.Model):
    class Stage(models.TextChoices):
        # In pipeline order: each value means "this stage is finished".
        UPLOADED = "uploaded", "已上传"
        PARSED = "parsed", "已分章"
        CHARACTERS = "characters", "已识别人物"
        PAIRS = "pairs", "已统计共现"
        TASKS = "tasks", "已生成任务"
        DISPATCHED = "dispatched", "已提交任务"
        DONE = "done", "已完成"

    title = models.CharField("书名", max_length=200)
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    source_name = models.CharField("源文件", max_length=255, blank=True)
    encoding = models.CharField("编码", max_length=32, blank=True)
    char_count = models.PositiveIntegerField("字数", default=0)
    stage = models.CharField("阶段", max_length=16, choices=Stage, default=Stage.UPLOADED)
    mode = models.CharField("模式", max_length=16, choices=Mode, default=Mode.OFFLINE)
    created = models.DateTimeField("创建时间", default=timezone.now)
    parsed_at = models.DateTimeField("分章完成", null=True, blank=True)
    characters_at = models.DateTimeField("人物完成", null=True, blank=True)
    pairs_at = models.DateTimeField("共现完成", null=True, blank=True)
    tasks_at = models.DateTimeField("任务生成", null=True, blank=True)
    dispatched_at = models.DateTimeField("任务提交", null=True, blank=True)
    applied_at = models.DateTimeField("图谱写入", null=True, blank=True)
    last_error = models.TextField("最近错误", blank=True)
    # Batch mode: the offline graph shown while the model's answers are on their way.
    provisional = models.BooleanField("临时图谱", default=False)

    class Meta:
        verbose_name = "小说"
        verbose_name_plural = "小说"
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.title or f"Novel {self.pk}"

    STAGE_TIMESTAMPS = {
        Stage.PARSED: "parsed_at",
        Stage.CHARACTERS: "characters_at",
        Stage.PAIRS: "pairs_at",
        Stage.TASKS: "tasks_at",
        Stage.DISPATCHED: "dispatched_at",
        Stage.DONE: "applied_at",
    }

    # The local stages `upload_novel --restart-from` can redo, in order.
    RESTARTABLE = (Stage.CHARACTERS, Stage.PAIRS, Stage.TASKS)

    @classmethod
    def stage_index(cls, stage: str) -> int:
        """Position of `stage` in the pipeline (the order `Stage` declares: the one definition)."""
        return cls.Stage.values.index(stage)

    def reached(self, stage: str) -> bool:
        """Whether `stage` is finished."""
        return self.stage_index(self.stage) >= self.stage_index(stage)

    def advance(self, stage: str, *, only_from: str | None = None) -> bool:
        """Record `stage` as finished (with its time; the last error is cleared).

        With `only_from`, the change happens only if the stored stage is still `only_from`: a
        conditional UPDATE, so of two processes racing for it exactly one moves the novel and
        gets True (this is how the graph is applied once)."""
        field, now = self.STAGE_TIMESTAMPS[stage], timezone.now()
        rows = Novel.objects.filter(pk=self.pk)
        if only_from is not None:
            rows = rows.filter(stage=only_from)
        if not rows.update(stage=stage, last_error="", **{field: now}):
            return False
        self.stage, self.last_error = stage, ""
        setattr(self, field, now)
        return True

    def reopen(self, stage: str) -> None:
        """Go back to `stage` (it stays finished): every later stage is forgotten and redone."""
        later = {
            field: None
            for done, field in self.STAGE_TIMESTAMPS.items()
            if self.stage_index(done) > self.stage_index(stage)
        }
        Novel.objects.filter(pk=self.pk).update(stage=stage, **later)
        self.stage = stage
        for field, value in later.items():
            setattr(self, field, value)

    def record_error(self, message: str) -> None:
        """Keep the reason the last run stopped, for the admin and novel_status."""
        self.last_error = message[:ERROR_CHARS]
        Novel.objects.filter(pk=self.pk).update(last_error=self.last_error)

    def mark_provisional(self, provisional: bool) -> None:
        """Mark the graph as the offline stand-in (True) or as final (False)."""
        if self.provisional != provisional:
            self.provisional = provisional
            Novel.objects.filter(pk=self.pk).update(provisional=provisional)

    def use_mode(self, mode: str) -> None:
        """Record the mode the novel's questions are being answered in."""
        if self.mode != mode:
            self.mode = mode
            Novel.objects.filter(pk=self.pk).update(mode=mode)


class Chapter(models.Model):
    novel = models.ForeignKey(
        Novel, on_delete=models.CASCADE, related_name="chapters", verbose_name="小说"
    )
    number = models.PositiveIntegerField("章节号")
    title = models.CharField("标题", max_length=255)
    text = models.TextField("正文")
    # sha256 of title and text: a longer file of the same novel is matched chapter by chapter.
    digest = models.CharField("章节指纹", max_length=64, blank=True)
    # What the chapter adds to the graph's counts, so an update sums them instead of rereading the
    # book: mentions per character id {"12": 40}, paragraphs naming a pair {"12-30": 3}.
    # Null: not counted yet (the pair stage counts it).
    mentions = models.JSONField("提及计数", null=True, blank=True)
    pairs = models.JSONField("共现计数", null=True, blank=True)

    class Meta:
        verbose_name = "章节"
        verbose_name_plural = "章节"
        ordering = ["novel_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["novel", "number"], name="graph_chapter_unique_number")
        ]
        indexes = [
            # Matching an upload: which stored novels have a chapter with this digest.
            models.Index(fields=["digest"], name="graph_chapter_digest"),
        ]

    def __str__(self) -> str:
        return self.title or f"第{self.number}章"

    @staticmethod
    def digest_of(title: str, text: str) -> str:
        """The chapter's fingerprint: its stored title and its text."""
        return hashlib.sha256(f"{title[:255]}\n{text}".encode()).hexdigest()


class NovelVersion(models.Model):
    """One upload that created or extended a novel: its file, its chapters, and what it cost."""

    novel = models.ForeignKey(
        Novel, on_delete=models.CASCADE, related_name="versions", verbose_name="小说"
    )
    number = models.PositiveIntegerField("版本")
    sha256 = models.CharField("SHA-256", max_length=64)
    source_name = models.CharField("源文件", max_length=255, blank=True)
    chapters = models.PositiveIntegerField("章节数")
    char_count = models.PositiveIntegerField("字数", default=0)
    # Chapters this version added or changed (all of them for the first version): what it reads.
    changed = models.JSONField("新增或修改的章节", default=list, blank=True)
    added = models.PositiveIntegerField("新增章节", default=0)
    edited = models.PositiveIntegerField("修改章节", default=0)
    # Character id -> name when the chapters were counted: counts of a character merged since
    # are credited to whoever holds its name now.
    roster = models.JSONField("计数时的人物", default=dict, blank=True, encoder=ReadableJSONEncoder)
    created = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "版本"
        verbose_name_plural = "版本"
        ordering = ["novel_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["novel", "number"], name="graph_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"第{self.number}版（{self.chapters} 章）"

    @property
    def is_update(self) -> bool:
        return self.number > 1

    @property
    def first_added(self) -> int | None:
        """The first appended chapter (None when the version only edited chapters)."""
        return self.chapters - self.added + 1 if self.added else None

    def tasks(self) -> models.QuerySet:
        """The questions this version asked."""
        return self.novel.tasks.filter(version=self.number)


class CharacterQuerySet(models.QuerySet):
    def people(self) -> CharacterQuerySet:
        """What the graph shows: characters not judged to be something else than a person."""
        return self.filter(is_person=True)

    def edited_by_hand(self) -> CharacterQuerySet:
        """Characters a person has touched: aliases edited, or a manual relation or attribute.
        Rebuilding the characters keeps them (and so keeps what was edited)."""
        manual = Origin.MANUAL
        return self.filter(
            Q(aliases_locked=True)
            | Q(relations_out__origin=manual)
            | Q(relations_in__origin=manual)
            | Q(attributes__origin=manual)
            | Q(person_origin=manual)
        ).distinct()


class Character(models.Model):
    novel = models.ForeignKey(
        Novel, on_delete=models.CASCADE, related_name="characters", verbose_name="小说"
    )
    name = models.CharField("姓名", max_length=64)
    aliases = models.JSONField("别名", default=list, blank=True, encoder=ReadableJSONEncoder)
    # Set when a person edits the aliases in the admin: re-running discovery keeps them.
    aliases_locked = models.BooleanField("别名已人工确认", default=False)
    mention_count = models.PositiveIntegerField("提及次数", default=0)
    first_chapter = models.PositiveIntegerField("首次出现", null=True, blank=True)
    last_chapter = models.PositiveIntegerField("最后出现", null=True, blank=True)
    rank = models.PositiveIntegerField("重要度排名", default=0)
    # A name that is not a person (a place, an office, a crowd) stays here, hidden from the graph.
    is_person = models.BooleanField("是人物", default=True)
    person_origin = models.CharField("人物判断来源", max_length=16, choices=Origin, blank=True)

    objects = CharacterQuerySet.as_manager()

    class Meta:
        verbose_name = "人物"
        verbose_name_plural = "人物"
        ordering = ["novel_id", "rank", "name"]
        constraints = [
            models.UniqueConstraint(fields=["novel", "name"], name="graph_character_unique_name")
        ]

    def __str__(self) -> str:
        return self.name or f"Character {self.pk}"

    @property
    def names(self) -> list[str]:
        return [self.name, *[a for a in self.aliases if a != self.name]]


class Relation(models.Model):
    """A graph edge. For directed types `source` is the senior side (master, elder, lord)."""

    novel = models.ForeignKey(
        Novel, on_delete=models.CASCADE, related_name="relations", verbose_name="小说"
    )
    source = models.ForeignKey(
        Character, on_delete=models.CASCADE, related_name="relations_out", verbose_name="人物甲"
    )
    target = models.ForeignKey(
        Character, on_delete=models.CASCADE, related_name="relations_in", verbose_name="人物乙"
    )
    # "<smaller id>-<larger id>": one edge per unordered pair, whatever its direction.
    pair_key = models.CharField("人物对", max_length=41, editable=False)
    type = models.CharField(
        "关系类型", max_length=16, choices=RelationType, default=taxonomy.DEFAULT_TYPE
    )
    confidence = models.FloatField("置信度", default=0.0)
    cooccurrence = models.PositiveIntegerField("共现次数", default=0)
    first_chapter = models.PositiveIntegerField("首次共现", null=True, blank=True)
    last_chapter = models.PositiveIntegerField("最后共现", null=True, blank=True)
    evidence = models.TextField("依据", blank=True)
    snippets = models.JSONField("共现片段", default=list, blank=True, encoder=ReadableJSONEncoder)
    origin = models.CharField("来源", max_length=16, choices=Origin, default=Origin.DEFAULT)

    class Meta:
        verbose_name = "关系"
        verbose_name_plural = "关系"
        ordering = ["novel_id", "-cooccurrence"]
        constraints = [
            models.UniqueConstraint(fields=["novel", "pair_key"], name="graph_relation_unique_pair")
        ]

    def __str__(self) -> str:
        return f"{self.source} — {self.target} ({self.get_type_display()})"

    def save(self, *args, **kwargs):
        self.pair_key = self.key_for(self.source_id, self.target_id)
        super().save(*args, **kwargs)

    @staticmethod
    def key_for(a_id: int, b_id: int) -> str:
        low, high = sorted((a_id, b_id))
        return f"{low}-{high}"


class RelationPhase(models.Model):
    relation = models.ForeignKey(
        Relation, on_delete=models.CASCADE, related_name="phases", verbose_name="关系"
    )
    from_chapter = models.PositiveIntegerField("起始章")
    to_chapter = models.PositiveIntegerField("结束章")
    type = models.CharField("关系类型", max_length=16, choices=RelationType)
    event = models.TextField("事件", blank=True)
    origin = models.CharField("来源", max_length=16, choices=Origin, default=Origin.DEFAULT)

    class Meta:
        verbose_name = "关系阶段"
        verbose_name_plural = "关系阶段"
        ordering = ["relation_id", "from_chapter"]

    def __str__(self) -> str:
        return f"{self.from_chapter}-{self.to_chapter} {self.get_type_display()}"


class CharacterAttribute(models.Model):
    character = models.ForeignKey(
        Character, on_delete=models.CASCADE, related_name="attributes", verbose_name="人物"
    )
    key = models.CharField("属性", max_length=32)
    value = models.TextField("值")
    origin = models.CharField("来源", max_length=16, choices=Origin, default=Origin.DEFAULT)

    class Meta:
        verbose_name = "人物属性"
        verbose_name_plural = "人物属性"
        ordering = ["character_id", "key"]
        constraints = [
            models.UniqueConstraint(fields=["character", "key"], name="graph_attribute_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.value}"


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
            self.result = replies.parse_reply(self.kind, content)
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


class IdentityDecision(models.Model):
    """Who is who: two characters found to be one person (merge), a name found to be another
    name of a character (alias), or a character found not to be a person. Kept with its evidence
    and origin; an undone decision (origin manual) is never made again by a re-apply."""

    class Kind(models.TextChoices):
        MERGE = "merge", "合并为同一人物"
        ALIAS = "alias", "新增别名"
        NOT_PERSON = "not_person", "不是人物"

    novel = models.ForeignKey(
        Novel, on_delete=models.CASCADE, related_name="identity_decisions", verbose_name="小说"
    )
    kind = models.CharField("类型", max_length=16, choices=Kind)
    character = models.ForeignKey(
        Character,
        on_delete=models.CASCADE,
        related_name="identity_decisions",
        verbose_name="人物",
    )
    # The names the decision is about: the merged character's names, the new alias.
    names = models.JSONField("名称", default=list, encoder=ReadableJSONEncoder)
    # What undoing needs: the merged character as it was (name, aliases, counts).
    snapshot = models.JSONField("合并前", default=dict, blank=True, encoder=ReadableJSONEncoder)
    evidence = models.TextField("依据", blank=True)
    origin = models.CharField("来源", max_length=16, choices=Origin)
    undone = models.BooleanField("已撤销", default=False)
    created = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "人物判定"
        verbose_name_plural = "人物判定"
        ordering = ["novel_id", "-created"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.character_id} {'、'.join(self.names)}"


# --- Search (step 11): passages of the chapters and their vectors -------------------------------


class Passage(models.Model):
    """A few hundred characters of one chapter (``chapter.text[offset:offset + len(text)]``) with its
    vector from one vectorizer: float32 little-endian bytes, empty until the vector is made."""

    novel = models.ForeignKey(Novel, on_delete=models.CASCADE, related_name="passages")
    chapter = models.PositiveIntegerField("章节号")
    offset = models.PositiveIntegerField("起始位置")
    text = models.TextField("文本")
    vector = models.BinaryField("向量 (float32)", blank=True, default=b"")
    vectorizer = models.CharField("向量化方法", max_length=32)

    class Meta:
        verbose_name = "段落"
        verbose_name_plural = "段落"
        ordering = ["novel_id", "vectorizer", "chapter", "offset"]
        constraints = [
            # Also serves search: one novel's passages for one vectorizer, in reading order.
            models.UniqueConstraint(
                fields=["novel", "vectorizer", "chapter", "offset"],
                name="graph_passage_unique_place",
            )
        ]

    def __str__(self) -> str:
        return f"第{self.chapter}章 @{self.offset}"


class VectorSpace(models.Model):
    """What turns a query into a vector comparable with a novel's passages for one vectorizer:
    the fitted local model (``state``), or nothing for a remote model; and how far it reaches."""

    novel = models.ForeignKey(Novel, on_delete=models.CASCADE, related_name="vector_spaces")
    vectorizer = models.CharField("向量化方法", max_length=32)
    dimensions = models.PositiveIntegerField("维度")
    chapters = models.PositiveIntegerField("覆盖章节数", default=0)
    created = models.DateTimeField("创建时间", default=timezone.now)
    # Last: SQLite reads past a large value to reach the columns after it.
    state = models.BinaryField("模型参数", blank=True, default=b"")

    class Meta:
        verbose_name = "向量空间"
        verbose_name_plural = "向量空间"
        constraints = [
            models.UniqueConstraint(fields=["novel", "vectorizer"], name="graph_vectorspace_unique")
        ]

    def __str__(self) -> str:
        return f"{self.vectorizer} ({self.dimensions})"
