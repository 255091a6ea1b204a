"""Applying the settled answers of a novel's tasks to its graph, exactly once per novel, in one
transaction. What a person set by hand (origin manual) always wins: manual relations keep their
type and direction, manual phases and attributes stay."""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction

from graph import grouped_questions, identity, phases, prompts, replies, taxonomy
from graph.dbutil import bulk_set
from graph.llm import offline
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
        novel.mark_provisional(False)
    return True


def apply_provisional(novel: Novel) -> None:
    """Batch mode, right after submission: the graph the offline rules give for the questions still
    waiting (answers already settled, say an earlier version's, stay as they are), written at once
    and marked provisional; the model's answers replace it in place when they land (same nodes and
    edges; manual edits kept). Nothing is stored on the tasks, and nobody is merged yet. A novel
    whose answers were applied meanwhile (another process) is left alone."""
    tasks = _answers(novel)
    for task in tasks:
        question = prompts.Question.from_json(task.question) if task.question else None
        if task.settled or question is None:
            continue
        task.record_reply(offline.answer(question), Origin.OFFLINE)  # in memory only
        if task.status != LLMTask.Status.SUCCEEDED:
            task.result, task.origin = replies.default_result(task.kind), Origin.DEFAULT
    with transaction.atomic():
        locked = Novel.objects.select_for_update().filter(pk=novel.pk)
        if locked.values_list("stage", flat=True).first() == Novel.Stage.DONE:
            return
        _write(novel, tasks)
        novel.mark_provisional(True)


def _apply(novel: Novel) -> None:
    tasks = _answers(novel)
    if identity.apply(novel, tasks):
        tasks = _answers(novel)  # merges re-pointed tasks to the characters and edges that stay
    _write(novel, tasks)


def _write(novel: Novel, tasks: list[LLMTask]) -> None:
    """Relations, timelines and attributes from the answers of `tasks`."""
    manual_phases = set(
        RelationPhase.objects.filter(relation__novel=novel, origin=Origin.MANUAL).values_list(
            "relation_id", flat=True
        )
    )
    by_kind: dict[str, dict[int, list[LLMTask]]] = defaultdict(lambda: defaultdict(list))
    for task in tasks:
        subject = task.relation_id if task.kind != LLMTask.Kind.ATTRIBUTE else task.character_id
        if subject:
            by_kind[task.kind][subject].append(task)
    # An evolution question's timeline, else the one a relation question asked with it.
    asked = by_kind[LLMTask.Kind.RELATION] | by_kind[LLMTask.Kind.EVOLUTION]
    timelines = {
        relation_id: _phases(group)
        for relation_id, group in asked.items()
        if relation_id not in manual_phases  # a timeline a person edited stays as they left it
        and any(map(asks_timeline, group))
    }
    relations = []
    for group in by_kind[LLMTask.Kind.RELATION].values():
        if group[0].relation.origin != Origin.MANUAL:
            relation = _relation_update(max(group, key=_grounding))
            _agree_with_timeline(relation, timelines.get(relation.pk, []))
            relations.append(relation)
    bulk_set(relations, ["source", "target", "type", "confidence", "evidence", "origin"])
    RelationPhase.objects.filter(relation_id__in=timelines).delete()
    RelationPhase.objects.bulk_create(
        [phase for rows in timelines.values() for phase in rows], batch_size=1000
    )
    CharacterAttribute.objects.filter(character__novel=novel).exclude(origin=Origin.MANUAL).delete()
    attributes = [
        row for group in by_kind[LLMTask.Kind.ATTRIBUTE].values() for row in _attribute_rows(group)
    ]
    CharacterAttribute.objects.bulk_create(attributes, batch_size=1000, ignore_conflicts=True)


def _answers(novel: Novel) -> list[LLMTask]:
    """The novel's tasks, a grouped question's members each as a task of its own."""
    tasks = list(
        novel.tasks.select_related("relation").only(
            "novel",
            "kind",
            "status",
            "custom_id",
            "version",
            "result",
            "origin",
            "character",
            "question",
            "relation__source",
            "relation__target",
            "relation__origin",
        )  # fmt: skip
    )
    fields = ("source", "target", "origin")
    return grouped_questions.expand(
        tasks, grouped_questions.relations_for(tasks, novel.relations.only(*fields))
    )


