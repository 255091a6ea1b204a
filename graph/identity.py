"""Who is who, decided when answers are applied: the answers' say on identity turned into merges
(two characters are one person), new aliases and "not a person" marks, each recorded as an
`IdentityDecision` with its evidence and origin.

Claims come from the relation question (`同一人物`) and the attribute question (`is_person`, the
other names the text uses). A name is taken only if the text uses it, and never from a character
that is better evidenced under that name; what a person decided (locked aliases, an undone
decision, a manual person mark) is never overridden. Applying the same answers again changes
nothing: merged characters are gone, their names now belong to the one they joined.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from networkx.utils import UnionFind

from graph import grouped_questions, taxonomy
from graph.cooccurrence import pair_statistics
from graph.dbutil import bulk_set
from graph.entities import scan_mentions
from graph.models import (
    Character,
    IdentityDecision,
    LLMTask,
    Novel,
    Origin,
    Relation,
)

MIN_NAME_USES = 2  # an alias the text uses fewer times than this is not taken
NAME_CHARS = 64  # Character.name / alias length
# A character never asked about itself joins the one whose answer names it only when that one is
# named this many times as often (a variant spelling split off by discovery: 鹤寄生 of 鹪寄生).
UNASKED_DOMINANCE = 5
Kind = IdentityDecision.Kind


@dataclass(frozen=True)
class Claim:
    """What one answer says about identity."""

    kind: str
    character_id: int
    other_id: int | None = None  # merge: the other character
    name: str = ""  # alias: the other name
    evidence: str = ""
    origin: str = Origin.LLM


def claims(tasks: Iterable[LLMTask]) -> list[Claim]:
    """The identity claims in settled answers (answers with no character left say nothing)."""
    found = []
    for task in tasks:
        result, origin = task.result or {}, task.origin or Origin.DEFAULT
        if origin == Origin.DEFAULT:
            continue
        if task.kind == LLMTask.Kind.RELATION and task.relation_id:
            if result.get("type") == taxonomy.SAME_PERSON:
                relation = task.relation
                why = f"关系问题 {task.custom_id}：同一人物。{result.get('evidence', '')}"
                found.append(
                    Claim(Kind.MERGE, relation.source_id, relation.target_id, "", why, origin)
                )
        elif task.kind == LLMTask.Kind.ATTRIBUTE and task.character_id:
            if result.get("is_person") is False:
                why = f"属性问题 {task.custom_id}：不是人物。{result.get('identity', '')}"
                found.append(Claim(Kind.NOT_PERSON, task.character_id, None, "", why, origin))
            for name in result.get("aliases") or []:
                why = f"属性问题 {task.custom_id}：又称“{name}”"
                found.append(Claim(Kind.ALIAS, task.character_id, None, name, why, origin))
    return found


class _Book:
    """The novel's characters and what was already decided about them."""

    def __init__(self, novel: Novel):
        self.novel = novel
        self.characters = {c.pk: c for c in novel.characters.all()}
        self.owner = {name: c.pk for c in self.characters.values() for name in c.names}
        self._text: str | None = None
        decisions = list(novel.identity_decisions.all())
        self.undone = {self._key(d.kind, d.character_id, d.names) for d in decisions if d.undone}
        self.undone_names = {n for d in decisions if d.undone for n in d.names}

    @staticmethod
    def _key(kind: str, character_id: int, names: Iterable[str]) -> tuple:
        return kind, character_id, tuple(sorted(names))

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "\n".join(self.novel.chapters.values_list("text", flat=True))
        return self._text

    def fixed(self, pk: int) -> bool:
        """A character a person has settled: its names and person mark stay as they are."""
        c = self.characters.get(pk)
        return c is None or c.aliases_locked or c.person_origin == Origin.MANUAL

    def uses(self, name: str) -> int:
        return self.text.count(name)


def apply(novel: Novel, tasks: Iterable[LLMTask]) -> bool:
    """Apply the identity claims of `tasks`; returns whether characters were merged (the caller
    then recounts the relations from the text)."""
    book = _Book(novel)
    tasks = list(tasks)
    found = claims(tasks)
    asked = {t.character_id for t in tasks if t.kind == LLMTask.Kind.ATTRIBUTE}
    groups, evidence = _merge_groups(book, found, asked)
    merged = False
    regroup = grouped_questions.Regrouper(novel) if groups else None
    for group in groups:
        kept = max(group, key=lambda pk: (book.characters[pk].mention_count, -pk))
        for pk in sorted(set(group) - {kept}):
            _merge(book, book.characters[kept], book.characters[pk], evidence[pk], regroup)
            merged = True
    if regroup:
        regroup.save()
    said = {(c.character_id, c.name) for c in found if c.kind == Kind.ALIAS}
    answered = {c.character_id for c in found if c.kind in (Kind.ALIAS, Kind.NOT_PERSON)}
    answered |= {
        t.character_id
        for t in tasks
        if t.kind == LLMTask.Kind.ATTRIBUTE and t.origin not in ("", Origin.DEFAULT)
    }
    for claim in found:
        if claim.kind == Kind.ALIAS:
            _add_alias(book, claim, said, answered)
        elif claim.kind == Kind.NOT_PERSON:
            _mark_not_person(book, claim)
    if merged:
        recount(novel)
    return merged


