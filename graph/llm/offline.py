"""Offline answers: local rules that reply to a request body in the JSON shapes the model is asked for.

Used when there is no API key, and by the test emulator as its "model", so the batch, realtime and
offline modes can be compared on the same novel. Replies go through the same parser as a model's.
"""

from __future__ import annotations

import json
import re
from collections import Counter

from graph import cues, prompts, taxonomy
from graph.prompts import RequestFacts, Snippet

# Specific relations outrank the generic ones when both are cued in one snippet.
TYPE_WEIGHT = {
    "master": 3.0,
    "fellow": 3.0,
    "kin": 2.0,
    "lovers": 2.5,
    "sworn": 4.0,
    "lord": 2.0,
    "ally": 2.0,
    "enemy": 2.5,
}
MIN_SCORE = 1.8
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


def answer(body: dict) -> str:
    """Reply content for a request body, as a model would write it."""
    facts = prompts.read_request(body)
    if facts.kind == prompts.RELATION:
        reply = relation_reply(facts)
    elif facts.kind == prompts.EVOLUTION:
        reply = evolution_reply(facts)
    else:
        reply = attribute_reply(facts)
    return json.dumps(reply, ensure_ascii=False)


def _names_pattern(names: list[str]) -> str:
    return "|".join(map(re.escape, sorted(names, key=len, reverse=True)))


def type_scores(text: str, names: list[str] | None = None) -> Counter:
    """Weighted cue counts per relation type in one snippet; with `names`, a cue counts less the
    further it stands from the nearest of them (far cues usually speak of someone else)."""
    anchors = [m.start() for m in re.finditer(_names_pattern(names), text)] if names else []
    scores: Counter = Counter()
    for match in cues.CUE_PATTERN.finditer(text):
        word = match.group()
        weight = 1.0 if len(word) > 1 else 0.5
        if anchors:
            distance = min(abs(match.start() - a) for a in anchors)
            weight *= max(0.25, 1 - distance / 40)
        for code, words in cues.TYPE_CUES.items():
            if word in words:
                scores[code] += TYPE_WEIGHT[code] * weight
    return scores


def classify(text: str, names: list[str] | None = None) -> tuple[str, float]:
    scores = type_scores(text, names)
    if not scores:
        return taxonomy.DEFAULT_TYPE, 0.0
    code, score = scores.most_common(1)[0]
    return (code, score) if score >= MIN_SCORE else (taxonomy.DEFAULT_TYPE, score)


def senior_votes(code: str, facts: RequestFacts) -> int:
    """Positive when A looks senior (master, elder, lord), negative when B does."""
    a, b = _names_pattern(facts.names_a), _names_pattern(facts.names_b)
    votes = 0
    for snippet in facts.snippets:
        text = snippet.text
        for pattern, pattern_code in cues.SENIOR_PATTERNS:
            if pattern_code != code:
                continue
            votes += len(re.findall(pattern.format(names=a), text))
            votes -= len(re.findall(pattern.format(names=b), text))
        for marker, (marker_code, role) in cues.ROLE_MARKERS.items():
            if marker_code != code:
                continue
            sign = 1 if role == "senior" else -1
            # "师父X" / "X师父": X holds the role; "X的师父": X holds the opposite one.
            for names, side in ((a, 1), (b, -1)):
                votes += (
                    side * sign * len(re.findall(f"{marker}(?:{names})|(?:{names}){marker}", text))
                )
                votes -= side * sign * len(re.findall(f"(?:{names})的{marker}", text))
    return votes


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


def relation_reply(facts: RequestFacts) -> dict:
    total: Counter = Counter()
    both = facts.names_a + facts.names_b
    best_snippet, best_score = "", 0.0
    for snippet in facts.snippets:
        scores = type_scores(focus(snippet.text, facts.names_a, facts.names_b), both)
        total.update(scores)
        if scores and max(scores.values()) > best_score:
            best_snippet, best_score = snippet.text, max(scores.values())
    code, score = total.most_common(1)[0] if total else (taxonomy.DEFAULT_TYPE, 0.0)
    if score < MIN_SCORE:
        code = taxonomy.DEFAULT_TYPE
    direction = "none"
    if code in taxonomy.DIRECTED:
        votes = senior_votes(code, facts)
        direction = "a->b" if votes >= 0 else "b->a"
    confidence = 0.3 if code == taxonomy.DEFAULT_TYPE else min(0.9, 0.4 + score / 40)
    return {
        "type": taxonomy.label(code),
        "direction": direction,
        "confidence": round(confidence, 2),
        "evidence": best_snippet[:50],
    }


def evolution_reply(facts: RequestFacts) -> dict:
    """Phases from per-snippet types in chapter order; one weak snippet does not make a phase."""
    typed = []
    for snippet in sorted(facts.snippets, key=lambda s: s.chapter):
        code, score = classify(
            focus(snippet.text, facts.names_a, facts.names_b), facts.names_a + facts.names_b
        )
        if code != taxonomy.DEFAULT_TYPE:
            typed.append((snippet, code, score))
    runs: list[list] = []
    for item in typed:
        if runs and runs[-1][0][1] == item[1]:
            runs[-1].append(item)
        else:
            runs.append([item])
    strong = [run for run in runs if len(run) > 1 or run[0][2] >= 3 * MIN_SCORE] or runs[:1]
    phases = []
    for run in strong:
        code = run[0][1]
        if phases and phases[-1]["type"] == taxonomy.label(code):
            phases[-1]["to"] = run[-1][0].chapter
            continue
        phases.append(
            {
                "from": run[0][0].chapter,
                "to": run[-1][0].chapter,
                "type": taxonomy.label(code),
                "event": run[0][0].text[:40],
            }
        )
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


def attribute_reply(facts: RequestFacts) -> dict:
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
        "aliases": names[1:],
    }
