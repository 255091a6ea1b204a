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

from graph import phases, replies


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
