"""Pair statistics and evidence selection: who appears with whom, where, and which lines show it."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations

from graph.cues import cue_count, relation_signals, snippet_strength
from graph.prompts import Snippet

Key = Hashable
Location = tuple[int, int]  # (chapter number, paragraph index)

SNIPPET_CHARS = 160  # longest snippet sent to the model
PROMPT_OVERHEAD_TOKENS = 400  # system prompt, instructions and taxonomy (names come on top)
MAX_CANDIDATES = 200  # locations looked at per pair, evenly over the book
SHORTLIST = 36  # candidates given the full (slower) ranking per request (see shortlist_for)
MIN_SHORTLIST = 8


def shortlist_for(requests: int, base_requests: int = 450) -> int:
    """The full ranking is spent per novel, not per request: a novel asked four times as many
    questions looks at a quarter as many candidates per question (never fewer than 8)."""
    return max(MIN_SHORTLIST, min(SHORTLIST, SHORTLIST * base_requests // max(1, requests)))


# Pairs beyond the limit whose names and sentences are looked at when choosing pairs (a strong
# construction lifts a lower-ranked pair in): 6 × the old 200-pair limit, and no more for larger
# budgets, where reading every candidate's sentences would dominate the pair stage.
BONUS_EXTRA = 1000
# A person's strongest pairs are asked when they meet that often at least (one shared paragraph
# says little: a minor character's every pair would tie).
PARTNER_MEETINGS = 2
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Rough GLM token counts.
TOKENS_PER_CJK = 0.7  # per Chinese character
TOKENS_PER_OTHER = 0.25  # per other character
SNIPPET_LABEL_TOKENS = 7  # the 【片段i｜第c章】 label before each snippet
MIN_SHORTENED_BUDGET = 40  # tokens below which not even a shortened snippet is sent


def estimate_tokens(text: str) -> int:
    """Rough GLM token count of a text."""
    cjk = len(_CJK.findall(text))
    return math.ceil(cjk * TOKENS_PER_CJK + (len(text) - cjk) * TOKENS_PER_OTHER)


def request_tokens(body: dict) -> int:
    """Estimated input tokens of a chat-completion request body."""
    return sum(estimate_tokens(m["content"]) for m in body["messages"])


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


def pair_scores(stats: Mapping[tuple, PairStat]) -> dict[tuple, float]:
    """Salience × association: how often a pair meets, over how many chapters, and how much of
    each one's company the other is.

    Raw counts favour the hubs (the hero meets everyone); dividing by the geometric mean of
    both people's total pair counts lets a minor character's one defining partner (a father,
    a nemesis of three chapters) into the list. Exponents tuned on the gold classics: the share
    of gold pairs in the top 200 rose from 0.45 to 0.53 (more with a larger limit).
    """
    strength: dict[Key, int] = {}
    for s in stats.values():
        strength[s.a] = strength.get(s.a, 0) + s.count
        strength[s.b] = strength.get(s.b, 0) + s.count
    return {
        key: s.score * s.count**1.5 / math.sqrt(strength[s.a] * strength[s.b])
        for key, s in stats.items()
    }


def top_pairs(
    stats: Mapping[tuple, PairStat],
    limit: int,
    *,
    bonus: Callable[[PairStat], float] | None = None,
    per_person: int = 0,
    everyone: bool = False,
) -> list[PairStat]:
    """The `limit` pairs worth a question, best first (see pair_scores).

    `bonus(stat)` multiplies the score of the best `limit + BONUS_EXTRA` pairs (what the names
    say: one surname, a construction joining the two); `per_person` caps the pairs one person
    may take, so a hub's hundredth acquaintance leaves room for a minor character's father;
    `everyone`: no person is left without a question (see with_partners)."""
    scores = pair_scores(stats)

    def order(k):
        return (-scores[k], str(stats[k].a), str(stats[k].b))

    ranked = sorted(stats, key=order)
    if bonus is not None:
        pool = ranked[: limit + BONUS_EXTRA]
        scores = scores | {k: scores[k] * bonus(stats[k]) for k in pool}
        ranked = sorted(pool, key=order) + ranked[len(pool) :]
    chosen: list[PairStat] = []
    taken: Counter = Counter()
    for k in ranked:
        if len(chosen) >= limit:
            break
        stat = stats[k]
        if per_person and max(taken[stat.a], taken[stat.b]) >= per_person:
            continue
        chosen.append(stat)
        taken.update((stat.a, stat.b))
    return with_partners(stats, chosen, scores) if everyone else chosen


def with_partners(
    stats: Mapping[tuple, PairStat], chosen: list[PairStat], scores: Mapping[tuple, float]
) -> list[PairStat]:
    """`chosen` with every person's strongest pairs in it: the partners they meet most (all of
    them on a tie, when that is PARTNER_MEETINGS times at least). Those missing are asked last,
    the best scored first, in the places of the lowest-ranked chosen pairs that are nobody's
    strongest; the list keeps its length.

    A one-episode villain is named by name only a few times beside the hero (the text says 那怪),
    so the pair ranks far down the list, behind pairs that say less about either; the strongest
    pair is the one a reader expects as that person's edge. Written on 西游记 (孙悟空—奎木狼,
    孙悟空—六耳猕猴, 弥勒—孙悟空: gold pairs present 35 → 38 of 44 with a model that is always
    right); no gold pair gained or lost on 三国演义, 红楼梦 or 七剑十三侠."""
    most: Counter = Counter()
    for stat in stats.values():
        most[stat.a] = max(most[stat.a], stat.count)
        most[stat.b] = max(most[stat.b], stat.count)
    keys = [
        k
        for k, s in stats.items()
        if s.count >= PARTNER_MEETINGS and s.count in (most[s.a], most[s.b])
    ]
    keys.sort(key=lambda k: (-scores.get(k, 0.0), str(stats[k].a), str(stats[k].b)))
    strongest = {id(stats[k]): stats[k] for k in keys}
    asked = {id(stat) for stat in chosen}
    extra = [stat for i, stat in strongest.items() if i not in asked]
    room = len(chosen) - len(extra)
    kept: list[PairStat] = []
    for stat in chosen:
        if len(kept) < room or id(stat) in strongest:
            kept.append(stat)
    return kept + extra[: len(chosen) - len(kept)]


def pattern_weight(
    locations: Sequence[Location],
    store: ParagraphStore,
    names_a: Sequence[str],
    names_b: Sequence[str],
    samples: int = 12,
) -> float:
    """How strongly the sentences where two people meet tie them (X之子Y, 拜X为师, X令Y…):
    the summed weight of the constructions and addresses in up to `samples` meetings, spread
    evenly over the book."""
    ordered = sorted(set(locations))
    step = max(1, math.ceil(len(ordered) / samples))
    return sum(
        signal.weight
        for loc in ordered[::step]
        for signal in relation_signals(window(store.get(loc), names_a, names_b), names_a, names_b)
    )


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


@lru_cache(maxsize=4096)
def _finder(names: tuple[str, ...]) -> re.Pattern | None:
    """One regex per name list (re's own cache holds too few for a novel's pairs)."""
    pattern = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    return re.compile(pattern) if pattern else None


def _positions(text: str, names: Sequence[str]) -> list[tuple[int, int]]:
    finder = _finder(tuple(names))
    return [m.span() for m in finder.finditer(text)] if finder else []


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


def request_overhead(names_a: Sequence[str], names_b: Sequence[str]) -> int:
    """Tokens a request spends before its snippets: instructions, taxonomy and the names."""
    return PROMPT_OVERHEAD_TOKENS + estimate_tokens("、".join([*names_a, *names_b]))


def snippet_cost(snippet: Snippet) -> int:
    """Tokens a snippet adds to a prompt, with its 【片段i｜第c章】 label."""
    return estimate_tokens(snippet.text) + SNIPPET_LABEL_TOKENS


def _chars_within(budget: int) -> int:
    """How many Chinese characters a snippet may keep to cost at most `budget` tokens."""
    return int((budget - SNIPPET_LABEL_TOKENS) / TOKENS_PER_CJK)


def _quick_score(text: str, names_a: Sequence[str], names_b: Sequence[str]) -> float:
    """A cheap first ranking: cue words, a quote, and the two names standing close."""
    score = float(cue_count(text)) + (0.5 if "“" in text else 0.0)
    if names_b:
        spans_a, spans_b = _positions(text, names_a), _positions(text, names_b)
        if spans_a and spans_b:
            # Two names side by side (X之子Y, X令Y, X与Y交战) usually say how they stand.
            gap = min(abs(x[0] - y[0]) for x in spans_a for y in spans_b)
            score += 1.0 if gap <= 20 else 0.0
    return score


def select_evidence(
    locations: Sequence[Location],
    store: ParagraphStore,
    names_a: Sequence[str],
    names_b: Sequence[str] = (),
    *,
    budget_tokens: int,
    max_snippets: int = 8,
    spread: int = 3,
    shortlist: int = SHORTLIST,
) -> list[Snippet]:
    """A few snippets that show the pair (or the one person) at their most telling, spread over
    the chapters where they meet: the chapters are cut into `spread` stretches (early, middle,
    late…) and each stretch gives its best snippet first; the rest go to the best of all. The
    whole request (instructions, names, snippets) stays within `budget_tokens` as estimated by
    estimate_tokens. Returned in chapter order."""
    budget = max(0, budget_tokens - request_overhead(names_a, names_b))
    ordered = sorted(set(locations))
    if not ordered:
        return []
    # Cap the candidates looked at, evenly over the book, so a pair met 5,000 times stays cheap.
    step = max(1, len(ordered) // MAX_CANDIDATES)
    candidates = [(loc, window(store.get(loc), names_a, names_b)) for loc in ordered[::step]]
    quick = [_quick_score(text, names_a, names_b) for _, text in candidates]
    chapters = sorted({loc[0] for loc, _ in candidates})
    stretches = max(1, min(spread, len(chapters)))
    stretch_of = {c: i * stretches // len(chapters) for i, c in enumerate(chapters)}
    # The costly ranking (constructions, addresses) only for the best few of each stretch.
    short: set[int] = set()
    per_stretch = max(2, shortlist // stretches)
    for stretch in range(stretches):
        members = [i for i, (loc, _) in enumerate(candidates) if stretch_of[loc[0]] == stretch]
        members.sort(key=lambda i: (-quick[i], i))
        short.update(members[:per_stretch])
    strength = {i: snippet_strength(candidates[i][1], names_a, names_b) for i in short}
    picked: list[int] = []
    for stretch in range(stretches):
        members = [i for i in short if stretch_of[candidates[i][0][0]] == stretch]
        if members:
            picked.append(max(members, key=lambda i: (strength[i], quick[i], -i)))
    used_chapters = {candidates[i][0][0] for i in picked}
    rest = sorted(
        (i for i in short if i not in picked),
        key=lambda i: (-(strength[i] - (0.5 if candidates[i][0][0] in used_chapters else 0)), i),
    )
    picked.extend(rest[: max(0, max_snippets - len(picked))])
    chosen, used = [], 0
    for i in picked:  # spend the budget on the spread picks first, then the best others
        snippet = Snippet(candidates[i][0][0], candidates[i][1])
        cost = snippet_cost(snippet)
        if used + cost > budget:
            if chosen or budget < MIN_SHORTENED_BUDGET:
                continue
            # Not even one snippet fits: send a shortened one rather than none.
            snippet = Snippet(snippet.chapter, snippet.text[: _chars_within(budget)])
            cost = snippet_cost(snippet)
        chosen.append(snippet)
        used += cost
    return sorted(chosen, key=lambda s: s.chapter)


# Shares of an evolution request's snippet budget for the first, middle and last third of the
# pair's own chapter span: a change shows best in how the two stand at both ends.
EVOLUTION_SHARES = (0.4, 0.2, 0.4)


def evolution_evidence(
    locations: Sequence[Location],
    store: ParagraphStore,
    names_a: Sequence[str],
    names_b: Sequence[str],
    *,
    budget_tokens: int,
    max_snippets: int = 10,
    shortlist: int = SHORTLIST,
) -> list[Snippet]:
    """Snippets for "how does their relation change": the pair's chapter span (first to last
    meeting) is cut in thirds, and the first and last third get most of the budget and the
    snippets, each picked as select_evidence would. Returned in chapter order."""
    chapters = sorted({chapter for chapter, _ in locations})
    if not chapters:
        return []
    first, span = chapters[0], chapters[-1] - chapters[0] + 1
    thirds: list[list[Location]] = [[], [], []]
    for loc in locations:
        thirds[min(2, (loc[0] - first) * 3 // span)].append(loc)
    overhead = request_overhead(names_a, names_b)
    room = max(0, budget_tokens - overhead)
    chosen: list[Snippet] = []
    spare = 0  # budget a thin third leaves to the next
    for part, share in zip(thirds, EVOLUTION_SHARES, strict=True):
        allowance = int(room * share) + spare
        picked = select_evidence(
            part,
            store,
            names_a,
            names_b,
            budget_tokens=overhead + allowance,
            max_snippets=max(1, round(max_snippets * share)),
            spread=2,
            shortlist=shortlist,
        )
        spare = allowance - sum(snippet_cost(s) for s in picked)
        chosen.extend(picked)
    return sorted(chosen, key=lambda s: s.chapter)
