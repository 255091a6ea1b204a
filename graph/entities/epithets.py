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
from .scanning import build_automaton, is_cjk

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
            if not is_cjk(prefix):
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


# 绰号 + 姓名: "黑旋风李逵", "豹子头林冲", "美髯公关云长". A nickname written right before a
# person's full name, often, and before no one else's.
MIN_NICKNAME_USES = 5
NICKNAME_SHARE = 0.8  # of the string's uses before a full name that go to one person
NICKNAME_BOUNDARY = 0.5  # the most common character before it, at most this share of uses
# A dictionary word this common is no nickname (先锋, 老爷); jieba also lists famous nicknames,
# rarely (黑旋风 and 豹子头 3 times each).
NICKNAME_WORD_FREQ = 100
# Ends of what stands before a name without naming the person: a place (常山赵云), an origin
# (燕人张飞), a rank or a group (大将, 部将, 众军, 贼首).
_NOT_NICKNAME_END = frozenset("州郡县国城山江河关府营寨人将兵军官吏臣王帝侯主首")
_PLACE_ENDS = frozenset("州郡县国城山江河关府营寨庄村店寺庙殿楼阁园院")


def _before_full_names(
    chapters: Sequence[tuple[int, str]], group_of: dict[str, int], fulls: list[str]
) -> tuple[Counter, Counter, Counter]:
    """Per (string, person): how often a 2-4 character string stands right before one of the
    person's full names; per string, the character before it there (for the boundary test)."""
    from .dictionary import two_char_words

    words = two_char_words()
    automaton, keys = build_automaton({m: [m] for m in fulls})
    # The five characters before each use, per person: one counter update per use, split into
    # candidate strings afterwards.
    windows: Counter = Counter()
    for _number, body in chapters:
        for idx, start, _end in automaton.find_matches_as_indexes(body):
            if start < 2 or body[start - 1 : start + 1] in words:  # 东土大 + 唐三藏: 大唐
                continue
            windows[(body[max(0, start - 5) : start], group_of[keys[idx]])] += 1
    before: Counter = Counter()
    edge: Counter = Counter()
    edge_total: Counter = Counter()
    for (window, g), n in windows.items():
        if not is_cjk(window[-1]):
            continue
        for k in (2, 3, 4):
            if len(window) < k or not is_cjk(window[-k]):
                break
            s = window[-k:]
            before[(s, g)] += n
            edge[(s, window[-k - 1] if len(window) > k else "\n")] += n
            edge_total[s] += n
    return before, edge, edge_total


def nickname_links(chapters: Sequence[tuple[int, str]], uf: UnionFind) -> list[tuple[str, str]]:
    """(nickname, member of its person) for 绰号 + 姓名 pairs (黑旋风李逵): the nickname stands
    before that person's full name `MIN_NICKNAME_USES` times, before nobody else's, is a word of
    its own (the character before it varies) and not a place, origin, rank or dictionary word."""
    from graph.names import TITLES

    from .dictionary import common_word, function_char
    from .titles import full_name_parts

    groups = ordered_groups(uf)
    group_of = {m: i for i, g in enumerate(groups) for m in g}
    fulls = [
        m for m in group_of if (full_name_parts(m) or len(m) >= 3) and m[-1] not in _PLACE_ENDS
    ]
    if not fulls:
        return []
    before, edge, edge_total = _before_full_names(chapters, group_of, fulls)
    per_string: dict[str, Counter] = {}
    for (s, g), n in before.items():
        per_string.setdefault(s, Counter())[g] += n
    max_edge: Counter = Counter()
    for (s, _prev), n in edge.items():
        max_edge[s] = max(max_edge[s], n)
    links = []
    for s, counter in per_string.items():
        g, n = counter.most_common(1)[0]
        if n < MIN_NICKNAME_USES or n < NICKNAME_SHARE * sum(counter.values()):
            continue
        if max_edge[s] > NICKNAME_BOUNDARY * edge_total[s]:
            continue
        # A nickname the list already holds as a person of its own (托塔 of 托塔天王) joins
        # too, unless that person has a full name of his own.
        if s in group_of and (
            group_of[s] == g or any(full_name_parts(m) for m in groups[group_of[s]])
        ):
            continue
        if s[-1] in _NOT_NICKNAME_END or s in TITLES or s[1:] in TITLES:
            continue
        if any(ch in _NOT_EPITHET for ch in s) or function_char(s[0]) or function_char(s[-1]):
            continue
        if common_word(s, NICKNAME_WORD_FREQ):
            continue
        links.append((s, groups[g][0]))
    return links
