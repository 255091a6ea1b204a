"""Shared pieces of the tables: the JSON encoder, origins, modes, the relation type choices."""

from __future__ import annotations

import json

from django.db import models

from graph import taxonomy

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
