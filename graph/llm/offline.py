"""Offline answers: local rules that answer a task's `Question` (names and snippets, as the task
builder made it) in the JSON shapes the model is asked for.

Used when there is no API key, and by the test emulator as its "model" (which reads the question
back out of the prompt), so the batch, realtime and offline modes can be compared on the same
novel. Replies go through the same parser as a model's.
"""

from __future__ import annotations

import json
import re
from collections import Counter

from graph import cues, prompts, taxonomy
from graph.llm import statements
from graph.prompts import Question, Snippet

STRONG_SNIPPET = 1.0  # a phase of a single snippet needs a construction, not a stray word
# ... and a change of type after the first phase, more: one snippet said the type changed,
# where stray cues made half the stable pairs "change" (see bench/relations.py).
STRONG_CHANGE = 2.0
FEMALE_MARKERS = (
    "她",
    "姑娘",
    "小姐",
    "夫人",
    "娘子",
    "妹妹",
    "姐姐",
    "女儿",
    "丫鬟",
    "母亲",
    "妻",
)
IDENTITY_WORDS = (
    "皇帝",
    "太子",
    "公主",
    "丞相",
    "将军",
    "元帅",
    "太守",
    "知府",
    "掌门",
    "长老",
    "师父",
    "道士",
    "和尚",
    "菩萨",
    "妖怪",
    "大王",
    "公子",
    "小姐",
    "丫鬟",
    "书生",
    "秀才",
    "剑客",
    "侠客",
    "商人",
)
ABILITY_WORDS = (
    "剑法",
    "刀法",
    "枪法",
    "拳法",
    "掌法",
    "轻功",
    "内功",
    "法术",
    "神通",
    "变化",
    "武艺",
    "医术",
    "诗",
)


def answer(facts: Question) -> str:
    """Reply content for a question, as a model would write it."""
    if facts.kind == prompts.RELATION:
        reply = relation_reply(facts)
    elif facts.kind == prompts.EVOLUTION:
        reply = evolution_reply(facts)
    else:
        reply = attribute_reply(facts)
    return json.dumps(reply, ensure_ascii=False)


# Specific relations outrank the generic ones when the evidence is equal.
PRIORITY = ("sworn", "master", "lovers", "kin", "fellow", "lord", "enemy", "ally")
MIN_SCORE = 0.5
SNIPPET_CAP = 2.0
ELDER_TITLES = "(?:母|夫人|太太|姨妈|姨娘|老爷|父|翁|天王|老君|老母)$"
MASTER_WORDS = "师父|师傅|师尊|恩师"
SHARED_MASTER = 1.5  # both call someone 师父: a fellow disciple, not master and pupil


def _names_pattern(names: list[str]) -> str:
    return cues.names_pattern(names)


def focus(
    text: str, names_a: list[str], names_b: list[str], before: int = 10, after: int = 30
) -> str:
    """The stretch of a snippet between the closest mentions of the two people, plus a margin:
    cues further away usually speak of someone else."""
    spans_a = [m.span() for m in re.finditer(_names_pattern(names_a), text)]
    spans_b = [m.span() for m in re.finditer(_names_pattern(names_b), text)]
    if not spans_a or not spans_b:
        return text
    sa, sb = min(((x, y) for x in spans_a for y in spans_b), key=lambda p: abs(p[0][0] - p[1][0]))
    return text[max(0, min(sa[0], sb[0]) - before) : max(sa[1], sb[1]) + after]


def snippet_signals(text: str, names_a: list[str], names_b: list[str]) -> list[cues.Signal]:
    """Constructions and addresses in the whole snippet, weak cue words near the two names."""
    signals = cues.relation_signals(text, names_a, names_b)
    # Cue words inside a name (王夫人, 薛姨妈) say nothing: the names are masked first.
    near = cues.mark_names(focus(text, names_a, names_b), names_a, names_b)
    anchors = [i for i, ch in enumerate(near) if ch in (cues.MARK_A, cues.MARK_B)]
    return signals + cues.near_signals(near, anchors)


