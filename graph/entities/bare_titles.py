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

A title whose bare uses crowd into one scene (two chapters holding `CROWDED_SHARE` of them, far
above that scene's share of the text) names whoever carries it there. When exactly one person is
tied to it inside the scene, the title is that person's without a majority of votes over the whole
novel. The tie is either
* compound forms and appositions there (`SCENE_VOTES`), with the bare uses standing where that
  person was just named (`SCENE_COVER`): 真君 for 二郎 in chapters 6-7 of 西游记, 解官 for 孙解官
  (儒林外史), 旅长 for 沈国英 (啼笑因缘); or
* the text introducing a name that ends in the title (称名须菩提祖师: 祖师 69 of 77 uses in chapters
  1-2). That name brings its shorter forms the text uses on their own (菩提祖师), even when they are
  too rare to be names yet.
Two people tied to it in the scene, or one tied too loosely (丞相: 魏丞相 is named far from most of
the bare uses, which are 殷开山's in the same chapters), leave the title bare.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from networkx.utils import UnionFind

from graph.names import KIN_ADDRESS, TITLES, split_surname

from .aliases import ordered_groups
from .candidates import stated_names
from .scanning import build_automaton
from .titles import rank_title

MIN_VOTES = 5
MAJORITY = 0.8
MIN_BARE = 5  # uses of the title outside a longer name
WINDOW = 300
MIN_COVER = 0.6
MIN_LIFT = 1.5
# A rank title standing as a person of its own (安化王, 晋公) with fewer than `MIN_VOTES`
# appositions still joins their holder when its bare uses keep to his scenes far above chance.
NAMED_MIN_VOTES = 3
NAMED_MIN_COVER = 0.3
NAMED_MIN_LIFT = 5
CONFERRAL_VOTES = 3  # a title conferred on a person weighs as much as three appositions
# A title conferred on one person stands for that person afterwards (汉中王 for 玄德): the text
# then uses the title *instead of* the name, so the scene test is replaced by a succession test.
AFTER_SHARE = 0.9  # bare uses from the conferral chapter on
SAME_CHAPTER = 0.6  # bare uses in a chapter that also names the holder
_COUNTED = frozenset("一二三四五六七八九十两众诸")  # 三人, 四众: head counts
_COLLECTIVE = frozenset("徒们众")  # 师徒, 小的们
_SAMPLE_STEP = 97  # characters between the probes of the baseline
CROWDED_SHARE = 0.8  # bare uses inside the two chapters of the scene
CROWDED_LIFT = 5  # ... against the share of the text that scene holds
SCENE_VOTES = 2  # compound forms and appositions tying the holder to the title in the scene
SCENE_COVER = 0.4  # the scene's bare uses standing within `WINDOW` after the holder is named

# A title conferred on, or taken by, a named person: "玄德进位汉中王", "曹丕自立为大魏皇帝",
# "封孙权为吴王", "加诸葛亮为武乡侯". The title ends in a rank (王侯公帝).
_TITLE = r"([\u4e00-\u9fff]{1,3}[王侯公帝])(?=[，。、；！？\s”])"
_CONFERRED = (
    re.compile(
        r"([\u4e00-\u9fff]{2,4})(?:进位|自立为|既为|即位为|拜为|封为|号为|尊为|进爵为|称)" + _TITLE
    ),
    re.compile(r"(?:封|尊|立|加|拜)([\u4e00-\u9fff]{1,4}?)为" + _TITLE),
)


def conferred_titles(text: str, names: Collection[str]) -> list[tuple[str, str]]:
    """(title, name) for each title the text confers on a known name (the longest name that
    ends the words before the verb)."""
    out = []
    by_given: dict[str, set[str]] = {}
    for n in names:
        parts = split_surname(n)
        if parts and len(parts[1]) == 1:
            by_given.setdefault(parts[1], set()).add(n)
    for pattern in _CONFERRED:
        for m in pattern.finditer(text):
            head, title = m.groups()
            name = next((head[-k:] for k in (4, 3, 2) if head[-k:] in names), None)
            if name is None and len(by_given.get(head, ())) == 1:  # 尊操为魏公: 操 is 曹操
                name = next(iter(by_given[head]))
            if name is not None and title != name and len(title) >= 2:
                out.append((title, name))
    return out


def _conferral_chapter(chapters: Sequence[tuple[int, str]], title: str, name: str) -> int | None:
    """The first chapter that confers `title` on `name`."""
    for number, body in chapters:
        if title in body and (title, name) in conferred_titles(body, {name}):
            return number
    return None


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


@dataclass
class _TitleUses:
    """What one pass over the text tells about the candidate titles."""

    votes: dict[str, Counter]  # title -> group -> votes
    bare: dict[str, list[tuple[int, int]]]  # title -> (chapter, position) of its bare uses
    seen: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # group -> its names'
    probes: list[tuple[int, int]] = field(default_factory=list)  # evenly spread points
    voted_in: dict[str, Counter] = field(default_factory=dict)  # title -> (chapter, group) -> n

    def vote(self, t: str, g: int, number: int) -> None:
        """One use tying title `t` to group `g` (a compound form or an apposition) in a chapter."""
        self.votes[t][g] += 1
        self.voted_in.setdefault(t, Counter())[number, g] += 1

    def cover(self, g: int, points: list[tuple[int, int]]) -> float:
        """Share of `points` that stand within `WINDOW` characters after a name of group `g`."""
        at = self.seen.get(g, [])
        hit = 0
        for number, pos in points:
            i = bisect.bisect_left(at, (number, pos)) - 1
            if i >= 0 and at[i][0] == number and pos - at[i][1] <= WINDOW:
                hit += 1
        return hit / len(points) if points else 0.0


def named_titles(groups: Sequence[list[str]]) -> set[str]:
    """Rank titles that stand as a person of their own (宁王, 魏主, 先主)."""
    return {g[0] for g in groups if len(g) == 1 and rank_title(g[0])}


def _tested_titles(
    groups: Sequence[list[str]], titles: Collection[str], conferred: Sequence[tuple[str, str]]
) -> tuple[dict[str, int], set[str]]:
    """(group of each name, titles to test). A conferred title standing as a name on its own
    (汉中王) is tested too, so it stops counting as a name."""
    group_of = {m: i for i, g in enumerate(groups) for m in g}
    extra = {t for t, n in conferred if n in group_of}
    # A person known only by a rank title (宁王, 先主) may be a title of someone named beside it
    # (宁王宸濠): it is tested like the listed titles, and stays a person of its own otherwise.
    extra |= named_titles(groups)
    for t in extra:
        if t in group_of and len(groups[group_of[t]]) == 1:
            del group_of[t]
    return group_of, {t for t in _title_candidates(groups, titles) | extra if t not in group_of}


def _vote_apposition(uses: _TitleUses, group_of: dict[str, int], a, b, number: int) -> None:
    """Two keys back to back: a title beside a name (温侯 + 吕布, 吕布 + 温侯) is a vote."""
    if isinstance(a, tuple) and isinstance(b, str):
        uses.vote(a[1], group_of[b], number)
    elif isinstance(a, str) and isinstance(b, tuple):
        uses.vote(b[1], group_of[a], number)


def _scan_titles(
    chapters: Sequence[tuple[int, str]], group_of: dict[str, int], uses: _TitleUses
) -> None:
    """Record bare uses, compound forms (刘皇叔), appositions and where each person is named."""
    cands = list(uses.bare)
    patterns: dict[object, list[str]] = {m: [m] for m in group_of}
    patterns.update({("t", t): [t] for t in cands})
    automaton, keys = build_automaton(patterns)
    tested = set(cands)
    compound = {m: [m[k:] for k in range(1, len(m)) if m[k:] in tested] for m in group_of}
    for number, body in chapters:
        prev: tuple[object, int] | None = None
        for idx, start, end in automaton.find_matches_as_indexes(body):
            key = keys[idx]
            if isinstance(key, tuple):
                uses.bare[key[1]].append((number, start))
            elif isinstance(key, str):
                g = group_of[key]
                uses.seen.setdefault(g, []).append((number, start))
                for t in compound[key]:
                    uses.vote(t, g, number)
            if prev is not None and prev[1] == start:
                _vote_apposition(uses, group_of, prev[0], key, number)
            prev = (key, end)
        uses.probes.extend((number, p) for p in range(0, len(body), _SAMPLE_STEP))


def _majority_holder(t: str, uses: _TitleUses) -> int | None:
    """The group holding `MAJORITY` of the title's votes, if it is used bare often enough."""
    counter = uses.votes[t]
    total = sum(counter.values())
    if len(uses.bare[t]) < MIN_BARE or not total:
        return None
    g, n = counter.most_common(1)[0]
    return g if n >= MAJORITY * total else None


def _succeeded(
    chapters: Sequence[tuple[int, str]],
    conferred: Sequence[tuple[str, str]],
    group_of: dict[str, int],
    uses: _TitleUses,
    t: str,
    g: int,
) -> bool:
    """Is `t` conferred on group `g` alone, and used for it from the conferral on?"""
    if {group_of[n] for tt, n in conferred if tt == t and n in group_of} != {g}:
        return False
    first = min(
        (
            c
            for tt, n in conferred
            if tt == t and n in group_of
            for c in [_conferral_chapter(chapters, t, n)]
            if c is not None
        ),
        default=None,
    )
    if first is None:
        return False
    bare = uses.bare[t]
    named = {number for number, _ in uses.seen.get(g, [])}
    after = sum(1 for number, _ in bare if number >= first)
    together = sum(1 for number, _ in bare if number in named)
    return after >= AFTER_SHARE * len(bare) and together >= SAME_CHAPTER * len(bare)


def _holds_in_scene(
    t: str,
    g: int,
    uses: _TitleUses,
    votes: int = MIN_VOTES,
    cover: float = MIN_COVER,
    lift: float = MIN_LIFT,
) -> bool:
    """Enough votes, and the bare uses stand where `g` was just named, clearly above chance."""
    if sum(uses.votes[t].values()) < votes:
        return False
    c = uses.cover(g, uses.bare[t])
    return c >= cover and c >= lift * uses.cover(g, uses.probes)


def _named_holder(t: str, g: int, uses: _TitleUses) -> bool:
    """Does a rank title standing as a person (宁王, 安化王) name `g`: enough appositions (宁王宸濠),
    or a few with the bare uses in `g`'s scenes far above chance?"""
    return sum(uses.votes[t].values()) >= MIN_VOTES or _holds_in_scene(
        t, g, uses, NAMED_MIN_VOTES, NAMED_MIN_COVER, NAMED_MIN_LIFT
    )


def _introductions(
    chapters: Sequence[tuple[int, str]], cands: Collection[str]
) -> dict[str, list[tuple[int, str]]]:
    """Title -> (chapter, name) for each name the text introduces ending in it (称名须菩提祖师)."""
    stated: dict[str, list[tuple[int, str]]] = {}
    for number, body in chapters:
        for x in stated_names(body):
            for k in range(1, len(x) - 1):
                if x[k:] in cands:
                    stated.setdefault(x[k:], []).append((number, x))
    return stated


def _crowded_scene(
    t: str, uses: _TitleUses, order: Sequence[int], size: dict[int, int], total: int
) -> tuple[int, ...] | None:
    """The two chapters holding `CROWDED_SHARE` of the bare uses of `t`, at least `CROWDED_LIFT`
    times their share of the text; None when the uses spread."""
    bare = uses.bare[t]
    if len(bare) < MIN_BARE:
        return None
    per = Counter(number for number, _ in bare)
    # The best scene holds a chapter with uses: it starts there or one chapter before.
    at = [i for i, n in enumerate(order) if n in per]
    starts = sorted({j for i in at for j in (i - 1, i) if j >= 0})
    scene = max((tuple(order[j : j + 2]) for j in starts), key=lambda sc: sum(per[n] for n in sc))
    inside = sum(per[n] for n in scene) / len(bare)
    share = sum(size[n] for n in scene) / total
    return scene if inside >= CROWDED_SHARE and inside >= CROWDED_LIFT * share else None


def _introduced_forms(name: str, t: str, scene_text: str) -> list[str]:
    """The introduced name and its shorter forms ending in `t` used on their own: found more
    often than the form one character longer (菩提祖师 2, 须菩提祖师 1; 提祖师 2)."""
    counts = [scene_text.count(name[k:]) for k in range(len(name) - len(t))]
    return [name] + [name[k:] for k in range(1, len(counts)) if counts[k] > counts[k - 1]]


def _scene_holder(
    chapters: Sequence[tuple[int, str]],
    t: str,
    scene: tuple[int, ...],
    uses: _TitleUses,
    introduced: list[tuple[int, str]],
    groups: Sequence[list[str]],
    group_of: dict[str, int],
) -> list[str]:
    """Names of the one person tied to `t` inside the scene (see module doc); [] when nobody,
    more than one, or one too loosely is."""
    votes: Counter = Counter()
    for (number, g), n in uses.voted_in.get(t, Counter()).items():
        if number in scene:
            votes[g] += n
    stated = {x for number, x in introduced if number in scene}
    holders = set(votes) | {group_of.get(x, x) for x in stated}
    if len(holders) != 1:
        return []
    (holder,) = holders
    if isinstance(holder, int):
        points = [p for p in uses.bare[t] if p[0] in scene]
        tied = votes[holder] >= SCENE_VOTES and uses.cover(holder, points) >= SCENE_COVER
        return [groups[holder][0]] if tied else []
    text = "".join(body for number, body in chapters if number in scene)
    # A form that already names someone (三太子) is not taken from him.
    return [f for f in _introduced_forms(holder, t, text) if f not in group_of]


def bare_title_links(
    chapters: Sequence[tuple[int, str]],
    uf: UnionFind,
    titles: Collection[str] = TITLES,
    conferred: Sequence[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """(title, member of its holder) for bare titles one person holds (see module doc).
    `conferred` adds (title, name) pairs from conferrals: the title is tested, and the
    conferral counts as `CONFERRAL_VOTES` votes for the name's holder."""
    groups = ordered_groups(uf)
    group_of, cands = _tested_titles(groups, titles, conferred)
    if not cands:
        return []
    uses = _TitleUses(votes={t: Counter() for t in cands}, bare={t: [] for t in cands})
    for t, n in conferred:
        if t in cands and n in group_of:
            uses.votes[t][group_of[n]] += CONFERRAL_VOTES
    _scan_titles(chapters, group_of, uses)
    introduced = _introductions(chapters, cands)
    size = {number: len(body) for number, body in chapters}
    order = [number for number, _ in chapters]
    total = sum(size.values()) or 1
    # A rank title used as a name of its own (宁王) replaces the name in the narration rather
    # than standing in its scenes: the appositions alone (宁王宸濠) must tie it to one person.
    named = named_titles(groups)
    links = []
    for t in uses.votes:
        g = _majority_holder(t, uses)
        if g is not None and (
            (t in named and _named_holder(t, g, uses))
            or _succeeded(chapters, conferred, group_of, uses, t, g)
            or _holds_in_scene(t, g, uses)
        ):
            links.append((t, groups[g][0]))
        elif t not in named and (scene := _crowded_scene(t, uses, order, size, total)):
            found = _scene_holder(chapters, t, scene, uses, introduced.get(t, []), groups, group_of)
            links.extend((t, f) for f in found)
    return links
