"""Statistical tests that tell phrases and common words from names (道声, 拜毕, 思量, 张开口).

Each test looks at how a candidate is used in this text, helped by jieba's bundled dictionary
and generic character classes; nothing is specific to one novel.
"""

from __future__ import annotations

from graph.names import FUNCTION_SURNAMES, split_surname

from .candidates import CandidateStats
from .lexicon import COMMON

# Verb complements that close an action (拜毕, 言毕, 道声, 喝声): a name does not end with them.
_ACTION_ENDS = frozenset("毕声罢")
# Adverbs that stand right before a verb (又思量, 正待要, 却睁睛); a name rarely follows them.
_ADVERBS = frozenset("又正却只便就也都遂即才再还亦忙连急待欲敢皆俱齐")
ADVERB_SHARE = 0.25
ADVERB_MIN = 3
# Speaker / object slots per use below which a string is a phrase of the narration (饶命,
# 情愿, 快走): people speak and are spoken to.
WEAK_SLOTS = 0.03
WEAK_DICT_SLOTS = 0.1
# A surname + name that speaks (尤保道) and is spoken to or acted on (命儿子尤能) is a person,
# whatever the dictionary makes of its characters (尤 + 保 "adverb + verb", 何 + 进, 黄鹤 + 声).
PERSON_RIGHT_SLOTS = 3
PERSON_LEFT_SLOTS = 2


def _surname_shaped(s: str) -> bool:
    """Surname + one or two characters, with a surname that is not a function character."""
    parts = split_surname(s)
    return parts is not None and parts[0] not in FUNCTION_SURNAMES


def used_as_person(st: CandidateStats) -> bool:
    """Does the text use a surname-shaped string as a person: speaking, and spoken to or
    acted on? Such use overrules the tests that read the characters alone."""
    return (
        _surname_shaped(st.text)
        and st.right_slots >= PERSON_RIGHT_SLOTS
        and st.left_slots >= PERSON_LEFT_SLOTS
    )


def phrase_like(st: CandidateStats) -> bool:
    """Is the candidate a verb phrase, adverb phrase or common word rather than a name?"""
    s, f = st.text, st.freq
    if not f:
        return True
    if s[-1] in _ACTION_ENDS and len(s) <= 3 and not used_as_person(st):
        return True
    if len(s) == 3 and s[1:] in COMMON:  # 张 + 开口: a verb and its object, not 张 + a name
        return True
    adverbs = sum(n for ch, n in st.left.items() if ch in _ADVERBS)
    if adverbs >= ADVERB_MIN and adverbs / f >= ADVERB_SHARE:
        return True
    slots = (st.right_slots + st.left_slots) / f
    from .dictionary import tag as dictionary_tag

    tag = dictionary_tag(s)
    if tag and not tag.startswith("nr") and slots < WEAK_DICT_SLOTS:
        return True  # a dictionary noun, verb or place seldom in a speaker slot (水火, 四海)
    # 快走, 拿过, 次早: a two-character string never in a slot, without a surname to suggest a
    # name used only in narration (the courtesy names such 字 phrases state are added back later).
    return len(s) == 2 and slots < WEAK_SLOTS and not _surname_shaped(s)
