"""Alias grouping: which candidate names belong to the same person.

Conservative by design: a wrong merge (two people shown as one) is worse than a missed alias,
so every rule refuses to link when the evidence points at more than one person.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping

from networkx.utils import UnionFind

from graph.names import COMPOUND_SURNAMES, split_surname


def ordered_groups(uf: UnionFind) -> list[list[str]]:
    """The sets of `uf` as lists, groups and members in the order the names were first added.

    The rules link a form to a group's first member and the display name is the first of the
    most used, so the order must not depend on which member networkx keeps as a set's root.
    """
    out: dict[str, list[str]] = {}
    for x in list(uf):
        out.setdefault(uf[x], []).append(x)
    return list(out.values())


# "姓刘，名备，字玄德", "复姓诸葛，名亮，字孔明", "姓贾名化，表字时飞", "姓关，名羽，字长生，后改云长"
# (the courtesy name taken later is a name of the person too).
_FULL_INTRO = re.compile(
    r"(?:复)?姓([\u4e00-\u9fff]{1,2})[，,]?(?:双)?名([\u4e00-\u9fff]{1,2})[，,]?"
    r"(?:表字|字)([\u4e00-\u9fff]{2})(?:[，,]?后改(?:字)?([\u4e00-\u9fff]{2}))?"
)
# "曹仁字子孝", "刘表，字景升": a known name right before 字 / 表字.
_NAME_COURTESY = re.compile(r"([\u4e00-\u9fff]{2,4})[，,]?(?:表字|字)([\u4e00-\u9fff]{2})")

# "长子名策，字伯符", "懿字仲达": a one-character given name and its courtesy name; the
# surname is found among the names just before (孙坚 ... 长子名策).
_GIVEN_COURTESY = re.compile(
    r"(?:名|(?<=[，。；：\n]))([\u4e00-\u9fff])[，,]?(?:表字|字)([\u4e00-\u9fff]{2})"
)
_NOT_GIVEN = frozenset("表小名题写大刻乳")  # 表字, 小字, 名字: words, not a given name
_SURNAME_WINDOW = 30
_STATED_SURNAME = re.compile(r"姓([\u4e00-\u9fff]{1,2}?)[，,]?$")


def _given_courtesy_links(text: str, known: Collection[str]) -> list[tuple[str, str]]:
    by_given: dict[str, list[tuple[str, str]]] = {}
    for name in known:
        parts = split_surname(name)
        if parts and len(parts[1]) == 1:
            by_given.setdefault(parts[1], []).append((parts[0], name))
    links = []
    for m in _GIVEN_COURTESY.finditer(text):
        given, courtesy = m.groups()
        if given in _NOT_GIVEN:
            continue
        window = text[max(0, m.start() - _SURNAME_WINDOW) : m.start()]
        stated = _STATED_SURNAME.findall(window)  # 姓吉，名太: the surname is given, use it
        owners = {
            name
            for surname, name in by_given.get(given, [])
            if (surname == stated[-1] if stated else surname in window)
        }
        if len(owners) == 1:
            name = owners.pop()
            links.append((name, courtesy))
            links.append((name, name[: -len(given)] + courtesy))
    return links


def courtesy_links(text: str, known: Collection[str]) -> list[tuple[str, str]]:
    """Pairs (name, courtesy name or surname + courtesy name) stated by the narrator.

    Only pairs where at least one side is a known candidate are kept; the other side is
    returned even if it is not a candidate yet, so the caller can decide to add it.
    """
    links: list[tuple[str, str]] = []
    for m in _FULL_INTRO.finditer(text):
        surname, given, courtesy, changed = m.groups()
        full = surname + given
        for style in (courtesy, changed):
            if style and (full in known or style in known or surname + style in known):
                links.append((full, style))
                links.append((full, surname + style))
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
    links.extend(_given_courtesy_links(text, known))
    # A courtesy name stated for two people (徐晃 and 管辂 are both 公明) goes to neither; the
    # surname forms (徐公明, 管公明) stay, they are distinct.
    claimants: dict[str, set[str]] = {}
    for name, alias in links:
        claimants.setdefault(alias, set()).add(name)
    return list(dict.fromkeys(link for link in links if len(claimants[link[1]]) == 1))


def _longer_given_name(short: str, name: str) -> bool:
    """Is `short` a surname + given name that `name` continues with more of a given name (张翼 in
    张翼德, 孙仲 in 孙仲谋)? Those are two names, mostly of two people, not a short form."""
    from graph.names import ADDRESS_TITLES, TITLES

    from .lexicon import NAME_SUFFIXES

    parts = split_surname(short)
    if parts is None or not name.startswith(short):
        return False
    rest = name[len(short) :]
    return not (rest in TITLES or rest in ADDRESS_TITLES or rest[0] in NAME_SUFFIXES)


def containment_links(
    names: Mapping[str, int],
    dominance: float = 4.0,
    tie_break: Callable[[str, list[list[str]]], int | None] | None = None,
) -> list[tuple[str, str]]:
    """Link a short name to the longer candidates that contain it (悟空 -> 孙悟空).

    `names` maps each candidate to its frequency. Longer forms that add different surnames to
    the same string (张三丰 and 李三丰 around 三丰, 贾宝玉 and 甄宝玉 around 宝玉) are two people:
    the short name then goes to one of them only if it is `dominance` times more frequent than
    the others together, or if `tie_break(short, [forms per person])` picks one (by where in
    the book they are used), and otherwise stays on its own, never given to both. Forms that add
    titles (孙大圣, 齐天大圣 around 大圣) are the same person.
    """
    links: list[tuple[str, str]] = []
    longer = [n for n in names if len(n) >= 3]
    # Each longer name under every shorter string inside it, in the order of `longer`.
    holding: dict[str, list[str]] = {}
    for n in longer:
        inner = {n[i:j] for i in range(len(n)) for j in range(i + 1, len(n) + 1)} - {n}
        for sub in inner:
            holding.setdefault(sub, []).append(n)
    for short in names:
        containers = [n for n in holding.get(short, ()) if not _longer_given_name(short, n)]
        if not containers:
            continue
        # One "person" per distinct surname (or single character: 鹿力大仙 / 羊力大仙) put in
        # front of the short name.
        by_surname: dict[str, list[str]] = {}
        for c in containers:
            if c.endswith(short):
                prefix = c[: -len(short)]
                if len(prefix) == 1 or prefix in COMPOUND_SURNAMES:
                    by_surname.setdefault(prefix, []).append(c)
        if len(by_surname) <= 1:
            links.extend((short, c) for c in containers)
            continue
        ranked = sorted(by_surname.values(), key=lambda cs: -sum(names[c] for c in cs))
        best = sum(names[c] for c in ranked[0])
        rest = sum(names[c] for cs in ranked[1:] for c in cs)
        if best >= dominance * rest:
            links.extend((short, c) for c in ranked[0])
        elif tie_break is not None:
            pick = tie_break(short, ranked)
            if pick is not None:
                links.extend((short, c) for c in ranked[pick])
    return links
