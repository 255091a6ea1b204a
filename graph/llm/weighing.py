"""How the offline rules weigh the cues of a pair's snippets into one type.

A wrong type is worse than 共现: the reader trusts it. So a type is given only where the text
gives a clear signal — a construction that defines it ("X之子Y", "Y拜X为师", "X娶Y"), or several
snippets that agree — and no other type comes close. Otherwise the pair is 共现.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from graph import cues, taxonomy

SNIPPET_CAP = 3.0  # one busy scene (a battle full of 杀, a chat full of 姐姐) counts once
DEFINING = 3.0  # a single construction this heavy says the type on its own ("X之子Y")
SHOWS = 1.5  # a snippet whose cues for a type weigh this much shows the type
MIN_SCORE = 3.0  # without a defining construction: cues adding up to this (two snippets' worth)
MARGIN = 2.0  # the winner outweighs any other type this many times, or it is not clear
# Specific relations outrank the generic ones when both pass: a lord who gives orders to his
# sworn brother, a father who commands his son.
SPECIFIC = ("sworn", "master", "lovers", "kin", "fellow")
PRIORITY = (*SPECIFIC, "lord", "enemy", "ally")
GENERIC_COMPANIONS = ("lord", "ally")


@dataclass
class Tally:
    """What the snippets say for one type."""

    score: float = 0.0  # per-snippet strengths, summed
    snippets: int = 0  # snippets that show the type on their own
    strongest: float = 0.0  # the heaviest single cue

    @property
    def defined(self) -> bool:
        return self.strongest >= DEFINING

    @property
    def passes(self) -> bool:
        return self.defined or self.score >= MIN_SCORE


@dataclass(frozen=True)
class Verdict:
    code: str
    score: float
    strong: bool  # defined and backed by another snippet, or shown by three


def snippet_strength(weights: list[float]) -> float:
    """One snippet's strength for a type: its heaviest cue, half of the others (they often say
    the same thing twice: "X令Y" is also "the subject orders Y"), capped."""
    weights = sorted(weights, reverse=True)
    return min(SNIPPET_CAP, weights[0] + 0.5 * sum(weights[1:])) if weights else 0.0


def tally(per_snippet: Iterable[list[cues.Signal]]) -> dict[str, Tally]:
    tallies: dict[str, Tally] = {}
    for signals in per_snippet:
        by_code: dict[str, list[float]] = {}
        for s in signals:
            by_code.setdefault(s.code, []).append(s.weight)
        for code, weights in by_code.items():
            t = tallies.setdefault(code, Tally())
            strength = snippet_strength(weights)
            t.score += strength
            t.snippets += strength >= SHOWS
            t.strongest = max(t.strongest, max(weights))
    return tallies


def _rank(code: str) -> int:
    return PRIORITY.index(code) if code in PRIORITY else len(PRIORITY)


def verdict(tallies: dict[str, Tally]) -> Verdict:
    """The type the tallies show clearly, or 共现.

    A specific type that passes is chosen over the generic ones that routinely come with it (a
    lord who gives orders to his sworn brother, his son, his pupil; help between kin) — but not
    over enmity, nor over another specific type it does not clearly outweigh. A generic type must
    clearly outweigh every other."""
    known = {c: t for c, t in tallies.items() if c in PRIORITY}
    passing = [c for c, t in known.items() if t.passes]
    generic_top = max((known[c].score for c in passing if c not in SPECIFIC), default=0.0)
    # A specific type takes over from a generic one when a construction defines it, or when it
    # carries at least half the weight.
    specific = [
        c
        for c in passing
        if c in SPECIFIC and (known[c].defined or known[c].score * MARGIN >= generic_top)
    ]
    pool = specific or passing
    if not pool:
        best = max((t.score for t in known.values()), default=0.0)
        return Verdict(taxonomy.DEFAULT_TYPE, best, False)
    code = max(pool, key=lambda c: (known[c].score, -_rank(c)))
    chosen = known[code]
    for c, t in known.items():
        excused = code in SPECIFIC and c in GENERIC_COMPANIONS
        if c != code and not excused and chosen.score < MARGIN * t.score:
            return Verdict(taxonomy.DEFAULT_TYPE, chosen.score, False)
    strong = (chosen.defined and chosen.snippets >= 2) or chosen.snippets >= 3
    return Verdict(code, chosen.score, strong)


def is_change(before: str, after: str) -> bool:
    """Whether going from one type to the other is a change of relation: not to or from 共现,
    and not between a specific type and a generic one that routinely comes with it (sworn
    brothers who give each other orders are still sworn brothers)."""
    if taxonomy.DEFAULT_TYPE in (before, after) or before == after:
        return False
    pair = {before, after}
    return not (pair & set(SPECIFIC) and pair & set(GENERIC_COMPANIONS))


def confidence(v: Verdict) -> float:
    """共现 0.3; a type barely shown about 0.5; one shown strongly and often up to 0.9."""
    if v.code == taxonomy.DEFAULT_TYPE:
        return 0.3
    base = 0.6 if v.strong else 0.45
    return round(min(0.9, base + (v.score - MIN_SCORE) / 20), 2)
