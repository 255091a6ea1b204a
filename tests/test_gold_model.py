"""The gold-answering emulator model, and the graph it gives when every answer is right."""

from __future__ import annotations

import json

import pytest

from graph import prompts, replies, taxonomy
from graph.models import Mode, Novel, Relation
from graph.prompts import Question, Snippet
from tests.conftest import SAMPLE
from tests.gold_model import GoldModel

GOLD = {
    "characters": [
        {"name": "关羽", "aliases": ["云长", "关公"]},
        {"name": "刘备", "aliases": ["玄德"]},
        {"name": "曹操", "aliases": ["孟德"]},
    ],
    "relations": [{"source": "刘备", "target": "关羽", "type": "结义"}],
    "evolutions": [
        {"source": "刘备", "target": "曹操",
         "timeline": [{"type": "盟友", "chapters": [3, 5]}, {"type": "敌对", "chapters": [9, 20]}]}
    ],
}  # fmt: skip
SNIPPETS = [Snippet(2, "……"), Snippet(12, "……")]


def ask(model: GoldModel, kind: str, names_a, names_b=()) -> dict:
    question = Question(kind, list(names_a), list(names_b), SNIPPETS)
    body = prompts.request_body("书", question, model="m", max_tokens=1)
    return replies.parse_reply(kind, model(body))


def test_it_answers_as_a_model_that_knows_the_gold():
    model = GoldModel(GOLD)
    assert ask(model, prompts.RELATION, ["云长"], ["关公"])["type"] == taxonomy.SAME_PERSON
    sworn = ask(model, prompts.RELATION, ["玄德"], ["云长"])
    assert sworn["type"] == "sworn"
    assert ask(model, prompts.RELATION, ["关羽"], ["孟德"])["type"] == taxonomy.DEFAULT_TYPE
    phases = ask(model, prompts.EVOLUTION, ["曹操"], ["刘备"])["phases"]
    assert [(p["from"], p["to"], p["type"]) for p in phases] == [(3, 8, "ally"), (9, 20, "enemy")]
    attribute = ask(model, prompts.ATTRIBUTE, ["云长", "关某"])
    assert set(attribute["aliases"]) == {"关羽", "关公"} and attribute["is_person"]


@pytest.mark.django_db
def test_the_sample_built_with_a_gold_model_has_every_expected_relation_type(emu, upload):
    expected = json.loads(SAMPLE.with_suffix(".expected.json").read_text(encoding="utf-8"))
    gold = {
        "characters": expected["characters"],
        "relations": [r | {"type": taxonomy.label(r["type"])} for r in expected["relations"]],
        "evolutions": [],
    }
    emu.model = GoldModel(gold)
    upload(mode=Mode.REALTIME)

    novel = Novel.objects.get()
    assert novel.stage == Novel.Stage.DONE
    owner = {name: c.name for c in novel.characters.people() for name in c.names}
    edges = {
        frozenset((r.source.name, r.target.name)): r
        for r in Relation.objects.filter(novel=novel).select_related("source", "target")
    }
    for rel in expected["relations"]:
        edge = edges.get(frozenset((owner[rel["source"]], owner[rel["target"]])))
        assert edge is not None and edge.type == rel["type"], rel
        if rel["type"] in taxonomy.DIRECTED:
            assert edge.source.name == owner[rel["source"]], rel
