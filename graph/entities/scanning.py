"""Mention scanning: one Aho-Corasick pass over the novel with every name at once."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

import ahocorasick_rs

_FIRST = itemgetter(0)  # the pattern index of an automaton match

Key = Hashable

# Pattern slot for a name string claimed by several keys. It still takes part in the
# longest-match scan, so that it hides the shorter names inside it, but credits nobody.
_AMBIGUOUS: object = object()
_NEWLINE = re.compile("\n")


def is_cjk(ch: str) -> bool:
    """Is `ch` a Chinese character (CJK Unified Ideographs), not punctuation or a space?"""
    return "\u4e00" <= ch <= "\u9fff"


@dataclass
class MentionIndex:
    """Where each key is named.

    `paragraphs` lists (chapter number, paragraph index, keys named) for every paragraph that
    names at least one key, in reading order. The paragraph index is the position in
    ``chapter_body.split("\\n")``, so a caller can get the text back without re-splitting.
    """

    counts: dict[Key, int] = field(default_factory=dict)
    first: dict[Key, int] = field(default_factory=dict)
    last: dict[Key, int] = field(default_factory=dict)
    paragraphs: list[tuple[int, int, frozenset[Key]]] = field(default_factory=list)
    # Mentions per chapter: {chapter number: {key: count}} (what an update of the novel sums).
    per_chapter: dict[int, dict[Key, int]] = field(default_factory=dict)


def build_automaton(names: Mapping[Key, Sequence[str]]) -> tuple[ahocorasick_rs.AhoCorasick, list]:
    """Compile all names into one leftmost-longest automaton.

    Returns the automaton and, per pattern index, the key it credits (or `_AMBIGUOUS`).
    """
    owner: dict[str, object] = {}
    for key, strings in names.items():
        for s in strings:
            if not s:
                continue
            prev = owner.get(s)
            if prev is None:
                owner[s] = key
            elif prev is not _AMBIGUOUS and prev != key:
                owner[s] = _AMBIGUOUS
    patterns = list(owner)
    keys = [owner[p] for p in patterns]
    if not patterns:
        # ahocorasick_rs rejects an empty pattern list; a pattern that cannot occur in
        # text split on newlines keeps the code path uniform.
        patterns, keys = ["\n\n\n\n"], [_AMBIGUOUS]
    automaton = ahocorasick_rs.AhoCorasick(
        patterns, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest
    )
    return automaton, keys


def scan_mentions(
    chapters: Sequence[tuple[int, str]], names: Mapping[Key, Sequence[str]]
) -> MentionIndex:
    """Count every key's mentions in one pass with all names at once.

    Matching is leftmost-longest and non-overlapping, so 悟空 inside 孙悟空 is one mention of
    whoever owns 孙悟空. A name string listed under two keys is ambiguous and credits neither.
    Keys that are never named are absent from `counts`, `first` and `last`.
    """
    automaton, keys = build_automaton(names)
    index = MentionIndex()
    counts, first, last = index.counts, index.first, index.last
    for number, body in chapters:
        matches = automaton.find_matches_as_indexes(body)
        if not matches:
            continue
        # Paragraph boundaries: start offset of each paragraph after the first.
        starts = [m.end() for m in _NEWLINE.finditer(body)]
        current_par = -1
        current_keys: set = set()
        here = index.per_chapter.setdefault(number, {})
        for pattern_index, start, _end in matches:
            key = keys[pattern_index]
            if key is _AMBIGUOUS:
                continue
            par = bisect_right(starts, start)
            if par != current_par:
                if current_keys:
                    index.paragraphs.append((number, current_par, frozenset(current_keys)))
                current_par, current_keys = par, set()
            current_keys.add(key)
            counts[key] = counts.get(key, 0) + 1
            here[key] = here.get(key, 0) + 1
            # min/max rather than first/last seen: callers may pass chapters out of order.
            if key not in first or number < first[key]:
                first[key] = number
            if key not in last or number > last[key]:
                last[key] = number
        if current_keys:
            index.paragraphs.append((number, current_par, frozenset(current_keys)))
    return index


def count_all(chapters: Sequence[tuple[int, str]], strings: Collection[str]) -> Counter:
    """Occurrences of every string in the chapters (overlapping), in one automaton pass."""
    patterns = list(dict.fromkeys(s for s in strings if s))
    if not patterns:
        return Counter()
    automaton = ahocorasick_rs.AhoCorasick(patterns)
    found: Counter = Counter()
    for _number, body in chapters:
        found.update(map(_FIRST, automaton.find_matches_as_indexes(body, overlapping=True)))
    return Counter({patterns[i]: n for i, n in found.items()})
