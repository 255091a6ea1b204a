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
from graph.llm import pair_reading, statements, weighing
from graph.prompts import Question, Snippet

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
    """Reply content for a question, as a model would write it (a grouped question: one entry
    per member, by number)."""
    return json.dumps(_reply(facts), ensure_ascii=False)


def _reply(facts: Question) -> dict:
    if facts.members:
        return {str(i): _reply(m) for i, m in enumerate(facts.members, 1)}
    if facts.kind == prompts.RELATION:
        return relation_reply(facts)
    if facts.kind == prompts.EVOLUTION:
        return evolution_reply(facts)
    return attribute_reply(facts)


def relation_reply(facts: Question) -> dict:
    for snippet in facts.snippets:
        if statements.states_same(snippet.text, facts.names_a, facts.names_b):
            return {
                "type": taxonomy.SAME_PERSON_LABEL,
                "direction": "none",
                "confidence": 0.8,
                "evidence": snippet.text[:50],
            }
    reading = pair_reading.read(facts)
    verdict = reading.verdict()
    direction = "none"
    if verdict.code in taxonomy.DIRECTED:
        direction = "a->b" if reading.senior_is_a(verdict.code) else "b->a"
    reply = {
        "type": taxonomy.label(verdict.code),
        "direction": direction,
        "confidence": weighing.confidence(verdict),
        "evidence": reading.evidence(verdict.code)[:50],
    }
    if facts.timeline:  # the evolution question asked in the same request
        reply["phases"] = evolution_reply(facts)["phases"]
    return reply


def evolution_reply(facts: Question) -> dict:
    """One phase with the type all snippets show (共现 if none is clear); two where the earlier
    snippets clearly show one type and the later ones clearly another (one change at most: a
    flip the text does not show clearly is worse than none)."""
    snippets = sorted(facts.snippets, key=lambda s: s.chapter)
    if not snippets:
        return {"phases": []}
    reading = pair_reading.read(Question(facts.kind, facts.names_a, facts.names_b, snippets))
    change = _change(reading)
    if change:
        k, before, after = change
        segments = [(0, k, before), (k, len(snippets), after)]
    else:
        segments = [(0, len(snippets), reading.verdict().code)]
    return {"phases": [_phase(reading.part(i, j), code) for i, j, code in segments]}


def _phase(reading: pair_reading.Reading, code: str) -> dict:
    snippets = reading.facts.snippets
    return {
        "from": snippets[0].chapter,
        "to": snippets[-1].chapter,
        "type": taxonomy.label(code),
        "event": reading.evidence(code)[:40] if code != taxonomy.DEFAULT_TYPE else "",
    }


def _change(reading: pair_reading.Reading) -> tuple[int, str, str] | None:
    """Where the snippets before clearly show one type and those after clearly another: the
    split with the most weight behind both sides, or None."""
    best, best_score = None, 0.0
    snippets = reading.facts.snippets
    for k in range(1, len(snippets)):
        if snippets[k].chapter == snippets[k - 1].chapter:
            continue
        before = reading.part(0, k).verdict()
        after = reading.part(k, len(snippets)).verdict()
        if weighing.is_change(before.code, after.code) and before.score + after.score > best_score:
            best, best_score = (k, before.code, after.code), before.score + after.score
    return best


def _near(
    snippets: list[Snippet], names: list[str], words: tuple[str, ...], reach: int = 6
) -> Counter:
    """Count words standing within `reach` characters of one of the names."""
    pattern = cues.names_pattern(names)
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
