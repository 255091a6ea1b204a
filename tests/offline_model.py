"""The emulator's "model": it reads a request body the way a model reads a prompt, then lets the
offline rules answer. Reading prompt text back lives here only (the application never does it),
so rewording a prompt breaks this reader and the batch/realtime/offline equality tests notice."""

from __future__ import annotations

import json
import re

from graph.llm import offline
from graph.prompts import ATTRIBUTE, EVOLUTION, RELATION, TIMELINE_MARK, Question, Snippet

_PERSON = re.compile(
    r"^人物(?P<tag>[AB])：(?P<name>[^（\n]+)（别名：(?P<aliases>[^）\n]*)）$", re.M
)
_SNIPPET = re.compile(r"^【片段\d+｜第(?P<chapter>\d+)章】(?P<text>.*)$", re.M)
_MEMBER = re.compile(r"^【第\d+(?P<what>[对人])(?P<mark>｜[^】]*)?】$", re.M)


def read_request(body: dict) -> Question:
    """The question a request body asks: kind, names and snippets (a grouped question: its
    members, each read from its own block)."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    heads = list(_MEMBER.finditer(user))
    if heads:
        ends = [h.start() for h in heads[1:]] + [user.index("\n\n", heads[-1].end())]
        members = [
            _read_block(user[h.end() : end], h["what"] == "对", TIMELINE_MARK in (h["mark"] or ""))
            for h, end in zip(heads, ends, strict=True)
        ]
        return Question(kind=members[0].kind, members=members)
    return _read_block(user, None, False)


def _read_block(user: str, pair: bool | None, timeline: bool) -> Question:
    if pair is not None:
        question = Question(kind=RELATION if pair else ATTRIBUTE, timeline=timeline)
        _read_names(user, question)
        return question
    question = Question(kind=EVOLUTION if '{"phases"' in user else ATTRIBUTE)
    question.timeline = question.kind == ATTRIBUTE and '"phases"' in user
    _read_names(user, question)
    if question.kind == ATTRIBUTE and question.names_b:
        question.kind = RELATION
    return question


def _read_names(user: str, question: Question) -> None:
    for m in _PERSON.finditer(user):
        aliases = [] if m["aliases"] == "无" else m["aliases"].split("、")
        names = [m["name"], *aliases]
        if m["tag"] == "A":
            question.names_a = names
        else:
            question.names_b = names
    question.snippets = [Snippet(int(m["chapter"]), m["text"]) for m in _SNIPPET.finditer(user)]


def answer(body: dict) -> str:
    """Reply content for a request body, as the offline rules answer its question."""
    return offline.answer(read_request(body))


def answer_json(body: dict) -> dict:
    return json.loads(answer(body))
