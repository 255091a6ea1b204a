"""Bare titles (皇叔, 使君, 温侯) that one person holds in a novel.

A title standing alone names whoever holds it in the scene. It is given to one person when
the text ties it to that person in two independent ways:

* *votes*: the title's compound forms already attached to someone (刘皇叔 in 刘备's names) and
  direct appositions (温侯吕布, 御弟三藏), counted per use; one person must hold at least
  `MAJORITY` of at least `MIN_VOTES` votes;
* *scenes*: the bare uses stand where that person was just named (within `WINDOW` characters
  before) clearly more often than an arbitrary point of the text does (`MIN_COVER`, `MIN_LIFT`),
  so a title the novel spreads over many people (娘娘, 道士, 姨娘) is left alone even when the
  name list holds only one of its compounds.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Collection, Sequence

from .aliases import UnionFind, split_surname
from .lexicon import KIN_ADDRESS, TITLES
from .scanning import build_automaton

MIN_VOTES = 5
MAJORITY = 0.8
MIN_BARE = 5  # uses of the title outside a longer name
WINDOW = 300
MIN_COVER = 0.6
MIN_LIFT = 1.5
_COUNTED = frozenset("一二三四五六七八九十两众诸")  # 三人, 四众: head counts
_COLLECTIVE = frozenset("徒们众")  # 师徒, 小的们
_SAMPLE_STEP = 97  # characters between the probes of the baseline


def _title_candidates(groups: Sequence[list[str]], titles: Collection[str]) -> set[str]:
    """Bare titles worth testing: listed titles, and the title part of surname + title names
    (吕温侯 -> 温侯) that is not a name of the same person already."""
    out = set(titles)
    for g in groups:
        members = set(g)
        for m in g:
            parts = split_surname(m)
            if parts and len(parts[1]) == 2 and parts[1] not in members:
                out.add(parts[1])
    return {
        t
        for t in out
        if len(t) >= 2
        and t[0] != t[1]  # 老老, 哥哥: reduplicated words
        and t[0] not in _COUNTED
        and t[-1] not in _COLLECTIVE
        and t not in KIN_ADDRESS
    }


def bare_title_links(
    chapters: Sequence[tuple[int, str]], uf: UnionFind, titles: Collection[str] = TITLES
) -> list[tuple[str, str]]:
    """(title, member of its holder) for bare titles one person holds (see module doc)."""
    groups = uf.groups()
    group_of = {m: i for i, g in enumerate(groups) for m in g}
    cands = {t for t in _title_candidates(groups, titles) if t not in group_of}
    if not cands:
        return []
    patterns: dict[object, list[str]] = {m: [m] for m in group_of}
    patterns.update({("t", t): [t] for t in cands})
    automaton, keys = build_automaton(patterns)
    votes: dict[str, Counter] = {t: Counter() for t in cands}
    bare: dict[str, list[tuple[int, int]]] = {t: [] for t in cands}  # (chapter, position)
    compound = {m: [t for t in cands if len(m) > len(t) and m.endswith(t)] for m in group_of}
    seen: dict[int, list[tuple[int, int]]] = {}  # group -> (chapter, position) of its names
    probes: list[tuple[int, int]] = []
    for number, body in chapters:
        prev: tuple[object, int] | None = None
        for idx, start, end in automaton.find_matches_as_indexes(body):
            key = keys[idx]
            if isinstance(key, tuple):
                bare[key[1]].append((number, start))
            elif isinstance(key, str):
                g = group_of[key]
                seen.setdefault(g, []).append((number, start))
                for t in compound[key]:
                    votes[t][g] += 1  # a compound form (刘皇叔)
            if prev is not None and prev[1] == start:
                a, b = prev[0], key
                if isinstance(a, tuple) and isinstance(b, str):
                    votes[a[1]][group_of[b]] += 1  # 温侯 + 吕布
                elif isinstance(a, str) and isinstance(b, tuple):
                    votes[b[1]][group_of[a]] += 1  # 吕布 + 温侯
            prev = (key, end)
        probes.extend((number, p) for p in range(0, len(body), _SAMPLE_STEP))

    def cover(g: int, points: list[tuple[int, int]]) -> float:
        at = seen.get(g, [])
        hit = 0
        for number, pos in points:
            i = bisect.bisect_left(at, (number, pos)) - 1
            if i >= 0 and at[i][0] == number and pos - at[i][1] <= WINDOW:
                hit += 1
        return hit / len(points) if points else 0.0

    links = []
    for t, counter in votes.items():
        total = sum(counter.values())
        if total < MIN_VOTES or len(bare[t]) < MIN_BARE:
            continue
        g, n = counter.most_common(1)[0]
        if n < MAJORITY * total:
            continue
        c = cover(g, bare[t])
        base = cover(g, probes)
        if c >= MIN_COVER and c >= MIN_LIFT * base:
            links.append((t, groups[g][0]))
    return links
