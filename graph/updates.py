"""The local stages of an update (a longer version of a stored novel, see graph/versions.py): they
read only the new or changed chapters.

- characters: discovery on those chapters; names nobody has yet become new characters (the
  others keep their ids, aliases and manual edits);
- pairs: those chapters are counted (graph/tallies.py) and every figure is the sum of the
  chapters' tallies; pairs that now rank among the asked ones get an edge;
- tasks: questions only where an answer can change (graph/update_questions.py), within a request
  budget that scales with the new text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import ahocorasick_rs
from django.conf import settings
from django.db import transaction

from graph import budget, grouped_questions, prompts, tallies
from graph.cooccurrence import (
    SHORTLIST,
    PairStat,
    ParagraphStore,
    pair_statistics,
    top_pairs,
)
from graph.dbutil import bulk_set
from graph.entities import discover_characters, scan_mentions
from graph.models import Character, LLMTask, Novel, NovelVersion, Relation
from graph.names import same_surname
from graph.pipeline import (
    NAME_CHARS,
    PER_PERSON_SHARE,
    SURNAME_BONUS,
    Workspace,
    ordered,
    places_of,
)
from graph.progress import Progress

UPDATE_FACTOR = 1.5  # requests per new character of text, relative to a fresh run
UPDATE_MIN_REQUESTS = 20


@dataclass(frozen=True)
class UpdatePlan:
    """The update's request budget and its split (the shares of a fresh run's plan)."""

    total: int
    attributes: int
    evolutions: int

    @property
    def relations(self) -> int:
        return max(0, self.total - self.attributes - self.evolutions)


class UpdateWorkspace(Workspace):
    """What the update's stages share: the new or changed chapters, and the stored chapters
    that name a character this version added (they are counted again, with every name)."""

    def __init__(self, novel: Novel, version: NovelVersion):
        super().__init__(novel)
        self.version = version

    @cached_property
    def chapters(self) -> list[tuple[int, str]]:
        rows = self.novel.chapters.filter(number__in=self.version.changed)
        return list(rows.order_by("number").values_list("number", "text"))

    @cached_property
    def new_ids(self) -> set[int]:
        """Characters this version added (in no earlier version's roster)."""
        earlier = self.novel.versions.filter(number__lt=self.version.number)
        known = {int(pk) for roster in earlier.values_list("roster", flat=True) for pk in roster}
        return set(self.characters) - known

    @cached_property
    def reread(self) -> list[tuple[int, str]]:
        """Stored chapters (not changed) where a name of a new character occurs."""
        names = [name for pk in self.new_ids for name in self.characters[pk].names]
        if not names:
            return []
        automaton = ahocorasick_rs.AhoCorasick(names)
        rows = self.novel.chapters.exclude(number__in=self.version.changed).order_by("number")
        return [
            (number, text)
            for number, text in rows.values_list("number", "text").iterator(chunk_size=100)
            if automaton.find_matches_as_indexes(text)
        ]

    @cached_property
    def reread_index(self):
        return scan_mentions(self.reread, {pk: c.names for pk, c in self.characters.items()})

    @cached_property
    def reread_stats(self) -> dict[frozenset, PairStat]:
        stats = pair_statistics(self.reread_index.paragraphs)
        return {frozenset((s.a, s.b)): s for s in stats.values()}

    @cached_property
    def store(self) -> ParagraphStore:
        return ParagraphStore([*self.chapters, *self.reread])

    @cached_property
    def places(self) -> dict[int, list]:
        """Where each character is named in the chapters read (new, changed and read again)."""
        return places_of(self.index, self.reread_index)

    @property
    def shortlist(self) -> int:
        """An update asks few questions: each gets the full ranking of its candidates."""
        return SHORTLIST

    def meetings(self, key: frozenset) -> list:
        """Where a pair meets in the chapters read (new, changed and read again)."""
        found = [
            stats[key].locations for stats in (self.pair_stats, self.reread_stats) if key in stats
        ]
        return [loc for locations in found for loc in locations]

    @cached_property
    def totals(self) -> tallies.Totals:
        """The whole book's figures, summed over the chapters' stored tallies."""
        return tallies.totals(self.novel, self.characters.values())

    @cached_property
    def share(self) -> float:
        """The share of the novel's text this version brings."""
        return sum(len(text) for _, text in self.chapters) / max(1, self.novel.char_count)

    @cached_property
    def plan(self) -> UpdatePlan:
        total = max(
            UPDATE_MIN_REQUESTS,
            math.ceil(budget.requests_for(self.novel.char_count) * self.share * UPDATE_FACTOR),
        )
        return UpdatePlan(
            total, int(total * budget.ATTRIBUTE_SHARE), int(total * budget.EVOLUTION_SHARE)
        )


def add_characters(novel: Novel, ws: UpdateWorkspace, progress: Progress) -> None:
    """New characters from the new chapters; the stored ones stay as they are."""
    limit = settings.GRAPH_CHARACTER_LIMIT
    existing = list(novel.characters.all())
    room = max(limit - len(existing), math.ceil(limit * ws.share))
    taken = {name for c in existing for name in c.names}
    rank = max((c.rank for c in existing), default=0)
    rows = []
    for found in discover_characters(ws.chapters, limit=limit):
        if len(rows) >= room:
            break
        if found.name in taken or len(found.name) > NAME_CHARS:
            continue
        aliases = [a for a in found.aliases if a not in taken and len(a) <= NAME_CHARS]
        taken.update([found.name, *aliases])
        rank += 1
        rows.append(Character(novel=novel, name=found.name, aliases=aliases, rank=rank))
    with transaction.atomic():
        Character.objects.bulk_create(rows, batch_size=500)
        novel.advance(Novel.Stage.CHARACTERS)
    progress.line(
        f"新章节人物识别完成：新增 {len(rows)} 个人物，原有 {len(existing)} 个保持不变（id、别名、人工修改）"
    )


def count_pairs(novel: Novel, ws: UpdateWorkspace, progress: Progress) -> None:
    """Count the chapters read, sum every chapter's counts, give the new leading pairs an edge."""
    characters = ws.characters
    counted = tallies.count_chapters(ws.index, ws.pair_stats.values())
    counted.update(tallies.count_chapters(ws.reread_index, ws.reread_stats.values()))
    numbers = [number for number, _ in [*ws.chapters, *ws.reread]]
    missing = _uncounted(novel, numbers)
    if missing:
        counted.update(_count(novel, ws, missing))
    sums = tallies.totals(
        novel, characters.values(), fresh=counted, fresh_numbers=numbers + missing
    )
    for pk, character in characters.items():
        character.mention_count = sums.mentions.get(pk, 0)
        character.first_chapter, character.last_chapter = sums.first.get(pk), sums.last.get(pk)
    relations = list(novel.relations.all())
    for relation in relations:
        stat = sums.pairs.get(frozenset((relation.source_id, relation.target_id)))
        relation.cooccurrence = stat.count if stat else 0
        relation.first_chapter = stat.first if stat else None
        relation.last_chapter = stat.last if stat else None
    ws.totals = sums
    new = new_relations(novel, ws, relations)
    with transaction.atomic():
        tallies.store(novel, numbers + missing, counted)
        tallies.record_roster(novel, characters.values())
        bulk_set(characters.values(), ["mention_count", "first_chapter", "last_chapter"])
        bulk_set(relations, ["cooccurrence", "first_chapter", "last_chapter"])
        Relation.objects.bulk_create(new, batch_size=500)
        novel.advance(Novel.Stage.PAIRS)
    reread = f"，另重读提到新人物的旧章节 {len(ws.reread)} 章" if ws.reread else ""
    if missing:
        reread += f"，补算此前没有保存计数的旧章节 {len(missing)} 章（仅此一次）"
    progress.line(
        f"共现统计完成：只读新增或修改的 {len(ws.chapters)} 章{reread}，其余章节用已存的计数；"
        f"{len(ws.pair_stats)} 对人物在新章节同段出现，新增 {len(new)} 对送去分类"
    )


def _uncounted(novel: Novel, counted: list[int]) -> list[int]:
    """Stored chapters counted before tallies existed (other than those just counted)."""
    done = set(counted)
    return [number for number in tallies.uncounted(novel) if number not in done]


def _count(novel: Novel, ws: UpdateWorkspace, numbers: list[int]) -> dict:
    """Tallies of the stored chapters `numbers` (once per novel stored before tallies)."""
    rows = novel.chapters.filter(number__in=numbers).order_by("number")
    index = scan_mentions(
        list(rows.values_list("number", "text")),
        {pk: c.names for pk, c in ws.characters.items()},
    )
    return tallies.count_chapters(index, pair_statistics(index.paragraphs).values())


def new_relations(novel: Novel, ws: UpdateWorkspace, relations: list) -> list[Relation]:
    """Pairs a fresh run of the whole book would ask about (ranked on the summed counts, the
    names' surname bonus included) that have no edge yet and meet in the chapters read; the
    best first, within the plan's relation share."""
    characters, totals = ws.characters, ws.totals.pairs
    have = {frozenset((r.source_id, r.target_id)) for r in relations}
    full = budget.plan(novel.char_count, [c.mention_count for c in characters.values()])
    most = full.pairs

    def family(stat: PairStat) -> float:
        a, b = characters[stat.a], characters[stat.b]
        return SURNAME_BONUS if same_surname(a.names, b.names) else 1.0

    ranked = top_pairs(
        totals, most, bonus=family, per_person=max(1, round(most * PER_PERSON_SHARE)), everyone=True
    )
    chosen = []
    for stat in ranked:
        key = frozenset((stat.a, stat.b))
        if key not in have and ws.meetings(key):
            chosen.append(_relation(novel, ws, stat, key))
        if len(chosen) >= ws.plan.relations:
            break
    return chosen


def _relation(novel: Novel, ws: UpdateWorkspace, total: PairStat, key: frozenset) -> Relation:
    a, b = ordered(*(ws.characters[pk] for pk in key))
    snippets = ws.evidence(ws.meetings(key), a.names, b.names)
    return Relation(
        novel=novel,
        source=a,
        target=b,
        pair_key=Relation.key_for(a.pk, b.pk),
        cooccurrence=total.count,
        first_chapter=total.first,
        last_chapter=total.last,
        snippets=prompts.stored_snippets(snippets),
    )


def build_tasks(novel: Novel, ws: UpdateWorkspace, progress: Progress) -> None:
    from graph import update_questions

    update_questions.build(novel, ws, progress)


def restart_from(novel: Novel, version: NovelVersion, previous: str) -> None:
    """Forget the update's stages from the one after `previous`: its questions go (the ones they
    replaced are attached again); characters and edges it added stay (the stages find them)."""
    with transaction.atomic():
        asked = list(version.tasks().only("question"))
        for task in asked:
            for old in task.question.get("supersedes", []):
                relation = _existing(Relation, old.get("relation"))
                character = _existing(Character, old.get("character"))
                if "member" in old:  # a member of a grouped question (graph/grouped_questions.py)
                    grouped_questions.attach(
                        LLMTask.objects.get(pk=old["id"]), old["member"], relation, character
                    )
                    continue
                LLMTask.objects.filter(pk=old["id"]).update(
                    relation_id=relation, character_id=character
                )
        version.tasks().delete()
        novel.reopen(previous)


def _existing(model, pk: int | None) -> int | None:
    return pk if pk and model.objects.filter(pk=pk).exists() else None


# The update's local stages, by the stage each one finishes (see pipeline.STAGES).
STAGES = {
    Novel.Stage.CHARACTERS: ("识别新章节人物", add_characters),
    Novel.Stage.PAIRS: ("统计新章节共现", count_pairs),
    Novel.Stage.TASKS: ("生成需要重新回答的任务", build_tasks),
}
