"""Tables of novelgraph: novels and chapters, the character graph, and the LLM work that builds it."""

from __future__ import annotations

import json

from django.db import models
from django.db.models import Q
from django.utils import timezone

from graph import taxonomy


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

    def reached(self, stage: str) -> bool:
        """Whether `stage` is finished (stages are ordered as declared)."""
        order = list(self.Stage.values)
        return order.index(self.stage) >= order.index(stage)

    def finish_stage(self, stage: str) -> None:
        self.stage = stage
        field = self.STAGE_TIMESTAMPS[stage]
        setattr(self, field, timezone.now())
        self.last_error = ""
        self.save(update_fields=["stage", field, "last_error"])


class Chapter(models.Model):
    novel = models.ForeignKey(Novel, on_delete=models.CASCADE, related_name="chapters")
    number = models.PositiveIntegerField("章节号")
    title = models.CharField("标题", max_length=255)
    text = models.TextField("正文")

    class Meta:
        verbose_name = "章节"
        verbose_name_plural = "章节"
        ordering = ["novel_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["novel", "number"], name="graph_chapter_unique_number")
        ]

    def __str__(self) -> str:
        return self.title or f"第{self.number}章"


class Character(models.Model):
    novel = models.ForeignKey(Novel, on_delete=models.CASCADE, related_name="characters")
    name = models.CharField("姓名", max_length=64)
    aliases = models.JSONField("别名", default=list, blank=True, encoder=ReadableJSONEncoder)
    # Set when a person edits the aliases in the admin: re-running discovery keeps them.
    aliases_locked = models.BooleanField("别名已人工确认", default=False)
    mention_count = models.PositiveIntegerField("提及次数", default=0)
    first_chapter = models.PositiveIntegerField("首次出现", null=True, blank=True)
    last_chapter = models.PositiveIntegerField("最后出现", null=True, blank=True)
    rank = models.PositiveIntegerField("重要度排名", default=0)

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

    novel = models.ForeignKey(Novel, on_delete=models.CASCADE, related_name="relations")
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
    relation = models.ForeignKey(Relation, on_delete=models.CASCADE, related_name="phases")
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
    character = models.ForeignKey(Character, on_delete=models.CASCADE, related_name="attributes")
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


class BatchJob(models.Model):
    class Status(models.TextChoices):
        SUBMITTING = "submitting", "提交中"
        SUBMITTED = "submitted", "已提交"
        COLLECTING = "collecting", "收取结果中"
        DONE = "done", "完成"
        FAILED = "failed", "失败"

    novel = models.ForeignKey(Novel, on_delete=models.CASCADE, related_name="batch_jobs")
    remote_id = models.CharField(
        "远程批处理 ID", max_length=128, null=True, blank=True, unique=True
    )
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
    # A poller owns the job until this time (conditional UPDATE claim; see graph.batches).
    claimed_until = models.DateTimeField("占用至", null=True, blank=True)
    attempts = models.PositiveIntegerField("轮询出错次数", default=0)
    last_error = models.TextField("最近错误", blank=True)

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

    novel = models.ForeignKey(Novel, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField("类型", max_length=16, choices=Kind)
    subject = models.CharField("对象", max_length=140)
    relation = models.ForeignKey(
        Relation, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    character = models.ForeignKey(
        Character, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    custom_id = models.CharField("custom_id", max_length=64, unique=True)
    request = models.JSONField("请求体", encoder=ReadableJSONEncoder)
    status = models.CharField("状态", max_length=16, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    batch_job = models.ForeignKey(
        BatchJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    response = models.TextField("模型回复", blank=True)
    result = models.JSONField("解析结果", null=True, blank=True, encoder=ReadableJSONEncoder)
    origin = models.CharField("来源", max_length=16, choices=Origin, blank=True)
    prompt_tokens = models.PositiveIntegerField("输入 tokens", default=0)
    completion_tokens = models.PositiveIntegerField("输出 tokens", default=0)
    last_error = models.TextField("最近错误", blank=True)
    created = models.DateTimeField("创建时间", default=timezone.now)
    updated = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "模型任务"
        verbose_name_plural = "模型任务"
        ordering = ["novel_id", "id"]
        indexes = [
            # pipeline: the tasks of a novel still to send or to settle.
            models.Index(fields=["novel", "status"], name="graph_llmtask_novel_status"),
        ]

    def __str__(self) -> str:
        return self.custom_id or f"LLMTask {self.pk}"

    @property
    def settled(self) -> bool:
        return self.status in SETTLED


# Task statuses by what they mean for the pipeline (queries use these, not ad-hoc lists).
SETTLED = (LLMTask.Status.SUCCEEDED, LLMTask.Status.DEFAULTED)  # has its final result
TO_SEND = (LLMTask.Status.PENDING, LLMTask.Status.FAILED)  # waits for a (new) request
UNANSWERED = (LLMTask.Status.FAILED, LLMTask.Status.DEFAULTED)  # no good answer yet


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
