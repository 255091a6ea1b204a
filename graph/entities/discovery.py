"""Character discovery: candidate names -> person filter -> alias groups -> ranked characters."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import jieba

from .aliases import UnionFind, containment_links, courtesy_links, split_surname
from .candidates import CandidateStats, candidate_pool, collect_slot_candidates, gather_stats
from .lexicon import TITLES
from .scanning import scan_mentions

# jieba part-of-speech tags of words that are never names: conjunctions, adverbs, numerals,
# pronouns, prepositions, particles, locatives, verbs, adjectives, idioms... Nouns, time words
# (如来, 元春 are tagged t) and measure words (平儿 is tagged q) are left to the statistics.
_FUNCTION_TAGS = frozenset(
    "c d m r p u ad f v vn vd vg a an ag b l y e o z zg mq uj ul uv uz ug ud k h x dg".split()
)
_FUNCTION_MIN_FREQ = 20  # a rare dictionary entry is weak evidence that a string is a common word


@dataclass
class FoundCharacter:
    """One person found in the novel."""

    name: str
    aliases: list[str] = field(default_factory=list)
    mention_count: int = 0
    first_chapter: int = 0
    last_chapter: int = 0


@functools.cache
def _function_words() -> frozenset[str]:
    """Common non-noun words from jieba's bundled dictionary (loaded once per process)."""
    words = []
    with jieba.get_dict_file() as fh:
        for raw in fh:
            parts = raw.decode("utf-8").split()
            if len(parts) == 3 and parts[2] in _FUNCTION_TAGS:
                if int(parts[1]) >= _FUNCTION_MIN_FREQ and 2 <= len(parts[0]) <= 4:
                    words.append(parts[0])
    return frozenset(words)


def looks_like_person(st: CandidateStats) -> bool:
    """Decide from context statistics whether a candidate string is a person's name."""
    f = st.freq
    if f < 3:
        return False
    # Word boundaries: a fragment has one dominant neighbour (孙悟 + 空, 却 + 说行者).
    loose = f < 10
    if st.left_share > (0.67 if loose else 0.5) or st.right_share > (0.75 if loose else 0.6):
        return False
    # Sentence connectives (所以, 后来, 毕竟不知) almost only ever start a clause.
    if f >= 10 and st.initial / f > 0.9:
        return False
    # Common nouns come with demonstratives and possessives (那妖精, 我师父, 一个和尚).
    if st.modified / f > 0.3:
        return False
    # People speak, are spoken to and start sentences; things and places rarely do.
    evidence = (st.right_slots + st.left_slots + st.initial) / f
    if evidence < 0.3:
        return False
    s = st.text
    if s in _function_words():
        return False
    # 小丫头, 老和尚, 众小妖: a bare title with a size/age prefix is still a title.
    return not (s[0] in "小老大众诸" and s[1:] in TITLES)


def _canonical(members: list[str], counts: dict[str, int]) -> str:
    """Pick the display name: the most used full form (孙悟空 over 悟空), else the most used."""
    member_set = set(members)
    full_forms = []
    for m in members:
        parts = split_surname(m)
        if parts and parts[1] in member_set and counts.get(m, 0) >= 2:
            full_forms.append(m)
    pool = full_forms or members
    return max(pool, key=lambda m: (counts.get(m, 0), len(m)))


def discover_characters(
    chapters: Sequence[tuple[int, str]], limit: int = 300
) -> list[FoundCharacter]:
    """Find the people of a novel, group their aliases and count their mentions.

    chapters: (chapter number, chapter body with paragraphs separated by "\\n"). Returns at
    most `limit` characters, most mentioned first.
    """
    full = "\n".join(body for _, body in chapters)
    right, left, extra = collect_slot_candidates(full)
    pool = candidate_pool(right, left, extra, min_slots=3, max_pool=8000)
    stats = gather_stats(chapters, pool, right, left)
    people = {s: st for s, st in stats.items() if looks_like_person(st)}

    uf = UnionFind(people)
    for a, b in courtesy_links(full, set(people)):
        if a in people and b in people:
            uf.union(a, b)
    for a, b in containment_links({s: st.freq for s, st in people.items()}):
        uf.union(a, b)

    # One scan with every name as its own key gives per-name counts under longest match.
    index = scan_mentions(chapters, {s: [s] for s in people})
    characters = []
    for members in uf.groups():
        members = [m for m in members if index.counts.get(m, 0) > 0]
        if not members:
            continue
        name = _canonical(members, index.counts)
        aliases = sorted((m for m in members if m != name), key=lambda m: -index.counts[m])
        characters.append(
            FoundCharacter(
                name=name,
                aliases=aliases,
                mention_count=sum(index.counts[m] for m in members),
                first_chapter=min(index.first[m] for m in members),
                last_chapter=max(index.last[m] for m in members),
            )
        )
    characters.sort(key=lambda c: (-c.mention_count, c.first_chapter, c.name))
    return characters[:limit]
