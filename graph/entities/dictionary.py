"""jieba's bundled dictionary as evidence that a string is a common word, not a name."""

from __future__ import annotations

import functools

import jieba

from graph.names import COMPOUND_SURNAMES, SURNAMES, TITLES

# jieba part-of-speech tags of words that are never names: conjunctions, adverbs, numerals,
# pronouns, prepositions, particles, locatives, verbs, adjectives, idioms... Nouns, time words
# (如来, 元春 are tagged t) and measure words (平儿 is tagged q) are left to the statistics.
_FUNCTION_TAGS = frozenset(
    [
        "c",
        "d",
        "m",
        "r",
        "p",
        "u",
        "ad",
        "f",
        "v",
        "vn",
        "vd",
        "vg",
        "a",
        "an",
        "ag",
        "b",
        "l",
        "y",
        "e",
        "o",
        "z",
        "zg",
        "mq",
        "uj",
        "ul",
        "uv",
        "uz",
        "ug",
        "ud",
        "k",
        "h",
        "x",
        "dg",
    ]
)
_FUNCTION_MIN_FREQ = 1


@functools.cache
def _dictionary() -> dict[str, tuple[str, int]]:
    """Word -> (part-of-speech tag, frequency) from jieba's bundled dictionary, words of at
    most four characters (loaded once per process)."""
    tags = {}
    with jieba.get_dict_file() as fh:
        for raw in fh:
            parts = raw.decode("utf-8").split()
            if len(parts) == 3 and len(parts[0]) <= 4:
                tags[parts[0]] = (parts[2], int(parts[1]))
    return tags


def tag(word: str) -> str:
    """jieba's part-of-speech tag for `word`, or "" when it is not in the dictionary."""
    return _dictionary().get(word, ("", 0))[0]


def frequency(word: str) -> int:
    """jieba's frequency for `word`, or 0 when it is not in the dictionary."""
    return _dictionary().get(word, ("", 0))[1]


def common_word(word: str, min_freq: int = 0) -> bool:
    """Is `word` a dictionary word that is not a person's name (国公, 高僧), used at least
    `min_freq` times in jieba's corpus?"""
    pos, freq = _dictionary().get(word, ("", 0))
    return bool(pos) and not pos.startswith("nr") and freq >= min_freq


# Tags of a character that starts a verb phrase rather than a name (查 + 耳朵, 忽 + 抬头, 莫 + 怕).
_PHRASE_HEAD_TAGS = frozenset(["v", "vg", "d", "p", "r", "f", "c"])
_TIME_HEAD = frozenset("今明昨前")
_TIME_TAIL = frozenset("早晚夜朝番")


def verb_phrase(s: str) -> bool:
    """Is `s` a verb phrase or time word that the slot statistics took for a name?

    查耳朵, 使铁棒, 拿出来, 忽抬头: a verb/adverb/preposition followed by a dictionary word;
    莫怕, 未可, 吾有: an adverb or pronoun followed by a verb; 今番, 明早: time words.
    """
    if len(s) == 3 and s[:2] not in COMPOUND_SURNAMES:
        rest = tag(s[1:])
        titled = s[0] in SURNAMES and s[1:] in TITLES  # 尚 + 师长 is a surname and a title
        if tag(s[0]) in _PHRASE_HEAD_TAGS and rest and not rest.startswith("nr") and not titled:
            return True
        if s[1] in "得了着过":  # 闻得人: a verb and its complement
            return True
    if len(s) == 2:
        head, tail = tag(s[0]), tag(s[1])
        if head in ("d", "p", "r") and tail.startswith("v") or head == "p" and tail == "f":
            return True
        # 上写 (上面写着), 里嚷: a locative and a verb, unless the pair is a known name (西施)
        if head == "f" and tail.startswith("v") and not tag(s).startswith("nr"):
            return True
        if s[0] in _TIME_HEAD and (s[1] in _TIME_TAIL or tag(s) == "t"):
            return True
    return False


@functools.cache
def _function_words() -> frozenset[str]:
    """Common non-noun words from jieba's bundled dictionary (loaded once per process)."""
    return frozenset(
        w
        for w, (tag, freq) in _dictionary().items()
        if tag in _FUNCTION_TAGS and freq >= _FUNCTION_MIN_FREQ and len(w) >= 2
    )


@functools.cache
def _two_char_freq() -> tuple[tuple[str, int], ...]:
    return tuple(
        (w, freq)
        for w, (tag, freq) in _dictionary().items()
        if len(w) == 2 and not tag.startswith("nr")
    )


@functools.cache
def two_char_words(min_freq: int = 5) -> frozenset[str]:
    """Two-character dictionary words other than names, used at least `min_freq` times."""
    return frozenset(w for w, freq in _two_char_freq() if freq >= min_freq)


# Single-character tags of function characters (adverbs, prepositions, conjunctions, particles,
# pronouns, locatives): 王 + 又, 魏 + 中 are a surname-like character and a word of the
# sentence, not a surname and a given name.
_FUNCTION_CHAR_TAGS = frozenset(["d", "p", "c", "u", "r", "y", "f", "uj", "ul"])


def function_char(ch: str) -> bool:
    """Is the single character a function word in jieba's dictionary?"""
    return tag(ch) in _FUNCTION_CHAR_TAGS


__all__ = ["_dictionary", "_function_words", "function_char", "two_char_words", "verb_phrase"]
