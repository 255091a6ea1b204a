"""The emulator's "model": it reads a request body the way a model reads a prompt, then lets the
offline rules answer. Reading prompt text back lives here only (the application never does it),
so rewording a prompt breaks this reader and the batch/realtime/offline equality tests notice."""

from __future__ import annotations

import json
import re

from graph.llm import offline
from graph.prompts import ATTRIBUTE, EVOLUTION, RELATION, Question, Snippet

_PERSON = re.compile(
    r"^人物(?P<tag>[AB])：(?P<name>[^（\n]+)（别名：(?P<aliases>[^）\n]*)）$", re.M
)
_SNIPPET = re.compile(r"^【片段\d+｜第(?P<chapter>\d+)章】(?P<text>.*)$", re.M)


def read_request(body: dict) -> Question:
    """The question a request body asks: kind, names and snippets."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    question = Question(kind=EVOLUTION if '{"phases"' in user else ATTRIBUTE)
    question.timeline = question.kind == ATTRIBUTE and '"phases"' in user
    for m in _PERSON.finditer(user):
        aliases = [] if m["aliases"] == "无" else m["aliases"].split("、")
        names = [m["name"], *aliases]
        if m["tag"] == "A":
            question.names_a = names
        else:
            question.names_b = names
    if question.kind == ATTRIBUTE and question.names_b:
        question.kind = RELATION
    question.snippets = [Snippet(int(m["chapter"]), m["text"]) for m in _SNIPPET.finditer(user)]
    return question


def answer(body: dict) -> str:
    """Reply content for a request body, as the offline rules answer its question."""
    return offline.answer(read_request(body))


def answer_json(body: dict) -> dict:
    return json.loads(answer(body))