def _result(task: LLMTask) -> dict:
    return task.result or replies.default_result(task.kind)


def _grounding(task: LLMTask) -> tuple:
    """How far an answer can be trusted: a model's or the rules' over a default, a specific type
    over co-occurrence, then its own confidence."""
    result = _result(task)
    typed = result.get("type") not in (taxonomy.DEFAULT_TYPE, taxonomy.SAME_PERSON)
    return (task.origin not in ("", Origin.DEFAULT), typed, result.get("confidence", 0.0))


def asks_timeline(task: LLMTask) -> bool:
    """An evolution question, or a relation question that asked the timeline too."""
    return task.kind == LLMTask.Kind.EVOLUTION or bool((task.question or {}).get("timeline"))


def _phases(group: list[LLMTask]) -> list[RelationPhase]:
    """One timeline from every answer about the edge (two after a merge), in chapter order: a
    question that asked it and got no usable answer leaves the edge without one."""
    best = max(
        filter(asks_timeline, group),
        key=lambda t: (t.origin not in ("", Origin.DEFAULT), len(_result(t).get("phases", []))),
    )
    origin = best.origin or Origin.DEFAULT
    timeline = [p for p in _result(best).get("phases", []) if p["type"] in taxonomy.LABELS]
    return [
        RelationPhase(
            relation_id=best.relation_id,
            from_chapter=p["from"],
            to_chapter=p["to"],
            type=p["type"],
            event=p["event"],
            origin=origin,
        )
        for p in timeline
    ]


def _agree_with_timeline(relation: Relation, rows: list[RelationPhase]) -> None:
    """An edge typed only 共现 whose timeline names an undirected relation takes the one that
    lasts longest, so the overall type and the phases do not tell two stories."""
    if relation.type != taxonomy.DEFAULT_TYPE or relation.origin == Origin.DEFAULT:
        return  # a typed answer stands; a relation never answered stays a default
    typed = phases.dominant(
        [{"type": r.type, "from": r.from_chapter, "to": r.to_chapter} for r in rows]
    )
    # A timeline says no direction: a directed type (master, kin, lord) would be a guess of who
    # is the senior, so such an edge stays 共现 overall and shows the type in its phases.
    if typed and typed not in taxonomy.DIRECTED:
        relation.type = typed


def _relation_update(task: LLMTask) -> Relation:
    # The task's `character` is person A of the prompt; "b->a" makes B the senior (the source).
    result, origin = _result(task), task.origin or Origin.DEFAULT
    relation = task.relation
    a_id = task.character_id
    if a_id not in (relation.source_id, relation.target_id):
        a_id = relation.source_id
    b_id = relation.target_id if relation.source_id == a_id else relation.source_id
    if result.get("direction") == "b->a":
        a_id, b_id = b_id, a_id
    relation.source_id, relation.target_id = a_id, b_id
    same = result["type"] == taxonomy.SAME_PERSON  # one person, yet not merged: no type to show
    relation.type = taxonomy.DEFAULT_TYPE if same else result["type"]
    relation.confidence = result["confidence"]
    relation.evidence = result["evidence"]
    relation.origin = origin
    return relation


def _attribute_rows(group: list[LLMTask]) -> list[CharacterAttribute]:
    """A character's attributes; after a merge several answers speak of one character: each key
    takes the value of the fullest answer that has one."""
    group = sorted(group, key=lambda t: -sum(1 for v in _result(t).values() if v))
    rows: dict[str, CharacterAttribute] = {}
    for task in group:
        result, origin = _result(task), task.origin or Origin.DEFAULT
        values = {key: result.get(key) for key in prompts.ATTRIBUTE_KEYS}
        values["aliases"] = "、".join(result.get("aliases") or [])
        for key, value in values.items():
            if value and key not in rows:
                rows[key] = CharacterAttribute(
                    character_id=task.character_id, key=key, value=value, origin=origin
                )
    return list(rows.values())
