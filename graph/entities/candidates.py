"""Candidate names and their statistics.

Two cheap passes over the whole text, no segmentation:

1. *Slots*: the 2-4 characters just before a speech/action verb (X道, X笑, X曰, X听) or just
   after a preposition that takes a person (对X, 与X, 叫X). Every suffix / prefix of that
   window is a candidate; the right boundary is then decided by statistics.
2. *Context*: one overlapping Aho-Corasick pass with the surviving candidates collects each
   string's frequency and the characters on its left and right. A name is a word, so the
   characters around it vary (left: punctuation, 那, 却说…; right: 道, 笑, 的…); a fragment
   such as 说行者 (always after 却) or 孙悟 (always before 空) has one dominant neighbour.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import ahocorasick_rs

from graph.names import FUNCTION_SURNAMES, TITLES, split_surname

from .lexicon import (
    BAD_ANY,
    BAD_END,
    BAD_START,
    BROAD_RIGHT_CUES,
    COMMON,
    HARD_BAD_ANY,
    HARD_BAD_END,
    HARD_BAD_START,
    LEFT_CUES,
    MODIFIER_CHARS,
    PLACE_LEFT,
    PLACE_RIGHT,
    RIGHT_CUES,
)
from .scanning import is_cjk

_RIGHT_CUE_RE = re.compile(f"[{RIGHT_CUES}]")
_LEFT_CUE_RE = re.compile(f"[{LEFT_CUES}]")
# Wider nets, used only to *propose* strings (their counts are not evidence of a person):
# narration verbs after a subject (孙坚引兵, 徐庶之才), naming phrases (名唤红孩儿, 号美猴王)
# and enumerations between 、 marks (孙坚、刘表).
_BROAD_RIGHT_RE = re.compile(f"[{BROAD_RIGHT_CUES}]")
_NAMING_RE = re.compile(
    r"(?:叫做|叫作|唤做|唤作|名唤|名叫|名为|法名|道号|号为|称为|人称|乃是)([\u4e00-\u9fff]{2,4})"
)
# The text's own naming statement with both ends of the name marked: 号做虎力大仙，
# 叫做玉面公主。 自称赛太岁， (the proposal pattern above only marks the start).
_STATED_RE = re.compile(
    r"(?:叫做|叫作|唤做|唤作|名唤|唤名|名叫|名为|称名|法名|道号|号做|号为|号曰|称为|自称|自号"
    r"|混名|绰号|浑名|诨名|外号|乳名|小名)(?:叫做|唤做|为)?([\u4e00-\u9fff]{2,5}?)(?=[，。！？；：”、])"
)
# The text identifying someone: 乃孔明也, 乃是泾河龙王。 The predicate ends where the name ends,
# so its last two to four characters stand in a slot (乃老将黄忠也 -> 黄忠). 乃 without 是 or 也
# counts only before a full stop: before a comma it is mostly the adverb "then" (乃会其宗族，).
_IDENT_RE = re.compile(
    r"乃是([\u4e00-\u9fff]{2,8}?)也?(?=[，。！？；])"
    r"|乃([\u4e00-\u9fff]{2,8}?)(?:也(?=[，。！？；])|(?=。))"
)
_LIST_RE = re.compile(
    r"(?<=[、，])([\u4e00-\u9fff]{2,4})(?=、)|(?<=、)([\u4e00-\u9fff]{2,4})(?=[、，。])"
)
# A short clause on its own between punctuation: vocatives (悟空！) and appositions (，红孩儿，).
_CLAUSE_RE = re.compile(r"(?<=[，。！？：；“”、\n])([\u4e00-\u9fff]{2,4})(?=[，。！？：；“”、])")
_NON_CJK_RE = re.compile(r"[^\u4e00-\u9fff]")


def stated_names(text: str) -> Counter:
    """The strings the text introduces as names (叫做X，), with how often each is stated."""
    return Counter(m.group(1) for m in _STATED_RE.finditer(text))


def identifications(text: str) -> tuple[Counter, set[str]]:
    """How often each string ends a predicate identifying someone (乃孔明也, 乃假行者六耳猕猴也),
    and the predicates short enough to be a name whole (孔明)."""
    slots: Counter = Counter()
    whole = set()
    for m in _IDENT_RE.finditer(text):
        predicate = m.group(1) or m.group(2)
        # A predicate with a modifier or a count (乃是一国凡人, 乃是那水脏洞) describes.
        if predicate[0] in MODIFIER_CHARS or predicate[0] == "一":
            continue
        for k in range(2, min(4, len(predicate)) + 1):
            slots[predicate[-k:]] += 1
        if len(predicate) <= 4:
            whole.add(predicate)
    return slots, whole


def plausible_shape(s: str) -> bool:
    """Cheap character-level test: could `s` be a name at all?"""
    if not 2 <= len(s) <= 4:
        return False
    if s[0] in BAD_START or s[-1] in BAD_END:
        return False
    if any(ch in BAD_ANY for ch in s):
        return False
    # Reduplications (哈哈, 慢慢) and numbers are words, not names.
    return not (len(s) == 2 and s[0] == s[1])


def possible_shape(s: str) -> bool:
    """Could `s` be a name even though `plausible_shape` doubts it (凤喜, 范进, 一枝梅)?"""
    if not 2 <= len(s) <= 4 or (len(s) == 2 and s[0] == s[1]):
        return False
    if s[0] in HARD_BAD_START or s[-1] in HARD_BAD_END:
        return False
    return not any(ch in HARD_BAD_ANY for ch in s)


@dataclass
class CandidateStats:
    """Everything discovery knows about one candidate string."""

    text: str
    slots: int = 0  # times seen in a speech/action slot (either side)
    right_slots: int = 0  # times seen before a speech/action verb (X道)
    left_slots: int = 0  # times seen after a preposition/verb taking a person (对X)
    identified: int = 0  # times the text identifies someone as it (乃孔明也)
    initial: int = 0  # occurrences at a clause start (after punctuation or a line break)
    freq: int = 0  # overlapping occurrences in the whole text
    left: Counter = field(default_factory=Counter)  # CJK character before each occurrence
    right: Counter = field(default_factory=Counter)  # CJK character after each occurrence
    modified: int = 0  # occurrences after 那/这/个/我/的…: a common noun's company
    place: int = 0  # occurrences after 往/到… or before 去/里…: a place's company
    first: int = 0
    last: int = 0

    @property
    def left_share(self) -> float:
        """Share of occurrences preceded by the single most common character."""
        return max(self.left.values(), default=0) / self.freq if self.freq else 1.0

    @property
    def right_share(self) -> float:
        return max(self.right.values(), default=0) / self.freq if self.freq else 1.0


CUE_WORD_FREQ = 1000


def collect_slot_candidates(text: str) -> tuple[Counter, Counter, Counter]:
    """Count the strings found in speaker (right) and object (left) slots, and proposals."""
    right: Counter = Counter()
    left: Counter = Counter()
    extra: Counter = Counter()
    for m in _BROAD_RIGHT_RE.finditer(text):
        p = m.start()
        cut = _NON_CJK_RE.split(text[max(0, p - 3) : p])[-1]
        for k in range(2, len(cut) + 1):
            extra[cut[-k:]] += 1
    for m in _NAMING_RE.finditer(text):
        word = m.group(1)
        for k in range(2, len(word) + 1):
            extra[word[:k]] += 1
    for m in _LIST_RE.finditer(text):
        extra[m.group(1) or m.group(2)] += 1
    for m in _CLAUSE_RE.finditer(text):
        extra[m.group(1)] += 1
    # A cue that makes a common word with the character next to it (知 + 道, 对 + 面) is not a
    # speaker or object slot: 要知道 proposes no 要知, 对面坐 no 面坐.
    from .dictionary import two_char_words

    words = two_char_words(CUE_WORD_FREQ)
    for m in _RIGHT_CUE_RE.finditer(text):
        p = m.start()
        if text[p - 1 : p + 1] in words:
            continue
        window = text[max(0, p - 4) : p]
        cut = _NON_CJK_RE.split(window)[-1]
        for k in range(2, len(cut) + 1):
            right[cut[-k:]] += 1
    for m in _LEFT_CUE_RE.finditer(text):
        p = m.end()
        if text[p - 1 : p + 1] in words:
            continue
        window = text[p : p + 4]
        cut = _NON_CJK_RE.split(window)[0]
        for k in range(2, len(cut) + 1):
            left[cut[:k]] += 1
    return right, left, extra


def gather_stats(
    chapters: Iterable[tuple[int, str]],
    strings: list[str],
    right: Counter,
    left: Counter,
    identified: Counter | None = None,
) -> dict[str, CandidateStats]:
    """Frequency, neighbours and chapter span of each string (overlapping matches)."""
    identified = identified or Counter()
    stats = {
        s: CandidateStats(
            s,
            slots=right[s] + left[s],
            right_slots=right[s],
            left_slots=left[s],
            identified=identified[s],
        )
        for s in strings
    }
    if not strings:
        return stats
    table = [stats[s] for s in strings]
    automaton = ahocorasick_rs.AhoCorasick(strings)
    for number, body in chapters:
        n = len(body)
        for idx, start, end in automaton.find_matches_as_indexes(body, overlapping=True):
            st = table[idx]
            if not st.freq:
                st.first = number
            st.freq += 1
            st.last = number
            placed = False
            if start:
                ch = body[start - 1]
                if is_cjk(ch):
                    st.left[ch] += 1
                    if ch in MODIFIER_CHARS:
                        st.modified += 1
                    placed = ch in PLACE_LEFT
                else:
                    st.initial += 1
            else:
                st.initial += 1
            if end < n:
                ch = body[end]
                if is_cjk(ch):
                    st.right[ch] += 1
                    placed = placed or ch in PLACE_RIGHT
            if placed:
                st.place += 1
    return stats


# Speaker and object slots (X道, 对X) that let a string of a doubtful shape into the pool.
MIN_SPEAKER_SLOTS = 8
# A doubtful character is part of the name when it is bound to the rest: the rest is seldom
# written without it (枝梅 is nearly always 一枝梅, 凤 mostly 凤喜), unlike an adverb or a
# verb that meets a name by chance (也 + 不, 操 + 大).
START_BOUND = 0.7
END_BOUND = 0.5
# A surname + a one-character given name that is also a function word (韩 + 遂, 王 + 又) is a
# name when the surname character is followed by it this often (韩遂 0.23, 王又 0.01).
WEAK_END_BOUND = 0.1


def doubtful_ok(strings: list[str], text: str) -> list[str]:
    """The strings of a doubtful shape that may still be names: a surname + given name (范进,
    凤喜, 狄洪道), or a doubtful first or last character bound to the rest (一枝梅)."""
    from .dictionary import function_char

    counts = _count(text, {p for s in strings for p in (s, s[1:], s[:-1])})
    kept = []
    for s in strings:
        parts = split_surname(s)
        if (
            parts
            and parts[0] not in FUNCTION_SURNAMES
            and s[0] not in BAD_START
            and not (
                len(parts[1]) == 1
                and function_char(parts[1])
                and counts[s] < WEAK_END_BOUND * counts[s[:-1]]
            )
        ):
            kept.append(s)
            continue
        n = counts[s]
        start_ok = s[0] not in BAD_START and s[0] not in BAD_ANY
        end_ok = s[-1] not in BAD_END and s[-1] not in BAD_ANY
        inner_ok = not any(ch in BAD_ANY for ch in s[1:-1])
        start_ok = start_ok or n >= START_BOUND * counts[s[1:]]
        end_ok = end_ok or n >= END_BOUND * counts[s[:-1]]
        if start_ok and end_ok and inner_ok:
            kept.append(s)
    return kept


def _count(text: str, strings: set[str]) -> Counter:
    """Overlapping occurrences of each string in the text. Single characters are counted with
    str.count and the rest a chunk at a time, so no list of millions of matches is built."""
    singles = {s for s in strings if len(s) == 1}
    chars = Counter(text) if len(singles) > 20 else {c: text.count(c) for c in singles}
    out = Counter({c: chars[c] for c in singles})
    patterns = sorted(s for s in strings if len(s) > 1)
    if not patterns:
        return out
    automaton = ahocorasick_rs.AhoCorasick(patterns)
    found: Counter = Counter()
    start = 0
    while start < len(text):
        end = text.find("\n", start + _CHUNK)
        end = len(text) if end < 0 else end + 1
        matches = automaton.find_matches_as_indexes(text[start:end], overlapping=True)
        found.update(i for i, _s, _e in matches)
        start = end
    out.update({patterns[i]: n for i, n in found.items()})
    return out


_CHUNK = 200_000


def candidate_pool(
    right: Counter, left: Counter, extra: Counter, min_slots: int, max_pool: int, text: str = ""
) -> list[str]:
    """Slot strings worth a full statistics pass: those of a plausible shape, and those of a
    doubtful shape the text often uses as a speaker (凤喜道, 范进道, 一枝梅道) that pass
    `doubtful_ok`."""
    slots = right + left + extra
    usable = [s for s, c in slots.items() if c >= min_slots and s not in TITLES and s not in COMMON]
    pool = [s for s in usable if plausible_shape(s)]
    doubtful = [
        s
        for s in usable
        if right[s] + left[s] >= MIN_SPEAKER_SLOTS and not plausible_shape(s) and possible_shape(s)
    ]
    if text:
        from .dictionary import common_word

        doubtful = [s for s in doubtful if not common_word(s)]
        pool.extend(doubtful_ok(doubtful, text))
    pool.sort(key=lambda s: -slots[s])
    return pool[:max_pool]
