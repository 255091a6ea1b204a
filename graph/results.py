"""Applying the settled answers of a novel's tasks to its graph, exactly once per novel, in one
transaction. What a person set by hand (origin manual) always wins: manual relations keep their
type and direction, manual phases and attributes stay."""

from __future__ import annotations

from django.db import transaction

from graph import prompts, replies
from graph.dbutil import bulk_set
from graph.models import (
    CharacterAttribute,
    LLMTask,
    Novel,
    Origin,
    Relation,
    RelationPhase,
)


def apply_if_settled(novel: Novel) -> bool:
    """Write the graph when every task is settled. Returns True if this call applied it.

    The stage change from `dispatched` to `done` is the claim: two processes may both get here,
    only the one whose conditional UPDATE hits the row writes the graph, in the same transaction.
    """
    if novel.tasks.unsettled().exists():
        return False
    with transaction.atomic():
        if not novel.advance(Novel.Stage.DONE, only_from=Novel.Stage.DISPATCHED):
            return False
        _apply(novel)
    return True


def _apply(novel: Novel) -> None:
    tasks = novel.tasks.select_related("relation").only(
        "novel", "kind", "result", "origin", "character", "relation__source", "relation__target",
        "relation__origin",
    )  # fmt: skip
    by_hand = set(
        RelationPhase.objects.filter(relation__novel=novel, origin=Origin.MANUAL).values_list(
            "relation_id", flat=True
        )
    )
    relations, phases, attributes = [], [], []
    touched_relations = []
    for task in tasks.iterator(chunk_size=2000):
        result = task.result or replies.default_result(task.kind)
        origin = task.origin or Origin.DEFAULT
        if task.kind == LLMTask.Kind.RELATION and task.relation:
            if task.relation.origin != Origin.MANUAL:
                relations.append(_relation_update(task, result, origin))
        elif task.kind == LLMTask.Kind.EVOLUTION and task.relation:
            if task.relation_id in by_hand:
                continue  # a timeline a person edited stays as they left it
            touched_relations.append(task.relation_id)
            phases.extend(
                RelationPhase(
                    relation_id=task.relation_id,
                    from_chapter=p["from"],
                    to_chapter=p["to"],
                    type=p["type"],
                    event=p["event"],
                    origin=origin,
                )
                for p in result["phases"]
            )
        elif task.kind == LLMTask.Kind.ATTRIBUTE and task.character_id:
            attributes.extend(_attribute_rows(task, result, origin))
    bulk_set(relations, ["source", "target", "type", "confidence", "evidence", "origin"])
    RelationPhase.objects.filter(relation_id__in=touched_relations).delete()
    RelationPhase.objects.bulk_create(phases, batch_size=1000)
    CharacterAttribute.objects.filter(character__novel=novel).exclude(origin=Origin.MANUAL).delete()
    CharacterAttribute.objects.bulk_create(attributes, batch_size=1000, ignore_conflicts=True)


def _relation_update(task: LLMTask, result: dict, origin: str) -> Relation:
    # The task's `character` is person A of the prompt; "b->a" makes B the senior (the source).
    relation = task.relation
    a_id = task.character_id
    b_id = relation.target_id if relation.source_id == a_id else relation.source_id
    if result.get("direction") == "b->a":
        a_id, b_id = b_id, a_id
    relation.source_id, relation.target_id = a_id, b_id
    relation.type = result["type"]
    relation.confidence = result["confidence"]
    relation.evidence = result["evidence"]
    relation.origin = origin
    return relation


def _attribute_rows(task: LLMTask, result: dict, origin: str) -> list[CharacterAttribute]:
    rows = [
        CharacterAttribute(
            character_id=task.character_id, key=key, value=result[key], origin=origin
        )
        for key in prompts.ATTRIBUTE_KEYS
        if result.get(key)
    ]
    if result.get("aliases"):
        rows.append(
            CharacterAttribute(
                character_id=task.character_id,
                key="aliases",
                value="、".join(result["aliases"]),
                origin=origin,
            )
        )
    return rows