def _merge_groups(
    book: _Book, found: list[Claim], asked: set[int]
) -> tuple[list[set[int]], dict[int, Claim]]:
    """Characters to merge, as groups; for each merged character, the claim that merged it.
    `asked`: the characters that had an attribute question of their own."""
    uf, evidence = UnionFind(), {}

    def join(a: int, b: int, claim: Claim) -> None:
        if a == b or book.fixed(a) or book.fixed(b):
            return
        names = book.characters[b].names
        if book._key(Kind.MERGE, a, names) in book.undone or set(names) & book.undone_names:
            return
        uf.union(a, b)
        evidence.setdefault(b, claim)
        evidence.setdefault(a, claim)

    said = {(c.character_id, c.name) for c in found if c.kind == Kind.ALIAS}
    for claim in found:
        if claim.kind == Kind.MERGE and claim.other_id in book.characters:
            join(claim.character_id, claim.other_id, claim)
        elif claim.kind == Kind.ALIAS and claim.character_id in book.characters:
            other = book.owner.get(claim.name)
            if other is None or other == claim.character_id:
                continue
            theirs, claimant = book.characters[other], book.characters[claim.character_id]
            # Another character's own name: one person only if its answer agrees, or, when it
            # was never asked (too rarely named for a question), if it is far less named.
            agrees = any((other, name) in said for name in claimant.names)
            minor = (
                other not in asked
                and theirs.mention_count * UNASKED_DOMINANCE <= claimant.mention_count
            )
            if claim.name == theirs.name and (agrees or minor):
                join(claim.character_id, other, claim)
    groups = [group for group in uf.to_sets() if len(group) > 1]
    return groups, evidence


def _merge(
    book: _Book,
    kept: Character,
    gone: Character,
    claim: Claim,
    regroup: grouped_questions.Regrouper,
) -> None:
    """Fold `gone` into `kept`: names, relations (one edge per pair), tasks (the subjects of
    grouped questions too), attributes."""
    snapshot = {
        "name": gone.name,
        "aliases": gone.aliases,
        "mention_count": gone.mention_count,
        "first_chapter": gone.first_chapter,
        "last_chapter": gone.last_chapter,
        "rank": gone.rank,
    }
    kept.aliases = [*kept.aliases, *(n for n in gone.names if n not in kept.names)]
    kept.save(update_fields=["aliases"])
    _move_relations(book.novel, kept, gone, regroup)
    LLMTask.objects.filter(character=gone).update(character=kept)
    regroup.move("character", gone.pk, kept.pk)
    have = set(kept.attributes.values_list("key", flat=True))
    gone.attributes.exclude(key__in=have).update(character=kept)
    IdentityDecision.objects.filter(character=gone).update(character=kept)
    IdentityDecision.objects.create(
        novel=book.novel,
        kind=Kind.MERGE,
        character=kept,
        names=gone.names,
        snapshot=snapshot,
        evidence=claim.evidence,
        origin=claim.origin,
    )
    for name in gone.names:
        book.owner[name] = kept.pk
    del book.characters[gone.pk]
    gone.delete()


def _move_relations(
    novel: Novel, kept: Character, gone: Character, regroup: grouped_questions.Regrouper
) -> None:
    """Re-point `gone`'s edges to `kept`. An edge between the two goes (its tasks stay, as the
    merge's evidence); where `kept` already has an edge to the same person, the two become one
    (the tasks of both now speak for it: the better-grounded answer wins when applied)."""
    existing = {r.pair_key: r for r in novel.relations.filter(Q(source=kept) | Q(target=kept))}
    for relation in novel.relations.filter(Q(source=gone) | Q(target=gone)):
        other = relation.target_id if relation.source_id == gone.pk else relation.source_id
        if other == kept.pk:
            regroup.move("relation", relation.pk, None)
            relation.delete()
            continue
        key = Relation.key_for(kept.pk, other)
        if key in existing:
            survivor = existing[key]
            relation.tasks.update(relation=survivor)
            regroup.move("relation", relation.pk, survivor.pk)
            if relation.origin == Origin.MANUAL and survivor.origin != Origin.MANUAL:
                survivor.type, survivor.origin = relation.type, Origin.MANUAL
                survivor.save(update_fields=["type", "origin"])
            relation.delete()
            continue
        if relation.source_id == gone.pk:
            relation.source = kept
        else:
            relation.target = kept
        relation.save()
        existing[key] = relation


