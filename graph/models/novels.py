"""Novels, their chapters and their versions (each upload that created or extended one)."""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone

from graph.models.common import ERROR_CHARS, Mode, ReadableJSONEncoder


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
