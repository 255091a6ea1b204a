"""Questions an update asks again: they carry what was known before, so an answer about the new
chapters continues the story instead of restarting it, and a question that gets no answer keeps
the answer it had.

Stored on the task's `question` beside the usual fields:
- ``earlier``: the timeline known before (evolution), joined to the phases of the reply;
- ``since``: the first chapter the question is about (phases before it are the earlier ones);
- ``fallback``: {"result", "origin"} of the answer the question replaces, taken if none comes;
- ``supersedes``: the tasks it replaces and what they pointed to (undone by a restart).
No Django here: models.LLMTask calls `combine` and `fallback`.
"""

from __future__ import annotations

from graph import phases, prompts, replies, taxonomy
from graph.prompts import Snippet


def combine(question: dict | None, result: dict) -> dict:
    """A continued evolution answer: the earlier timeline, then the reply's phases from `since`
    on (a phase reaching back before it is cut there), told as one story."""
    earlier = (question or {}).get("earlier")
    if not earlier or "phases" not in result:
        return result
    since = int(question.get("since") or 0)
    new = [{**p, "from": max(p["from"], since)} for p in result["phases"] if p["to"] >= since]
    return {**result, "phases": phases.story([dict(p) for p in earlier] + new)}


def fallback(question: dict | None, kind: str) -> tuple[dict, str]:
    """The result (and its origin) a task takes when no answer comes: the answer it replaces,
    or the default ("" origin: the caller's default)."""
    kept = (question or {}).get("fallback")
    if kept and kept.get("result"):
        return kept["result"], kept.get("origin") or ""
    return replies.default_result(kind), ""


def evolution_request(
    title: str,
    question: prompts.Question,
    earlier: list[dict],
    since: int,
    *,
    model: str,
    max_tokens: int,
) -> dict:
    """The evolution question for the chapters from `since` on, with the last known phase."""
    last = earlier[-1]
    known = (
        f"此前（第{earlier[0]['from']}–{last['to']}章）两人关系的最后阶段：第{last['from']}–{last['to']}章，"
        f"{taxonomy.label(last['type'])}" + (f"——{last['event']}" if last.get("event") else "")
    )
    user = (
        f"小说《{title}》中的两个人物：\n{prompts._person_line('A', question.names_a)}\n"
        f"{prompts._person_line('B', question.names_b)}\n{known}\n"
        f"以下是两人在第{since}章及以后同时出现的原文片段，按章节先后排列：\n"
        f"{prompts._snippet_lines(question.snippets)}\n\n"
        f"请接着描述从第{since}章起 A 与 B 的关系如何变化，类型只能从以下选择：\n{prompts._type_lines()}\n\n"
        f"要求：只依据片段；每个阶段给出起止章节号（取自片段标注，不早于第{since}章）、关系类型和一句话事件；"
        "关系没有变化时只输出一个阶段（类型可与此前相同）。\n"
        '输出格式：{"phases": [{"from": 3, "to": 7, "type": "盟友", "event": "二人联手夺回剑谱"}, '
        '{"from": 8, "to": 20, "type": "敌对", "event": "反目成仇"}]}'
    )
    return prompts._body(user, model, max_tokens)


def snippets_json(snippets: list[Snippet]) -> list[dict]:
    """Snippets as Relation.snippets stores them."""
    return [{"chapter": s.chapter, "text": s.text} for s in snippets]