def _resolve(signals: list[cues.Signal], kin_like: bool) -> list[cues.Signal]:
    """Brother/sister words mean kin between people of one surname, sworn brothers otherwise;
    said as a form of address between two surnames they mean nothing (cousins, friends)."""
    resolved = []
    for s in signals:
        if s.code == "sibling_address" or (s.code == "sibling" and s.senior is None):
            # 哥哥, 妹妹 said or written near them: family if one surname, else nothing
            if kin_like:
                resolved.append(cues.Signal("kin", s.senior, s.weight))
        elif s.code == "sibling":
            resolved.append(cues.Signal("kin" if kin_like else "sworn", s.senior, s.weight))
        else:
            resolved.append(s)
    return resolved


def type_scores(signals: list[cues.Signal]) -> Counter:
    scores: Counter = Counter()
    for signal in signals:
        scores[signal.code] += signal.weight
    return scores


def best_type(scores: Counter) -> tuple[str, float]:
    if not scores:
        return taxonomy.DEFAULT_TYPE, 0.0
    top = max(scores.values())
    code = min(
        (c for c, v in scores.items() if v >= top - 1e-9),
        key=lambda c: PRIORITY.index(c) if c in PRIORITY else len(PRIORITY),
    )
    return (code, top) if top >= MIN_SCORE else (taxonomy.DEFAULT_TYPE, top)


def classify(text: str, names_a: list[str], names_b: list[str]) -> tuple[str, float]:
    """The type one snippet shows, with its score (共现 below MIN_SCORE)."""
    signals = _resolve(snippet_signals(text, names_a, names_b), cues.same_surname(names_a, names_b))
    return best_type(type_scores(signals))


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
    if votes:
        return votes
    a, b = _names_pattern(facts.names_a), _names_pattern(facts.names_b)
    for snippet in facts.snippets:
        for marker, (marker_code, role) in cues.ROLE_MARKERS.items():
            if marker_code != code:
                continue
            sign = 1 if role == "senior" else -1
            # "师父X" / "X师父": X holds the role; "X的师父": X holds the opposite one.
            for names, side in ((a, 1), (b, -1)):
                text = snippet.text
                votes += side * sign * len(re.findall(f"{marker}{names}|{names}{marker}", text))
                votes -= side * sign * len(re.findall(f"{names}的{marker}", text))
    return votes


def shared_master(facts: Question) -> bool:
    """Both of them call someone 师父 in the snippets: most likely the same master."""
    callers: set[str] = set()
    for snippet in facts.snippets:
        callers |= cues.vocative_speakers(snippet.text, facts.names_a, facts.names_b, MASTER_WORDS)
    return callers == {"a", "b"}


def _fellow(signals: list[cues.Signal]) -> list[cues.Signal]:
    """Fellow disciples: a 师父 heard between them was said to their master."""
    return [
        cues.Signal("fellow", None, s.weight) if s.code == "master" and s.via == "address" else s
        for s in signals
    ]


