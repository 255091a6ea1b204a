"""Epithet prefixes: one character put before a person's two-character name (美 + 猴王).

The text builds such a form from a name it already uses (猴王 -> 美猴王) and then uses it as a
name of its own. A character before a name is far more often a word of the sentence (保唐僧,
那八戒, 与行者), so the form must look like a name used on its own:

* used at least `MIN_USES` times, and not part of a longer name (天大圣 in 齐天大圣);
* its first character stands before no other person's name `MIN_PAIR` times (那, 与, 见 do);
* it opens a sentence or a quotation in at least `MIN_OPENING` of its uses, as a subject
  does (美猴王 0.36; a verb + object like 保唐僧 0.04).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from networkx.utils import UnionFind

from .aliases import ordered_groups
from .scanning import build_automaton

MIN_USES = 10
MIN_PAIR = 3
MIN_OPENING = 0.2
_OPENINGS = frozenset("。！？”“：\n\u3000 ")
# Pronouns, demonstratives, particles and prepositions: never part of a name.
_NOT_EPITHET = frozenset("好那这我你他她是等与把被对了着见和同请问叫向将的之在有也又便就却只都乃即")


def epithet_links(chapters: Sequence[tuple[int, str]], uf: UnionFind) -> list[tuple[str, str]]:
    """(epithet form, member of its person) for forms that pass the tests in the module doc."""
    groups = ordered_groups(uf)
    group_of = {m: i for i, g in enumerate(groups) for m in g}
    tails = [m for m in group_of if len(m) == 2]
    if not tails:
        return []
    automaton, keys = build_automaton({m: [m] for m in tails})
    uses: Counter = Counter()
    opening: Counter = Counter()
    for _number, body in chapters:
        for idx, start, _end in automaton.find_matches_as_indexes(body):
            if start == 0:
                continue
            prefix = body[start - 1]
            if not "\u4e00" <= prefix <= "\u9fff":
                continue
            form = prefix + keys[idx]
            uses[form] += 1
            if start == 1 or body[start - 2] in _OPENINGS:
                opening[form] += 1
    spread: dict[str, set[int]] = {}
    for form, n in uses.items():
        if n >= MIN_PAIR:
            spread.setdefault(form[0], set()).add(group_of[form[1:]])
    longer = [m for m in group_of if len(m) > 3]
    links = []
    for form, n in uses.items():
        if n < MIN_USES or form in group_of or form[0] in _NOT_EPITHET:
            continue
        if len(spread.get(form[0], ())) != 1 or opening[form] < MIN_OPENING * n:
            continue
        if any(form in m for m in longer):
            continue
        links.append((form, form[1:]))
    return links
