"""An emulator "model" that answers from a gold file, as a model that is always right would: the
type and direction of gold pairs, 同一人物 for two names of one gold character, the gold names
in attribute replies, the gold timeline for evolutions; 共现 for everything else.

It shows what the graph becomes when the model is right, which separates what the local layers
lose (characters never found, pairs never asked) from what a model gets wrong."""

from __future__ import annotations

import json

from graph import taxonomy
from graph.prompts import ATTRIBUTE, EVOLUTION, RELATION, Question
from tests.offline_model import read_request


class GoldModel:
    def __init__(self, gold: dict):
        self.owner: dict[str, str] = {}
        self.names: dict[str, list[str]] = {}
        for g in gold["characters"]:
            self.names[g["name"]] = [g["name"], *g["aliases"]]
            for name in self.names[g["name"]]:
                self.owner[name] = g["name"]
        self.relations = {frozenset((r["source"], r["target"])): r for r in gold["relations"]}
        self.evolutions = {frozenset((e["source"], e["target"])): e for e in gold["evolutions"]}

    def __call__(self, body: dict) -> str:
        question = read_request(body)
        if question.members:  # a grouped question: one entry per member, by number
            entries = {str(i): self.reply(m) for i, m in enumerate(question.members, 1)}
            return json.dumps(entries, ensure_ascii=False)
        return json.dumps(self.reply(question), ensure_ascii=False)

    def reply(self, question: Question) -> dict:
        answer = {RELATION: self.relation, EVOLUTION: self.evolution, ATTRIBUTE: self.attribute}
        return answer[question.kind](question)

    def who(self, names: list[str]) -> str | None:
        """The gold character a node stands for: the first of its names that gold knows."""
        return next((self.owner[n] for n in names if n in self.owner), None)

    def relation(self, q: Question) -> dict:
        a, b = self.who(q.names_a), self.who(q.names_b)
        if a and a == b:
            return {"type": taxonomy.SAME_PERSON_LABEL, "direction": "none", "confidence": 1.0}
        gold = self.relations.get(frozenset((a, b)))
        reply = {"type": "共现", "direction": "none", "confidence": 0.5}
        if gold:
            reply = {
                "type": gold["type"],
                "direction": "a->b" if gold["source"] == a else "b->a",
                "confidence": 1.0,
                "evidence": gold.get("note", "")[:50],
            }
        if q.timeline:  # the evolution question asked in the same request
            reply["phases"] = self.evolution(q)["phases"]
        return reply

    def evolution(self, q: Question) -> dict:
        a, b = self.who(q.names_a), self.who(q.names_b)
        chapters = sorted(s.chapter for s in q.snippets) or [1]
        gold = self.evolutions.get(frozenset((a, b)))
        if not gold:
            kind = self.relations.get(frozenset((a, b)), {}).get("type", "共现")
            return {"phases": [{"from": chapters[0], "to": chapters[-1], "type": kind}]}
        steps = gold["timeline"]
        phases = []
        for step, following in zip(steps, [*steps[1:], None], strict=True):
            end = (
                min(following["chapters"]) - 1
                if following
                else max(chapters[-1], *step["chapters"])
            )
            phases.append({"from": min(step["chapters"]), "to": end, "type": step["type"]})
        return {"phases": phases}

    def attribute(self, q: Question) -> dict:
        who = self.who(q.names_a)
        return {
            "is_person": True,
            "gender": "未知",
            "identity": who or "",
            "aliases": [n for n in self.names.get(who, []) if n not in q.names_a],
        }
