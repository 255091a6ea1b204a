"""Who is who at apply time: 同一人物 answers merge characters, attribute answers add the names the
text uses and mark non-persons; every decision is recorded, undoable, and not made twice."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from graph import export, results
from graph.models import (
    Chapter,
    Character,
    IdentityDecision,
    LLMTask,
    Novel,
    Origin,
    Relation,
)

TEXT = [
    "沈青锋与杜云起并肩而行。杜云起道：“沈兄请。”",
    "小沈拔剑，杜云起大笑。人称寒江剑的小沈，剑法第一。",
    "沈青锋又见杜云起。寒江剑之名，江湖皆知。青石镇外，杜云起独坐。",
]


def make_book() -> tuple[Novel, dict[str, Character]]:
    novel = Novel.objects.create(title="试书", sha256="f" * 64, stage=Novel.Stage.DISPATCHED)
    for number, text in enumerate(TEXT, 1):
        Chapter.objects.create(novel=novel, number=number, title=f"第{number}章", text=text)
    people = {
        name: Character.objects.create(novel=novel, name=name, mention_count=count, rank=rank)
        for rank, (name, count) in enumerate(
            [("沈青锋", 9), ("杜云起", 8), ("小沈", 2), ("青石镇", 3)], 1
        )
    }
    return novel, people


def relation(novel, a, b, count=1) -> Relation:
    return Relation.objects.create(novel=novel, source=a, target=b, cooccurrence=count)


def three_relations(novel, p) -> tuple[Relation, Relation, Relation]:
    """沈青锋—小沈 (one person), 沈青锋—杜云起 (met 5 times) and 小沈—杜云起 (met once)."""
    return (
        relation(novel, p["沈青锋"], p["小沈"]),
        relation(novel, p["沈青锋"], p["杜云起"], 5),
        relation(novel, p["小沈"], p["杜云起"], 1),
    )


def answered(novel, kind, result, *, relation=None, character=None, origin=Origin.LLM) -> LLMTask:
    subject = relation.pk if relation else character.pk
    return LLMTask.objects.create(
        novel=novel,
        kind=kind,
        subject=str(subject),
        relation=relation,
        character=character or (relation.source if relation else None),
        custom_id=LLMTask.custom_id_for(novel.pk, kind, subject),
        request={},
        status=LLMTask.Status.SUCCEEDED,
        result=result,
        origin=origin,
    )


def rel_result(type_, confidence=0.8, evidence="") -> dict:
    return {"type": type_, "direction": "none", "confidence": confidence, "evidence": evidence}


def attr_result(aliases=(), is_person=True) -> dict:
    return {"gender": "男", "identity": "", "faction": "", "abilities": "", "traits": "",
            "aliases": list(aliases), "is_person": is_person}  # fmt: skip


def reapply(novel: Novel) -> None:
    novel.reopen(Novel.Stage.DISPATCHED)
    assert results.apply_if_settled(novel)


@pytest.mark.django_db
def test_a_same_person_answer_merges_two_characters_into_one_edge_set():
    novel, p = make_book()
    same, with_du, small_du = three_relations(novel, p)
    answered(novel, "relation", rel_result("same", evidence="小沈即沈青锋"), relation=same)
    answered(novel, "relation", rel_result("cooccur", 0.3), relation=with_du)
    answered(novel, "relation", rel_result("ally", 0.9, "并肩而行"), relation=small_du)

    assert results.apply_if_settled(novel)

    assert not Character.objects.filter(name="小沈").exists()
    shen = Character.objects.get(name="沈青锋")
    assert "小沈" in shen.aliases
    (edge,) = Relation.objects.filter(novel=novel)
    assert {edge.source_id, edge.target_id} == {shen.pk, p["杜云起"].pk}
    assert (edge.type, edge.origin) == ("ally", Origin.LLM)  # the better-grounded answer
    assert edge.cooccurrence == 3 and (edge.first_chapter, edge.last_chapter) == (1, 3)
    assert shen.mention_count == Character.objects.get(pk=shen.pk).mention_count == 4
    decision = IdentityDecision.objects.get()
    assert (decision.kind, decision.origin, decision.names) == ("merge", Origin.LLM, ["小沈"])
    assert "小沈即沈青锋" in decision.evidence and decision.snapshot["mention_count"] == 2
    assert LLMTask.objects.count() == 3  # the answers stay, as evidence

    reapply(novel)
    assert IdentityDecision.objects.count() == 1 and Character.objects.count() == 3


@pytest.mark.django_db
def test_an_attribute_answer_adds_names_the_text_uses_and_takes_none_from_a_stronger_owner():
    novel, p = make_book()
    answered(novel, "attribute", attr_result(["寒江剑", "无此名", "杜云起"]), character=p["沈青锋"])

    assert results.apply_if_settled(novel)

    shen = Character.objects.get(name="沈青锋")
    assert "寒江剑" in shen.aliases  # used twice in the text
    assert "无此名" not in shen.aliases  # never used: not taken
    assert Character.objects.filter(name="杜云起").exists()  # 8 mentions to 9: no, not mutual
    assert list(IdentityDecision.objects.values_list("kind", "names")) == [("alias", ["寒江剑"])]
    reapply(novel)
    assert IdentityDecision.objects.count() == 1


@pytest.mark.django_db
def test_a_rare_character_never_asked_about_joins_the_one_whose_answer_names_it():
    novel, p = make_book()  # 小沈: 2 mentions, no question of its own; 杜云起: 8
    Character.objects.filter(pk=p["沈青锋"].pk).update(mention_count=12)
    answered(novel, "attribute", attr_result(["小沈", "杜云起"]), character=p["沈青锋"])

    assert results.apply_if_settled(novel)

    assert not Character.objects.filter(name="小沈").exists()  # 12 mentions to 2: one person
    assert "小沈" in Character.objects.get(name="沈青锋").aliases
    assert Character.objects.filter(
        name="杜云起"
    ).exists()  # 9 to 8: the answer alone is not enough
    (decision,) = IdentityDecision.objects.all()
    assert (decision.kind, decision.names) == ("merge", ["小沈"])
    reapply(novel)
    assert IdentityDecision.objects.count() == 1


@pytest.mark.django_db
def test_a_non_person_is_hidden_kept_and_can_be_undone_in_the_admin(client):
    novel, p = make_book()
    answered(novel, "attribute", attr_result(is_person=False), character=p["青石镇"])
    assert results.apply_if_settled(novel)

    town = Character.objects.get(name="青石镇")
    assert (town.is_person, town.person_origin) == (False, Origin.LLM)
    assert "青石镇" not in export.build_graph(novel)
    decision = IdentityDecision.objects.get(kind="not_person")

    client.force_login(User.objects.create_superuser("boss", "b@example.com", "pw"))
    client.post(
        reverse("admin:graph_identitydecision_changelist"),
        {"action": "undo_decisions", "_selected_action": [decision.pk]},
    )
    town.refresh_from_db()
    decision.refresh_from_db()
    assert town.is_person and decision.undone and decision.origin == Origin.MANUAL
    reapply(novel)
    town.refresh_from_db()
    assert town.is_person  # a person's word wins over the same answer applied again
    assert "青石镇" in export.build_graph(novel)


@pytest.mark.django_db
def test_an_undone_merge_brings_the_character_back_and_is_not_made_again(client):
    novel, p = make_book()
    same = relation(novel, p["沈青锋"], p["小沈"])
    answered(novel, "relation", rel_result("same"), relation=same)
    assert results.apply_if_settled(novel)
    decision = IdentityDecision.objects.get()

    client.force_login(User.objects.create_superuser("boss", "b@example.com", "pw"))
    client.post(
        reverse("admin:graph_identitydecision_changelist"),
        {"action": "undo_decisions", "_selected_action": [decision.pk]},
    )
    back = Character.objects.get(name="小沈")
    assert back.mention_count == 2 and back.aliases_locked
    assert "小沈" not in Character.objects.get(name="沈青锋").aliases
    reapply(novel)
    assert Character.objects.filter(name="小沈").exists()
    assert IdentityDecision.objects.filter(undone=False).count() == 0
