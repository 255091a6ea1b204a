"""Per-chapter counts and their sums: what each chapter adds to the graph's figures (mentions per
character, paragraphs naming each pair), stored on the chapter, so an update of a serialized novel
counts only its new or changed chapters and sums the rest instead of rereading the book.

Tallies are keyed by character id. A character merged into another since it was counted is found
by its name (the versions' rosters keep id -> name), and its counts go to whoever holds the name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from graph.cooccurrence import PairStat
from graph.dbutil import bulk_set
from graph.entities import MentionIndex
from graph.models import Chapter, Character, Novel, NovelVersion, Relation


def pair_key(a: int, b: int) -> str:
    return Relation.key_for(a, b)


def count_chapters(index: MentionIndex, stats: Iterable[PairStat]) -> dict[int, tuple[dict, dict]]:
    """{chapter: (mentions, pairs)} from one scan of some chapters and their pair statistics."""
    tallies: dict[int, tuple[dict, dict]] = {}
    for chapter, counts in index.per_chapter.items():
        tallies[chapter] = ({str(k): n for k, n in counts.items()}, {})
    for stat in stats:
        key = pair_key(stat.a, stat.b)
        for chapter, n in Counter(c for c, _ in stat.locations).items():
            tallies.setdefault(chapter, ({}, {}))[1][key] = n
    return tallies


def store(novel: Novel, numbers: Iterable[int], tallies: Mapping[int, tuple[dict, dict]]) -> None:
    """Write the tallies of chapters `numbers` (a chapter nobody is named in gets empty ones)."""
    rows = list(novel.chapters.filter(number__in=list(numbers)).only("id", "number"))
    for row in rows:
        row.mentions, row.pairs = tallies.get(row.number, ({}, {}))
    bulk_set(rows, ["mentions", "pairs"])


def record_roster(novel: Novel, characters: Iterable[Character]) -> None:
    """Remember who the ids of the tallies just written are (on the latest version)."""
    version = novel.versions.order_by("-number").first()
    if version is not None:
        version.roster = {str(c.pk): c.name for c in characters}
        version.save(update_fields=["roster"])


@dataclass
class Totals:
    """The novel's figures summed over its chapters: per character and per pair."""

    mentions: Counter = field(default_factory=Counter)
    first: dict[int, int] = field(default_factory=dict)
    last: dict[int, int] = field(default_factory=dict)
    pairs: dict[frozenset, PairStat] = field(default_factory=dict)

    def add_mentions(self, key: int, chapter: int, n: int) -> None:
        self.mentions[key] += n
        self.first[key] = min(self.first.get(key, chapter), chapter)
        self.last[key] = max(self.last.get(key, chapter), chapter)

    def add_pair(self, a: int, b: int, chapter: int, n: int) -> None:
        key = frozenset((a, b))
        stat = self.pairs.get(key)
        if stat is None:
            stat = self.pairs[key] = PairStat(min(a, b), max(a, b), first=chapter, last=chapter)
        stat.count += n
        stat.first, stat.last = min(stat.first, chapter), max(stat.last, chapter)
        stat.chapters.add(chapter)


class _Resolver:
    """Tally id -> the character that holds it now (itself, or who took its name in a merge)."""

    def __init__(self, novel: Novel, characters: Iterable[Character]):
        self.current = {c.pk for c in characters}
        self.owner = {name: c.pk for c in characters for name in c.names}
        self.roster: dict[str, str] = {}
        for roster in (
            NovelVersion.objects.filter(novel=novel)
            .order_by("number")
            .values_list("roster", flat=True)
        ):
            self.roster.update(roster or {})
        self.cache: dict[str, int | None] = {}

    def __call__(self, key: str) -> int | None:
        if key not in self.cache:
            pk = int(key)
            self.cache[key] = pk if pk in self.current else self.owner.get(self.roster.get(key))
        return self.cache[key]


def totals(
    novel: Novel,
    characters: Iterable[Character],
    *,
    fresh: Mapping[int, tuple[dict, dict]] | None = None,
    fresh_numbers: Iterable[int] = (),
) -> Totals:
    """Sum every counted chapter's tallies for the characters as they are now. `fresh`: tallies
    just counted for chapters `fresh_numbers` (not stored yet), used instead of the stored ones."""
    characters, fresh, skip = list(characters), fresh or {}, set(fresh_numbers)
    resolve, sums = _Resolver(novel, characters), Totals()
    rows = novel.chapters.filter(mentions__isnull=False).exclude(number__in=skip)
    stored = rows.values_list("number", "mentions", "pairs").iterator(chunk_size=200)
    for number, mentions, pairs in [*stored, *((n, *fresh[n]) for n in skip if n in fresh)]:
        for key, n in mentions.items():
            pk = resolve(key)
            if pk is not None:
                sums.add_mentions(pk, number, n)
        for key, n in (pairs or {}).items():
            low, high = key.split("-")
            a, b = resolve(low), resolve(high)
            if a is not None and b is not None and a != b:
                sums.add_pair(a, b, number, n)
    return sums


def uncounted(novel: Novel) -> list[int]:
    """Chapters without tallies (stored before tallies existed)."""
    return list(
        Chapter.objects.filter(novel=novel, mentions__isnull=True)
        .order_by("number")
        .values_list("number", flat=True)
    )
