"""Alias grouping: which candidate names belong to the same person.

Conservative by design: a wrong merge (two people shown as one) is worse than a missed alias,
so every rule refuses to link when the evidence points at more than one person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .lexicon import SURNAMES_1, SURNAMES_2


class UnionFind:
    """Disjoint sets over strings."""

    def __init__(self, items: Iterable[str]) -> None:
        self.parent = {x: x for x in items}

    def find(self, x: str) -> str:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:  # path compression
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra

    def groups(self) -> list[list[str]]:
        out: dict[str, list[str]] = {}
        for x in self.parent:
            out.setdefault(self.find(x), []).append(x)
        return list(out.values())


def split_surname(name: str) -> tuple[str, str] | None:
    """(surname, rest) when `name` starts with a known surname and has 1-2 more characters."""
    if len(name) >= 4 and name[:2] in SURNAMES_2 and len(name) <= 4:
        return name[:2], name[2:]
    if 2 <= len(name) <= 3 and name[0] in SURNAMES_1:
        return name[0], name[1:]
    return None


# "姓刘，名备，字玄德", "复姓诸葛，名亮，字孔明", "姓贾名化，表字时飞".
_FULL_INTRO = re.compile(
    r"(?:复)?姓([\u4e00-\u9fff]{1,2})[，,]?(?:双)?名([\u4e00-\u9fff]{1,2})[，,]?"
    r"(?:表字|字)([\u4e00-\u9fff]{2})"
)
# "曹仁字子孝", "刘表，字景升": a known name right before 字 / 表字.
_NAME_COURTESY = re.compile(r"([\u4e00-\u9fff]{2,4})[，,]?(?:表字|字)([\u4e00-\u9fff]{2})")


def courtesy_links(text: str, known: set[str]) -> list[tuple[str, str]]:
    """Pairs (name, courtesy name or surname + courtesy name) stated by the narrator.

    Only pairs where at least one side is a known candidate are kept; the other side is
    returned even if it is not a candidate yet, so the caller can decide to add it.
    """
    links: list[tuple[str, str]] = []
    for m in _FULL_INTRO.finditer(text):
        surname, given, courtesy = m.groups()
        full = surname + given
        if full in known or courtesy in known or surname + courtesy in known:
            links.append((full, courtesy))
            links.append((full, surname + courtesy))
    for m in _NAME_COURTESY.finditer(text):
        window, courtesy = m.groups()
        # The name is a suffix of the window ("谯人夏侯惇" -> 夏侯惇); prefer the longest known one.
        name = next((window[-k:] for k in (4, 3, 2) if window[-k:] in known), None)
        if name is None:
            continue
        parts = split_surname(name)
        links.append((name, courtesy))
        if parts:
            links.append((name, parts[0] + courtesy))
    return links


def containment_links(names: Mapping[str, int], dominance: float = 4.0) -> list[tuple[str, str]]:
    """Link a short name to the longer candidate that contains it (悟空 -> 孙悟空).

    `names` maps each candidate to its frequency. When several longer candidates contain the
    short one and they are not nested in each other (张三丰 and 李三丰 both contain 三丰), the
    short name is linked only if one of them is `dominance` times more frequent than all the
    others together; otherwise it is left alone, never given to both.
    """
    by_len = sorted(names, key=len)
    links: list[tuple[str, str]] = []
    longer = [n for n in by_len if len(n) >= 3]
    for short in by_len:
        containers = [n for n in longer if len(n) > len(short) and short in n]
        if not containers:
            continue
        # Keep only maximal distinct "identities": containers not inside another container.
        tops = [c for c in containers if not any(c != o and c in o for o in containers)]
        if len(tops) == 1:
            links.extend((short, c) for c in containers)
            continue
        tops.sort(key=lambda c: -names[c])
        best, rest = tops[0], sum(names[c] for c in tops[1:])
        if names[best] >= dominance * rest:
            links.extend((short, c) for c in containers if c in best)
    return links
