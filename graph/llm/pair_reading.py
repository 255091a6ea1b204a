"""How the offline rules read one pair's snippets: the constructions and addresses of each
snippet, read for this pair (brother words by surname, a 师父 heard between two fellow
disciples), what the pair's names add (one surname, a master both call 师父), and who is senior.

Plain cue words near the names do not type a pair: on the gold novels they were right about one
time in four between two surnames. Only between two of one surname does a family word count
(父亲, 儿子, 侄女 near them: right 26 times of 28).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from graph import cues, names
from graph.llm import weighing
from graph.prompts import Question, Snippet

MASTER_WORDS = "师父|师傅|师尊|恩师"
SHARED_MASTER = 3.0  # both call someone 师父: fellow disciples, not master and pupil
FAMILY_WORD = 1.5  # a family word near two of one surname: a snippet that shows kin
FAMILY_REACH = 120  # at most this stretch from 10 before the first name to 30 after the second
SURNAME_PRIOR = 1.5  # one surname backs kin cues as another snippet would; it never makes them
WIFE_TITLES = "(?:夫人|太太|奶奶|娘子|[^母]氏)$"
ELDER_TITLES = "(?:母|夫人|太太|姨妈|姨娘|老爷|父|翁|天王|老君|老母)$"


@dataclass(frozen=True)
class Reading:
    """A pair's snippets in order and the signals each one holds for the pair."""

    facts: Question
    signals: list[list[cues.Signal]]
    one_surname: bool
    fellows: bool  # both call someone 师父

    def part(self, start: int, end: int) -> Reading:
        """The reading of snippets[start:end] (the pair's priors stay)."""
        facts = Question(
            self.facts.kind,
            self.facts.names_a,
            self.facts.names_b,
            self.facts.snippets[start:end],
        )
        return Reading(facts, self.signals[start:end], self.one_surname, self.fellows)

    def verdict(self) -> weighing.Verdict:
        """The type the snippets show clearly, or 共现."""
        tallies = weighing.tally(self.signals)
        if self.one_surname and "kin" in tallies:
            tallies["kin"].score += SURNAME_PRIOR
            tallies["kin"].snippets += 1
        if self.fellows:
            fellow = tallies.setdefault("fellow", weighing.Tally())
            fellow.score += SHARED_MASTER
            fellow.snippets += 1
        return weighing.verdict(tallies)

    def evidence(self, code: str) -> str:
        """The snippet that shows `code` best (the first one when none does)."""
        if not self.facts.snippets:
            return ""
        weights = [sum(s.weight for s in found if s.code == code) for found in self.signals]
        best = max(range(len(weights)), key=lambda i: (weights[i], -i))
        return self.facts.snippets[best].text

    def senior_is_a(self, code: str) -> bool:
        return senior_votes(code, self.facts, [s for found in self.signals for s in found]) >= 0


def read(facts: Question) -> Reading:
    one_surname = cues.same_surname(facts.names_a, facts.names_b)
    two_surnames = bool(names.surnames(facts.names_a)) and bool(names.surnames(facts.names_b))
    fellows = shared_master(facts)
    signals = [
        _snippet_signals(s, facts, one_surname, two_surnames, fellows) for s in facts.snippets
    ]
    return Reading(facts, signals, one_surname, fellows)


def _snippet_signals(
    snippet: Snippet, facts: Question, one_surname: bool, two_surnames: bool, fellows: bool
) -> list[cues.Signal]:
    a, b = facts.names_a, facts.names_b
    signals = resolve(cues.relation_signals(snippet.text, a, b), one_surname, two_surnames)
    signals = [s for s in signals if not _wife_serves(s, a, b)]
    if one_surname and family_words(snippet.text, a, b):
        signals.append(cues.Signal("kin", None, FAMILY_WORD, "near"))
    if fellows:  # a 师父 heard between them was said to their master
        signals = [
            cues.Signal("fellow", None, s.weight, s.via)
            if s.code == "master" and s.via == "address"
            else s
            for s in signals
        ]
    return signals


def _wife_serves(signal: cues.Signal, names_a: list[str], names_b: list[str]) -> bool:
    """A lord cue whose junior is named as a wife (王夫人, 尤氏, 琏二奶奶): a daughter-in-law
    waiting on her elders, not a servant."""
    if signal.code != "lord" or signal.senior is None:
        return False
    junior = names_b if signal.senior == "a" else names_a
    return any(re.search(WIFE_TITLES, name) for name in junior)