def relation_reply(facts: Question) -> dict:
    for snippet in facts.snippets:
        if statements.states_same(snippet.text, facts.names_a, facts.names_b):
            return {
                "type": taxonomy.SAME_PERSON_LABEL,
                "direction": "none",
                "confidence": 0.8,
                "evidence": snippet.text[:50],
            }
    kin_like = cues.same_surname(facts.names_a, facts.names_b)
    fellows = shared_master(facts)
    signals: list[cues.Signal] = []
    best_snippet, best_score = "", 0.0
    scores: Counter = Counter()
    for snippet in facts.snippets:
        found = _resolve(snippet_signals(snippet.text, facts.names_a, facts.names_b), kin_like)
        if fellows:
            found = _fellow(found)
        signals.extend(found)
        # Each snippet votes with a capped weight: one busy scene (a battle full of 杀, a
        # chat full of 姐姐) must not outvote the rest.
        for code, value in type_scores(found).items():
            scores[code] += min(value, SNIPPET_CAP)
        strength = sum(s.weight for s in found)
        if strength > best_score:
            best_snippet, best_score = snippet.text, strength
    if kin_like:
        scores["kin"] += 1.0  # one surname: a weak prior for family
    if fellows:
        scores["fellow"] += SHARED_MASTER
    code, score = best_type(scores)
    direction = "none"
    if code in taxonomy.DIRECTED:
        direction = "a->b" if senior_votes(code, facts, signals) >= 0 else "b->a"
    confidence = 0.3 if code == taxonomy.DEFAULT_TYPE else min(0.9, 0.4 + score / 30)
    return {
        "type": taxonomy.label(code),
        "direction": direction,
        "confidence": round(confidence, 2),
        "evidence": best_snippet[:50],
    }


def evolution_reply(facts: Question) -> dict:
    """Phases from per-snippet types in chapter order; one weak snippet does not make a phase."""
    typed = []
    snippets = sorted(facts.snippets, key=lambda s: s.chapter)
    for snippet in snippets:
        code, score = classify(snippet.text, facts.names_a, facts.names_b)
        if code != taxonomy.DEFAULT_TYPE:
            typed.append((snippet, code, score))
    runs: list[list] = []
    for item in typed:
        if runs and runs[-1][0][1] == item[1]:
            runs[-1].append(item)
        else:
            runs.append([item])
    strong = [
        run
        for i, run in enumerate(runs)
        if len(run) > 1 or run[0][2] >= (STRONG_SNIPPET if i == 0 else STRONG_CHANGE)
    ] or runs[:1]
    phases: list[dict] = []
    for run in strong:
        label = taxonomy.label(run[0][1])
        if phases and phases[-1]["type"] == label:
            phases[-1]["to"] = run[-1][0].chapter
            continue
        phases.append(
            {
                "from": run[0][0].chapter,
                "to": run[-1][0].chapter,
                "type": label,
                "event": run[0][0].text[:40],
            }
        )
    if not phases and snippets:
        label = taxonomy.label(taxonomy.DEFAULT_TYPE)
        phases = [
            {"from": snippets[0].chapter, "to": snippets[-1].chapter, "type": label, "event": ""}
        ]
    return {"phases": phases}


def _near(
    snippets: list[Snippet], names: list[str], words: tuple[str, ...], reach: int = 6
) -> Counter:
    """Count words standing within `reach` characters of one of the names."""
    pattern = _names_pattern(names)
    found: Counter = Counter()
    for snippet in snippets:
        for match in re.finditer(pattern, snippet.text):
            window = snippet.text[max(0, match.start() - reach) : match.end() + reach]
            found.update(word for word in words if word in window)
    return found


def attribute_reply(facts: Question) -> dict:
    names = facts.names_a
    female = sum(_near(facts.snippets, names, FEMALE_MARKERS, reach=12).values())
    male = sum(snippet.text.count("他") for snippet in facts.snippets)
    gender = "女" if female > male / 3 and female >= 2 else ("男" if male else "未知")
    identity = _near(facts.snippets, names, IDENTITY_WORDS).most_common(1)
    abilities = _near(facts.snippets, names, ABILITY_WORDS, reach=20).most_common(3)
    return {
        "gender": gender,
        "identity": identity[0][0] if identity else "",
        "faction": "",
        "abilities": "、".join(word for word, _ in abilities),
        "traits": "",
        "aliases": names[1:] + stated_names(facts),
        "is_person": True,  # the rules cannot tell; discovery already kept person-like names
    }


def stated_names(facts: Question) -> list[str]:
    """Other names the snippets state for the person (字, 号, 人称, 绰号 …)."""
    found = [n for s in facts.snippets for n in statements.other_names(s.text, facts.names_a)]
    return list(dict.fromkeys(found))
