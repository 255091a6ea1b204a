"""The character graph: characters, relations (edges), phases, attributes, who-is-who decisions."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from graph import taxonomy
from graph.models.common import Origin, ReadableJSONEncoder, RelationType
from graph.models.novels import Novel


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