def resolve(signals: Iterable[cues.Signal], one_surname: bool, two_surnames: bool = True) -> list:
    """Brother words mean kin between two of one surname, sworn brothers between two known
    surnames, nothing where a surname is unknown (探春, 惜春: sisters or cousins); said as a form
    of address between two surnames they mean nothing (cousins, friends, fellows)."""
    resolved = []
    for s in signals:
        if s.code == "sibling_address" or (s.code == "sibling" and s.senior is None):
            if one_surname:
                resolved.append(cues.Signal("kin", s.senior, s.weight, s.via))
        elif s.code == "sibling":
            if one_surname or two_surnames:
                code = "kin" if one_surname else "sworn"
                resolved.append(cues.Signal(code, s.senior, s.weight, s.via))
        else:
            resolved.append(s)
    return resolved


def focus(
    text: str, names_a: list[str], names_b: list[str], before: int = 10, after: int = 30
) -> str:
    """The stretch of a snippet between the closest mentions of the two people, plus a margin:
    cues further away usually speak of someone else."""
    spans_a = [m.span() for m in re.finditer(cues.names_pattern(names_a), text)]
    spans_b = [m.span() for m in re.finditer(cues.names_pattern(names_b), text)]
    if not spans_a or not spans_b:
        return text
    sa, sb = min(((x, y) for x in spans_a for y in spans_b), key=lambda p: abs(p[0][0] - p[1][0]))
    return text[max(0, min(sa[0], sb[0]) - before) : max(sa[1], sb[1]) + after]


def family_words(text: str, names_a: list[str], names_b: list[str]) -> bool:
    """A family word (父亲, 儿子, 侄女 …) near the two names. Not brother words: sworn brothers
    of one surname use them too. Names are masked first (王夫人 holds no 夫人)."""
    near = cues.mark_names(focus(text, names_a, names_b), names_a, names_b)
    if len(near) > FAMILY_REACH:  # the two stand too far apart to be spoken of together
        return False
    anchors = [i for i, ch in enumerate(near) if ch in (cues.MARK_A, cues.MARK_B)]
    return any(s.code == "kin" for s in cues.near_signals(near, anchors))


def shared_master(facts: Question) -> bool:
    """Both of them call someone 师父 in the snippets: most likely the same master."""
    callers: set[str] = set()
    for snippet in facts.snippets:
        callers |= cues.vocative_speakers(snippet.text, facts.names_a, facts.names_b, MASTER_WORDS)
    return callers == {"a", "b"}


def senior_votes(code: str, facts: Question, signals: list[cues.Signal]) -> float:
    """Positive when A looks senior (master, elder, lord), negative when B does."""
    votes = sum(
        s.weight * (1 if s.senior == "a" else -1) for s in signals if s.code == code and s.senior
    )
    if code == "kin":  # a title of the older generation in one name only (贾母, 王夫人, 李天王)
        elder_a, elder_b = (
            any(re.search(ELDER_TITLES, n) for n in names)
            for names in (facts.names_a, facts.names_b)
        )
        votes += 3 * (elder_a - elder_b)
    return votes or _role_marker_votes(code, facts) or _parent_votes(code, facts)


def _role_marker_votes(code: str, facts: Question) -> float:
    """ "师父X" / "X师父": X holds the role; "X的师父": X holds the opposite one."""
    a, b = cues.names_pattern(facts.names_a), cues.names_pattern(facts.names_b)
    votes = 0
    for snippet in facts.snippets:
        for marker, (marker_code, role) in cues.ROLE_MARKERS.items():
            if marker_code != code:
                continue
            sign = 1 if role == "senior" else -1
            for pattern, side in ((a, 1), (b, -1)):
                text = snippet.text
                votes += side * sign * len(re.findall(f"{marker}{pattern}|{pattern}{marker}", text))
                votes -= side * sign * len(re.findall(f"{pattern}的{marker}", text))
    return votes


def _parent_votes(code: str, facts: Question) -> float:
    """A last hint between kin: 父 or 母 right before a name (因思父孙坚) makes that one the
    elder; not 师父."""
    if code != "kin":
        return 0
    a, b = cues.names_pattern(facts.names_a), cues.names_pattern(facts.names_b)
    text = "\n".join(s.text for s in facts.snippets)
    return len(re.findall(f"(?<!师)[父母]{a}", text)) - len(re.findall(f"(?<!师)[父母]{b}", text))
