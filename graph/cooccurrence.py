"""Pair statistics and evidence selection: who appears with whom, where, and which lines show it."""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from graph.cues import cue_count
from graph.prompts import Snippet

Key = Hashable
Location = tuple[int, int]  # (chapter number, paragraph index)

SNIPPET_CHARS = 160  # longest snippet sent to the model
PROMPT_OVERHEAD_TOKENS = 450  # instructions and taxonomy around the snippets
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def estimate_tokens(text: str) -> int:
    """Rough GLM token count: about 0.7 token per Chinese character, 0.25 per other character."""
    cjk = len(_CJK.findall(text))
    return math.ceil(cjk * 0.7 + (len(text) - cjk) * 0.25)


@dataclass
class PairStat:
    a: Key
    b: Key
    count: int = 0
    first: int = 0
    last: int = 0
    chapters: set[int] = field(default_factory=set)
    locations: list[Location] = field(default_factory=list)

    @property
    def score(self) -> float:
        # Meeting in many chapters says more than one long scene full of both names.
        return self.count * (1.0 + math.log(len(self.chapters)))

    def parts_met(self, chapter_count: int, parts: int = 3) -> int:
        """In how many of the book's `parts` equal stretches the pair meets."""
        size = max(1, math.ceil(chapter_count / parts))
        return len({(c - 1) // size for c in self.chapters})


def pair_statistics(paragraph_keys: Iterable[tuple[int, int, frozenset]]) -> dict[tuple, PairStat]:
    """Count every pair named in the same paragraph: count, chapter span and locations."""
    stats: dict[tuple, PairStat] = {}
    for chapter, index, keys in paragraph_keys:
        if len(keys) < 2:
            continue
        for a, b in combinations(sorted(keys, key=str), 2):
            stat = stats.get((a, b))
            if stat is None:
                stat = stats[(a, b)] = PairStat(a, b, first=chapter)
            stat.count += 1
            stat.last = chapter
            stat.chapters.add(chapter)
            stat.locations.append((chapter, index))
    return stats


def top_pairs(stats: Mapping[tuple, PairStat], limit: int) -> list[PairStat]:
    return sorted(stats.values(), key=lambda s: (-s.score, str(s.a), str(s.b)))[:limit]


class ParagraphStore:
    """Paragraph text by location, split lazily per chapter."""

    def __init__(self, chapters: Sequence[tuple[int, str]]):
        self._texts = dict(chapters)
        self._split: dict[int, list[str]] = {}

    def get(self, location: Location) -> str:
        chapter, index = location
        if chapter not in self._split:
            self._split[chapter] = self._texts[chapter].split("\n")
        return self._split[chapter][index]


def _positions(text: str, names: Sequence[str]) -> list[tuple[int, int]]:
    pattern = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    return [m.span() for m in re.finditer(pattern, text)] if pattern else []


def window(text: str, names_a: Sequence[str], names_b: Sequence[str] = ()) -> str:
    """The part of a paragraph around the names (both of them, closest pair, when two are given)."""
    spans_a = _positions(text, names_a)
    spans_b = _positions(text, names_b) if names_b else []
    if not spans_a:
        return text[:SNIPPET_CHARS]
    if spans_b:
        sa, sb = min(
            ((x, y) for x in spans_a for y in spans_b), key=lambda p: abs(p[0][0] - p[1][0])
        )
        start, end = min(sa[0], sb[0]), max(sa[1], sb[1])
    else:
        start, end = spans_a[0]
    if end - start > SNIPPET_CHARS:
        half = SNIPPET_CHARS // 2
        return text[start : start + half] + "……" + text[end - half : end]
    pad = (SNIPPET_CHARS - (end - start)) // 2
    lo = max(0, start - pad)
    return text[lo : min(len(text), lo + SNIPPET_CHARS)]


def select_evidence(
    locations: Sequence[Location],
    store: ParagraphStore,
    names_a: Sequence[str],
    names_b: Sequence[str] = (),
    *,
    budget_tokens: int,
    max_snippets: int = 8,
    spread: int = 3,
) -> list[Snippet]:
    """A few snippets spread over the book (early, middle, late), preferring relation cues,
    within a token budget; returned in chapter order."""
    budget = max(0, budget_tokens - PROMPT_OVERHEAD_TOKENS)
    ordered = sorted(set(locations))
    if not ordered:
        return []
    # Cap the candidates looked at, evenly over the book, so a pair met 5,000 times stays cheap.
    step = max(1, len(ordered) // 200)
    candidates = ordered[::step]
    scored = []
    for position, location in enumerate(candidates):
        text = window(store.get(location), names_a, names_b)
        scored.append((cue_count(text), position, location, text))
    buckets = max(1, min(spread, len(scored)))
    size = math.ceil(len(scored) / buckets)
    picked: dict[Location, str] = {}
    for start in range(0, len(scored), size):
        best = max(scored[start : start + size], key=lambda s: (s[0], -s[1]))
        picked[best[2]] = best[3]
    for item in sorted(scored, key=lambda s: (-s[0], s[1])):
        if len(picked) >= max_snippets:
            break
        picked.setdefault(item[2], item[3])
    chosen, used = [], 0
    # Spend the budget on the spread picks first, then the best-cued others.
    priority = list(picked)
    for location in priority:
        text = picked[location]
        cost = estimate_tokens(text) + 8
        if used + cost > budget and chosen:
            continue
        chosen.append(Snippet(location[0], text))
        used += cost
    return sorted(chosen, key=lambda s: s.chapter)
