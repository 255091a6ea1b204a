"""Passages of the chapters and their vectors, for search."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from graph.models.novels import Novel


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
