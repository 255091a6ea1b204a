"""Settling task replies and applying them to the graph, exactly once per novel."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from graph import prompts, replies
from graph.dbutil import bulk_set
from graph.models import (
    SETTLED,
    CharacterAttribute,
    LLMTask,
    Novel,
    Origin,
    Relation,
    RelationPhase,
)

SETTLE_FIELDS = [
    "status",
    "attempts",
    "response",
    "result",
    "origin",
    "prompt_tokens",
    "completion_tokens",
    "last_error",
    "updated",
]


def record_reply(
    task: LLMTask, content: str, origin: str, prompt_tokens: int = 0, completion_tokens: int = 0
) -> None:
    """Store one reply on the task: parsed result, or a failure that will be retried or defaulted.
    The caller saves (save_settled)."""
    task.attempts += 1
    task.response = content
    task.prompt_tokens += prompt_tokens
    task.completion_tokens += completion_tokens
    task.updated = timezone.now()
    try:
        task.result = replies.parse_reply(task.kind, content)
    except replies.ReplyError as exc:
        record_failure(task, f"回复无法解析：{exc}", counted=False)
        return
    task.status = LLMTask.Status.SUCCEEDED
    task.origin = origin
    task.last_error = ""


def record_failure(
    task: LLMTask, error: str, *, counted: bool = True, permanent: bool = False
) -> None:
    """A failed attempt: back to failed (resubmitted later) or, out of attempts, the default."""
    if counted:
        task.attempts += 1
    task.last_error = error[:2000]
    task.updated = timezone.now()
    if permanent or task.attempts >= settings.LLM_MAX_ATTEMPTS:
        task.status = LLMTask.Status.DEFAULTED
        task.result = replies.default_result(task.kind)
        task.origin = Origin.DEFAULT
    else:
        task.status = LLMTask.Status.FAILED


def save_settled(tasks: Iterable[LLMTask]) -> None:
    bulk_set(tasks, SETTLE_FIELDS)


def unsettled_count(novel: Novel) -> int:
    return novel.tasks.exclude(status__in=SETTLED).count()


def apply_if_settled(novel: Novel) -> bool:
    """Write the graph when every task is settled. Returns True if this call applied it.

    The stage change from `dispatched` to `done` is the claim: two processes may both get here,
    only the one whose conditional UPDATE hits the row writes the graph, in the same transaction.
    """
    if unsettled_count(novel):
        return False
    with transaction.atomic():
        claimed = Novel.objects.filter(pk=novel.pk, stage=Novel.Stage.DISPATCHED).update(
            stage=Novel.Stage.DONE, applied_at=timezone.now(), last_error=""
        )
        if claimed != 1:
            return False
        _apply(novel)
    novel.refresh_from_db()
    return True


def _apply(novel: Novel) -> None:
    tasks = novel.tasks.select_related("relation").only(
        "novel", "kind", "result", "origin", "character", "relation__source", "relation__target"
    )
    relations, phases, attributes = [], [], []
    touched_relations = []
    for task in tasks.iterator(chunk_size=2000):
        result = task.result or replies.default_result(task.kind)
        origin = task.origin or Origin.DEFAULT
        if task.kind == LLMTask.Kind.RELATION and task.relation:
            relations.append(_relation_update(task, result, origin))
        elif task.kind == LLMTask.Kind.EVOLUTION and task.relation:
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
