"""Relation cues: what a sentence says about two people standing in it.

Shared by evidence selection (prefer snippets that show a relation) and the offline rules
(which type, and who is senior). Three kinds of cue, strongest first:

- constructions that join the two names ("X之子Y", "Y拜X为师", "X令Y…", "X与Y交战");
- what one of them says to the other (“师父”, “主公”, “泼猴”, a quote opened by "Y对X道");
- plain cue words near the names (weak: they may speak of someone else). They rank evidence;
  the offline rules type nothing with them, but for a family word between two of one surname.

Pure data and small helpers; no I/O. No character names of any novel belong here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from graph.cue_patterns import ADDRESS, GRIEVANCES, INSULTS, TEMPLATES, THREATS
from graph.names import SURNAMES
from graph.names import names_pattern as names_pattern  # also read as cues.names_pattern
from graph.names import same_surname as same_surname  # also read as cues.same_surname

_BREAK = "，、。！？；：“”‘’「」\n"


def _expand(template: str) -> str:
    """`~N`: up to N characters within one clause; `≈N`: up to N characters within a sentence
    (not into or out of a quote)."""
    template = re.sub(r"~(\d+)", lambda m: f"[^{_BREAK}]{{0,{m[1]}}}", template)
    return re.sub(r"≈(\d+)", lambda m: f"[^。！？“”\n]{{0,{m[1]}}}", template)


# Plain words near the names (weak; only 2+ characters: single ones are everywhere). Role
# nouns (师父, 丫鬟, 主公) are left to the constructions and addresses: as plain words they
# mostly name a third person's role.
TYPE_CUES: dict[str, tuple[str, ...]] = {
    code: tuple(words.split())
    for code, words in {
        "master": "拜师 为徒 为师 收徒 传授 授艺",
        "fellow": "师兄 师弟 师姐 师妹 同门 师兄弟",
        "kin": "父亲 母亲 爹爹 娘亲 儿子 女儿 孩儿 叔叔 侄儿 侄女 祖母 祖父 孙儿 孙子 舅舅 外甥 "
        "父子 母子 亲生 骨肉 外孙 母女 父女",
        "sibling": "兄长 哥哥 弟弟 姐姐 妹妹 兄弟 姐妹 兄妹 姐弟",
        "lovers": "娘子 妻子 丈夫 相公 夫君 未婚妻 未婚夫 成亲 婚事 定亲 夫妻 心上人 相爱 情意 "
        "爱慕 倾心 夫妇 姻缘",
        "sworn": "结义 结拜 义兄 义弟 八拜之交 金兰 结为兄弟",
        "ally": "联手 并肩 同伴 盟友 结盟 相助 援救 救了 朋友 好友 知己 同行 助战 求救 借兵 同心 协力 "
        "共破 联兵 合兵 救兵 讨救",
        "lord": "奉命 遵命 效忠 投奔 服侍 伏侍 伺候 归顺 听令",
        "enemy": "仇人 仇敌 报仇 背叛 反目 叛徒 厮杀 交手 交战 大战 杀了 捉拿 拿住 擒住 交锋 "
        "为敌 敌人 对头",
    }.items()
}

# Markers that name the role of the person they stand next to: "师父X" / "X师父" → X is senior.
ROLE_MARKERS: dict[str, tuple[str, str]] = {
    **{w: ("master", "senior") for w in ("师父", "师傅", "师尊", "恩师")},
    **{w: ("master", "junior") for w in ("徒弟", "徒儿", "弟子")},
    **{
        w: ("kin", "senior")
        for w in ("父亲", "母亲", "爹爹", "娘亲", "叔叔", "祖父", "祖母", "舅舅")
    },
    **{
        w: ("kin", "junior")
        for w in ("儿子", "女儿", "孩儿", "侄儿", "侄女", "孙儿", "孙子", "外甥")
    },
    **{w: ("lord", "senior") for w in ("主公", "主人", "陛下", "主上")},
    **{
        w: ("lord", "junior")
        for w in ("丫鬟", "丫头", "小厮", "仆人", "家丁", "手下", "部下", "部将")
    },
}

_ALL_CUES = sorted({cue for cues in TYPE_CUES.values() for cue in cues}, key=len, reverse=True)
CUE_PATTERN = re.compile("|".join(map(re.escape, _ALL_CUES)))
CODE_OF_CUE = {cue: code for code, cues in TYPE_CUES.items() for cue in cues}
_SPEECH_VERB = "(?:曰|道|说|问|叫|喝|骂|答|叹|笑|哭|嚷|喊|告诉)"


@dataclass(frozen=True)
class Signal:
    """One piece of evidence: a type, who it makes senior ("a", "b" or None) and how strong."""

    code: str
    senior: str | None
    weight: float
    via: str = ""  # "address": a word one of them says to the other


def cue_count(text: str) -> int:
    """How many relation cue words a snippet holds (used to rank evidence)."""
    return len(CUE_PATTERN.findall(text))


# The two people are written into the text as one private-use character each, so the
# templates are compiled once, not once per pair.
MARK_A, MARK_B = "\ue000", "\ue001"


def _compile_templates() -> list[tuple[re.Pattern, Signal]]:
    compiled = []
    for template, code, senior, weight in TEMPLATES:
        for x, y, sx in ((MARK_A, MARK_B, "a"), (MARK_B, MARK_A, "b")):
            regex = re.compile(_expand(template).replace("{X}", x).replace("{Y}", y))
            who = None if senior is None else (sx if senior == "X" else ("b" if sx == "a" else "a"))
            compiled.append((regex, Signal(code, who, weight)))
    return compiled


_TEMPLATES = _compile_templates()
_MARKS = {"a": re.compile(MARK_A), "b": re.compile(MARK_B)}


# Classical narration names a person by the given name alone once the full name is known
# (操曰, 权大怒, 云领命): a single character counts only where it opens a clause and a verb follows.
_CLAUSE_OPEN = "(?:(?<=[。，！？；：”\n])|^)"
_AFTER_ABBREVIATION = (
    "(?=曰|大怒|大喜|大惊|叱|问|谓|笑|乃|便|令|命|遣|差|视|见|闻|听|怒|喜|急|自|亦|又|遂|即|引|领|"
    "率|拜|告|答|谢|奏|泣|叹|教|使|唤|欲|方|纵|挺|回|入|出|随|跪|拍|拔|举)"
)


def _abbreviations(names, taken: set[str]) -> set[str]:
    """Given names of two-character full names (曹操 → 操) that no one else in the pair uses."""
    return {
        name[1] for name in names if len(name) == 2 and name[0] in SURNAMES and name[1] not in taken
    }


@lru_cache(maxsize=16384)  # the pair stage reads each pair it ranks and each it asks
def _name_finder(names_a: tuple[str, ...], names_b: tuple[str, ...]):
    owner = {name: MARK_B for name in names_b} | {name: MARK_A for name in names_a}
    full = names_pattern(owner)
    short_a = _abbreviations(names_a, set("".join(names_b)))
    short_b = _abbreviations(names_b, set("".join(names_a)))
    short = {c: MARK_A for c in short_a - short_b} | {c: MARK_B for c in short_b - short_a}
    if short:
        owner |= short
        chars = "".join(sorted(short))
        full = f"{full}|{_CLAUSE_OPEN}[{chars}]{_AFTER_ABBREVIATION}"
    return re.compile(full), owner


def mark_names(text: str, names_a, names_b) -> str:
    """`text` with every name of A written as MARK_A and every name of B as MARK_B."""
    finder, owner = _name_finder(tuple(names_a), tuple(names_b))
    return finder.sub(lambda m: owner[m.group()], text)


# Words that count anywhere near the start of a quote, not only as the opening vocative.
_ANYWHERE = frozenset({"lord"})
_GRIEVANCE = re.compile(_expand(GRIEVANCES))
_YOU_INSULT = re.compile(f"你这(?:个|些|伙|两个)?[^，。！？“”]{{0,4}}(?:{INSULTS})")
_VOCATIVE = re.compile(r"^[^，,！!。？?：:]{1,6}(?=[，,！!。？?：:])")


def _address_signals(quote: str, speaker: str, weight: float) -> list[Signal]:
    other = "b" if speaker == "a" else "a"
    vocative = _VOCATIVE.match(quote)
    opening = vocative.group() if vocative else ""
    found = []
    for words, code, role, w in ADDRESS:
        scope = quote[:40] if code in _ANYWHERE and w < 2 else opening
        if re.search(words, scope):
            senior = None if role is None else (other if role == "junior" else speaker)
            found.append(Signal(code, senior, w * weight, "address"))
    head = quote[:40]
    if (
        (_YOU_INSULT.search(head) and not re.search(INSULTS, opening))
        or re.search(THREATS, head)
        or _GRIEVANCE.search(head)
    ):
        found.append(Signal("enemy", None, 1.5 * weight, "address"))
    return found


_QUOTE = re.compile(f"(?:{_SPEECH_VERB}[^“”。\n]{{0,3}}|：)“(?P<q>[^”]{{1,120}})")
# What a speaker says of the two of them, or of the other by name ("你我联手", "我的师父X").
_MUTUAL = (
    ("(?:你我|咱们|咱俩|我们|我俩)~12(?:联手|同伴|朋友|盟友|好友|知己|同心)", "ally"),
    ("(?:你我|咱们|咱俩|我们|我俩)~12(?:反目|仇敌|仇人|为敌|了断|势不两立)", "enemy"),
    ("(?:你我|咱们|咱俩|我们|我俩)~12(?:结拜|结义|兄弟)", "sworn"),
)
_MINE = (  # 我的 + role + the other's name: (role words, type, the other is "senior" / "junior")
    ("师父|师傅|恩师", "master", "senior"),
    ("徒弟|徒儿|弟子", "master", "junior"),
    ("父亲|爹爹|爹|母亲|娘|哥哥|兄长|姐姐", "kin", "senior"),
    ("儿子|女儿|孩儿|弟弟|妹妹", "kin", "junior"),
    ("主公|主人|主上", "lord", "senior"),
    ("师兄|师弟|师姐|师妹", "fellow", None),
    ("好友|朋友|知己|同伴|老友|故交", "ally", None),
    ("结拜大哥|结拜兄弟|结义兄弟|义兄|义弟|结拜", "sworn", None),
    ("妻子|夫人|娘子|丈夫|夫君|未婚妻|未婚夫|心上人", "lovers", None),
)
# What the speaker says of himself and the other by name: “我早已和Y结盟”
_WITH_ME = (
    ("结盟|联手|联合|合伙|同心|是朋友|是好友|交好|相好|是知己|是故交", "ally"),
    ("结拜|结义|结为兄弟|八拜之交|拜了把子", "sworn"),
    ("有仇|结仇|结下|不共戴天|势不两立|为敌|作对|了断", "enemy"),
    ("成亲|成婚|定亲|订婚|拜堂|结为夫妻|做夫妻", "lovers"),
)
_GAP = f"[^，。！？“”{MARK_A}{MARK_B}]{{0,8}}"
_JOINT = re.compile(f"{MARK_A}({_GAP}){MARK_B}|{MARK_B}({_GAP}){MARK_A}")
_JOINER = re.compile("、|引|领|带|并|及|同着")
_ADDRESSED = re.compile("对|向|朝|冲着|问|谓|指着|叫|劝|骂|喝|与|和|同(?!着)|跟|把|被")
_WITH = "(?:、|与|和|同|引|领|带|并|及)"
_JOINT_BEFORE = re.compile(f"{MARK_A}{_WITH}{MARK_B}|{MARK_B}{_WITH}{MARK_A}")


def _joint(clauses: list[str]) -> bool:
    """The two open a quote together: "X、Y道", "X引Y近前道", "X与Y跳出城头，厉声骂道"."""
    together = _JOINT.search(clauses[-1])
    if together:
        gap = together.group(1) or together.group(2) or ""
        return bool(_JOINER.search(gap)) and not _ADDRESSED.search(gap)
    return (
        len(clauses) > 1
        and not re.search(f"[{MARK_A}{MARK_B}]", clauses[-1])
        and bool(_JOINT_BEFORE.search(clauses[-2]))
    )


_HEARD = re.compile("闻得|听得|听见|只闻|忽闻|又闻|只听|忽听|但听|耳听")
_SENTENCE_START = re.compile("[。！？”\n][^。！？”\n]*$")
_OBJECT_MARK = "对|向|朝|冲着|问|谓|指着|叫|劝|骂|喝|和|与|同|跟|把|被"


def _clause_subject(clause: str, names: dict[str, re.Pattern]) -> str | None:
    """Which of the two opens the clause (its subject, most likely)."""
    for side, pattern in names.items():
        match = pattern.search(clause)
        if (
            match
            and match.start() <= 3
            and not re.search(f"(?:{_OBJECT_MARK})$", clause[: match.start()])
        ):
            return side
    return None


def _speaker_and_weight(
    lead: str, quote: str, before: str, names: dict
) -> tuple[str, float] | None:
    """Who of the two speaks, and how sure we are that the other is the one spoken to."""
    clauses = re.split("[，；]", lead)
    verb_clause = clauses[-1]
    if _joint(clauses) or _HEARD.search(verb_clause):
        # "X、Y道", "X引Y近前道": they speak together, to someone else; "又闻得叫声": heard
        return None
    speaker = _clause_subject(verb_clause, names)
    for side, pattern in names.items():  # "X对Y道": X speaks to Y
        if re.search(f"(?:{_OBJECT_MARK}){pattern.pattern}", verb_clause):
            subject = speaker or (_clause_subject(clauses[-2], names) if len(clauses) > 1 else None)
            if subject and subject != side:
                return subject, 1.0
    if speaker is None and len(verb_clause) <= 6 and len(clauses) > 1:
        speaker = _clause_subject(clauses[-2], names)
    for side, pattern in names.items():  # “X，……”: X is spoken to
        if pattern.match(quote):
            other = "b" if side == "a" else "a"
            if speaker == other or (speaker is None and names[other].search(before)):
                return other, 0.8
    if speaker is None:
        return None
    other = names["b" if speaker == "a" else "a"]
    if other.search(lead):
        return speaker, 0.8  # named in the sentence that opens the quote
    if other.search(before) and not other.search(quote):
        return speaker, 0.5  # the other is in the scene, probably the one spoken to
    return None


def _mine_signals(lead: str, quote: str, names: dict) -> list[Signal]:
    """“这是我的师父X”: the speaker (one of the two, opening the sentence) names the other."""
    clauses = re.split("[，；]", lead)
    speaker = _clause_subject(clauses[-1], names) or (
        _clause_subject(clauses[-2], names) if len(clauses) > 1 and len(clauses[-1]) <= 8 else None
    )
    if speaker is None:
        return []
    other = "b" if speaker == "a" else "a"
    found = []
    for words, code, role in _MINE:
        if re.search(f"(?:我|俺|咱)(?:家|们)?(?:的)?(?:{words}){names[other].pattern}", quote):
            senior = None if role is None else (other if role == "senior" else speaker)
            found.append(Signal(code, senior, 3.0))  # a statement: defines the type
    for words, code in _WITH_ME:
        with_other = f"(?:我|吾|俺)~4(?:和|与|同|跟){names[other].pattern}~6(?:{words})"
        if re.search(_expand(with_other), quote):
            found.append(Signal(code, None, 2.0))
    return found


def _you_are_my(quote: str, speaker: str, weight: float) -> list[Signal]:
    """“你便是我的师弟了”: the speaker tells the one spoken to what they are to each other."""
    other = "b" if speaker == "a" else "a"
    found = []
    for words, code, role in _MINE:
        if re.search(
            f"你(?:便|就|才|也|以后|从此)?(?:是|乃)(?:我|俺|咱)的?(?:{words})", quote[:60]
        ):
            senior = None if role is None else (other if role == "senior" else speaker)
            found.append(Signal(code, senior, 2.0 * weight, "address"))
    return found


def _speech_signals(text: str, name_a: re.Pattern, name_b: re.Pattern) -> list[Signal]:
    """Address words in the quotes one of the two speaks to the other."""
    names = {"a": name_a, "b": name_b}
    signals = []
    for match in _QUOTE.finditer(text):
        head = max(0, match.start() - 40)
        opening = _SENTENCE_START.search(text, head, match.start())
        start = opening.start() + 1 if opening else head
        lead = text[start : match.end("q") - len(match["q"]) - 1]
        quote = match["q"]
        signals.extend(_mine_signals(lead, quote, names))
        found = _speaker_and_weight(lead, match["q"], text[max(0, start - 80) : start], names)
        if not found:
            continue
        speaker, weight = found
        signals.extend(_address_signals(match["q"], speaker, weight))
        signals.extend(_you_are_my(match["q"], speaker, weight))
        for regex, code in _MUTUAL:
            if re.search(_expand(regex), match["q"][:60]):
                signals.append(Signal(code, None, 1.5 * weight / max(weight, 0.8)))
        if re.search("骂|喝", lead[-6:]):
            signals.append(Signal("enemy", None, weight))
    return signals


def vocative_speakers(text: str, names_a, names_b, words: str) -> set[str]:
    """Which of the two ("a", "b") open a quote by calling someone `words` (“师父，……”), whoever
    is spoken to: two people who both call a third 师父 are fellow disciples."""
    text = mark_names(text, names_a, names_b)
    names = {"a": _MARKS["a"], "b": _MARKS["b"]}
    found: set[str] = set()
    for match in _QUOTE.finditer(text):
        vocative = _VOCATIVE.match(match["q"])
        if not vocative or not re.search(words, vocative.group()):
            continue
        opening = _SENTENCE_START.search(text, max(0, match.start() - 40), match.start())
        start = opening.start() + 1 if opening else max(0, match.start() - 40)
        clauses = re.split("[，；]", text[start : match.start("q")])
        if _HEARD.search(clauses[-1]):
            continue
        if _joint(clauses):
            found.update(names)
            continue
        speaker = _clause_subject(clauses[-1], names)
        if speaker is None and len(clauses) > 1 and len(clauses[-1]) <= 6:
            speaker = _clause_subject(clauses[-2], names)
        if speaker:
            found.add(speaker)
    return found


def relation_signals(text: str, names_a, names_b) -> tuple[Signal, ...]:
    """Every construction and address in `text` that ties A to B."""
    return _relation_signals(text, tuple(names_a), tuple(names_b))


# The pair stage reads half of its snippets twice: once to rank the pair, once to pick its
# evidence (27.6 K distinct of 53.7 K readings on the 5M-character benchmark input).
@lru_cache(maxsize=65536)
def _relation_signals(text: str, names_a: tuple, names_b: tuple) -> tuple[Signal, ...]:
    text = mark_names(text, names_a, names_b)
    if MARK_A not in text or MARK_B not in text:
        return ()
    signals = [signal for regex, signal in _TEMPLATES for _ in regex.finditer(text)]
    if "“" in text:
        signals.extend(_speech_signals(text, _MARKS["a"], _MARKS["b"]))
    return tuple(signals)


def near_signals(text: str, anchors: list[int]) -> list[Signal]:
    """Weak signals: cue words, weighted down by their distance from the nearest name."""
    found = []
    for match in CUE_PATTERN.finditer(text):
        if not anchors:
            break
        distance = min(abs(match.start() - a) for a in anchors)
        found.append(Signal(CODE_OF_CUE[match.group()], None, 0.5 * max(0.2, 1 - distance / 40)))
    return found


def snippet_strength(text: str, names_a, names_b=()) -> float:
    """How much a snippet says about the pair (evidence ranking): constructions and addresses
    count fully, plain cue words a little."""
    if not names_b:
        return float(cue_count(text))
    return sum(s.weight for s in relation_signals(text, names_a, names_b)) + 0.2 * cue_count(text)
