"""Spelling variants of an accepted name that the speaker-slot statistics miss.

观世音 beside 观音: a longer form with the same first and last character, which the narration
mostly writes before a title (观世音菩萨), so its right neighbour is too constant for the
word-boundary test. It is the same person when both are used often and no other accepted name
shares those two characters.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from graph.names import TITLES

from .scanning import count_all
from .titles import NAME_TITLES

MIN_USES = 10
_COMPLEMENTS = frozenset("上下进出来去回起过开到面思了着得")


def infix_variants(
    people: Collection[str], freq: Mapping[str, int], text: str
) -> list[tuple[str, str]]:
    """(name, variant) pairs, plus (variant, variant + title) for the title forms used at least
    three times (观世音菩萨). `freq` holds the pooled strings' frequencies."""
    ends: dict[tuple[str, str], list[str]] = {}
    for p in people:
        if len(p) >= 2:
            ends.setdefault((p[0], p[-1]), []).append(p)
    from .dictionary import _function_words, verb_phrase

    found: dict[str, list[str]] = {}
    for s, n in freq.items():
        if len(s) != 3 or n < MIN_USES or s in people or s in TITLES:
            continue
        owners = ends.get((s[0], s[-1]), [])
        if len(owners) != 1 or len(owners[0]) != 2 or freq.get(owners[0], 0) < MIN_USES:
            continue
        short = owners[0]
        # 流泪 / 流下泪, 跑来 / 跑进来: a verb with a complement, not a name
        if short in _function_words() or verb_phrase(short) or s[1] in _COMPLEMENTS:
            continue
        found.setdefault(short, []).append(s)
    single = {short: longer[0] for short, longer in found.items() if len(longer) == 1}
    titled = count_all([(0, text)], [s + t for s in single.values() for t in NAME_TITLES])
    links = []
    for short, s in single.items():  # 老王: 老大王 and 老龙王 are two readings
        links.append((short, s))
        links.extend((s, s + t) for t in NAME_TITLES if titled[s + t] >= 3)
    return links


def abbreviation_links(names: Collection[str]) -> list[tuple[str, str]]:
    """(short, long) for a two-character name made of the first and last character of one
    longer name (玉帝 of 玉皇大帝), when no other name of three or four characters has those
    ends and the short name is no surname + given name, diminutive (玉儿) or count (二子), nor
    the given name of a surname + given name (飞虎 of 左飞虎, not of 飞山虎)."""
    from graph.names import split_surname

    given = {parts[1] for n in names if (parts := split_surname(n))}
    longer: dict[tuple[str, str], list[str]] = {}
    for n in names:
        if len(n) in (3, 4):
            longer.setdefault((n[0], n[-1]), []).append(n)
    links = []
    for short in names:
        if len(short) != 2 or short in TITLES or split_surname(short) or short in given:
            continue
        # 玉儿, 二子: a diminutive or a count, not an abbreviation (玉钏儿, 二童子)
        if short[1] in "儿子" or short[0] in "一二三四五六七八九十两大小老众诸":
            continue
        forms = longer.get((short[0], short[1]), [])
        if len(forms) == 1:
            links.append((short, forms[0]))
    return links