def _add_alias(book: _Book, claim: Claim, said: set[tuple[int, str]], answered: set[int]) -> None:
    """A name the answer gives: taken when nobody has it, or when it is only another
    character's alias that its own answer did not confirm (a name discovery attached wrongly).
    Another character's own name is never taken (that takes a merge)."""
    name = claim.name.strip()
    character = book.characters.get(claim.character_id)
    if character is None or book.fixed(character.pk):
        return
    holder = book.owner.get(name)
    if holder == character.pk or not 2 <= len(name) <= NAME_CHARS or name in book.undone_names:
        return
    if holder is not None:
        other = book.characters[holder]
        confirmed = holder not in answered or (holder, name) in said
        if name == other.name or confirmed or book.fixed(holder):
            return
    uses = book.uses(name)
    if uses < MIN_NAME_USES:
        return
    if holder is not None:
        other.aliases = [a for a in other.aliases if a != name]
        other.save(update_fields=["aliases"])
    character.aliases = [*character.aliases, name]
    character.save(update_fields=["aliases"])
    book.owner[name] = character.pk
    IdentityDecision.objects.create(
        novel=book.novel,
        kind=Kind.ALIAS,
        character=character,
        names=[name],
        evidence=f"{claim.evidence}（原文出现 {uses} 次）",
        origin=claim.origin,
    )


def _mark_not_person(book: _Book, claim: Claim) -> None:
    character = book.characters.get(claim.character_id)
    if character is None or not character.is_person or book.fixed(character.pk):
        return
    if book._key(Kind.NOT_PERSON, character.pk, []) in book.undone:
        return
    character.is_person, character.person_origin = False, claim.origin
    character.save(update_fields=["is_person", "person_origin"])
    IdentityDecision.objects.create(
        novel=book.novel,
        kind=Kind.NOT_PERSON,
        character=character,
        evidence=claim.evidence,
        origin=claim.origin,
    )


def recount(novel: Novel) -> None:
    """Mentions, chapter spans and co-occurrence counts from the text, for the names as they are
    now (after merges), with the same longest-match scan the pipeline uses."""
    chapters = list(novel.chapters.order_by("number").values_list("number", "text"))
    characters = list(novel.characters.all())
    index = scan_mentions(chapters, {c.pk: c.names for c in characters})
    for c in characters:
        c.mention_count = index.counts.get(c.pk, 0)
        c.first_chapter, c.last_chapter = index.first.get(c.pk), index.last.get(c.pk)
    bulk_set(characters, ["mention_count", "first_chapter", "last_chapter"])
    stats = {frozenset((s.a, s.b)): s for s in pair_statistics(index.paragraphs).values()}
    relations = list(novel.relations.only("source", "target"))
    for relation in relations:
        stat = stats.get(frozenset((relation.source_id, relation.target_id)))
        relation.cooccurrence = stat.count if stat else 0
        relation.first_chapter = stat.first if stat else None
        relation.last_chapter = stat.last if stat else None
    bulk_set(relations, ["cooccurrence", "first_chapter", "last_chapter"])


def undo(decision: IdentityDecision) -> None:
    """Take a decision back (admin): a merged character comes back with its names, an alias
    goes, a non-person is a person again. The decision stays, undone: no re-apply makes it
    again. A restored character's edges come back with `upload_novel --restart-from pairs`."""
    character = decision.character
    if decision.kind == Kind.MERGE:
        snap = decision.snapshot
        character.aliases = [a for a in character.aliases if a not in decision.names]
        character.save(update_fields=["aliases"])
        Character.objects.create(
            novel=decision.novel,
            name=snap["name"],
            aliases=snap.get("aliases", []),
            aliases_locked=True,  # a person has said these names are someone else's: kept
            mention_count=snap.get("mention_count", 0),
            first_chapter=snap.get("first_chapter"),
            last_chapter=snap.get("last_chapter"),
            rank=snap.get("rank", 0),
        )
    elif decision.kind == Kind.ALIAS:
        character.aliases = [a for a in character.aliases if a not in decision.names]
        character.save(update_fields=["aliases"])
    else:
        character.is_person, character.person_origin = True, Origin.MANUAL
        character.save(update_fields=["is_person", "person_origin"])
    decision.undone, decision.origin = True, Origin.MANUAL
    decision.save(update_fields=["undone", "origin"])
