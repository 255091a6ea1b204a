"""Grouped questions: several subjects of one kind asked in one request (the lower-ranked pairs
of the plan), so a fixed request budget asks about more pairs.

A grouped task has no subject links of its own (relation and character are null): its
`question` holds {"kind", "group": [member, ...]}, each member a question of its own plus the
ids of its subject ("relation", "character": person A or the person described). Its result is
{"items": [one result per member]}. Everything that reads answers per subject (identity claims,
the graph written by graph/results.py, the drill audit, an update superseding a subject) reads
the members through `expand`: unsaved tasks that look like the single-subject ones. What moves
a subject (an identity merge) or detaches it (an update asking it again) rewrites the ids in the
question (`Regrouper`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from graph.budget import GROUP_SIZE as SIZE  # subjects per grouped question
from graph.models import LLMTask, Origin


def members_of(task: LLMTask) -> list[dict]:
    return (task.question or {}).get("group") or []


def is_grouped(task: LLMTask) -> bool:
    return bool(members_of(task))


def expand(tasks: Iterable[LLMTask], relations: dict | None = None) -> list[LLMTask]:
    """The tasks with every grouped one replaced by its members (unsaved tasks with the group's
    status and origin, the member's result, subject and question). A member whose subject is
    gone or detached is left out; `relations` (by id) gives the members their relation objects
    (a member whose relation is not there is left out too)."""
    out = []
    for task in tasks:
        group = members_of(task)
        if not group:
            out.append(task)
            continue
        items = (task.result or {}).get("items") or []
        for number, member in enumerate(group):
            relation_id, character_id = member.get("relation"), member.get("character")
            if task.kind == LLMTask.Kind.ATTRIBUTE:
                if not character_id:
                    continue
            elif not relation_id or (relations is not None and relation_id not in relations):
                continue
            answered = number < len(items) and task.result is not None
            copy = LLMTask(
                pk=task.pk,
                novel_id=task.novel_id,
                kind=task.kind,
                status=task.status,
                custom_id=f"{task.custom_id}#{number + 1}",
                question=member,
                result=items[number] if answered else None,
                origin=task.origin if answered else Origin.DEFAULT,
                character_id=character_id,
                relation_id=relation_id,
                version=task.version,
            )
            copy.member = number
            if relations is not None and relation_id:
                copy.relation = relations[relation_id]
            out.append(copy)
    return out


def relations_for(tasks: Iterable[LLMTask], queryset) -> dict:
    """The relations (by id) the members of grouped `tasks` speak of, from `queryset`."""
    ids = {m.get("relation") for t in tasks for m in members_of(t)} - {None}
    return {r.pk: r for r in queryset.filter(pk__in=ids)} if ids else {}


class Regrouper:
    """Rewrites the subject ids inside a novel's grouped questions, saved once at the end."""

    def __init__(self, novel):
        orphans = novel.tasks.filter(relation=None, character=None).defer("request", "response")
        self.tasks = [t for t in orphans if is_grouped(t)]
        self.changed: set[int] = set()

    def move(self, key: str, old: int, new: int | None) -> None:
        """Members whose `key` ("relation" or "character") is `old` now speak of `new`."""
        for task in self.tasks:
            for member in members_of(task):
                if member.get(key) == old:
                    member[key] = new
                    self.changed.add(task.pk)

    def detach(self, task_pk: int, number: int) -> None:
        """A member asked again elsewhere: kept in the question, linked to nothing."""
        for task in self.tasks:
            if task.pk == task_pk:
                members_of(task)[number].update(relation=None, character=None)
                self.changed.add(task.pk)

    def save(self) -> None:
        changed = [t for t in self.tasks if t.pk in self.changed]
        LLMTask.objects.bulk_update(changed, ["question"], batch_size=500)
        self.changed.clear()


def attach(task: LLMTask, number: int, relation: int | None, character: int | None) -> None:
    """A detached member linked again (an update's questions forgotten), saved."""
    members_of(task)[number].update(relation=relation, character=character)
    task.save(update_fields=["question"])


def chunks(subjects: Sequence, person_of) -> list[list]:
    """`subjects` (best first) in groups of at most SIZE, the ones about one person together
    where they can be (`person_of`: the person a subject is about), the rest in rank order."""
    by_person: dict = defaultdict(list)
    for subject in subjects:
        by_person[person_of(subject)].append(subject)
    groups, rest = [], []
    for same in by_person.values():
        full = len(same) - len(same) % SIZE
        groups += [same[i : i + SIZE] for i in range(0, full, SIZE)]
        rest += same[full:]
    order = {id(s): i for i, s in enumerate(subjects)}
    rest.sort(key=lambda s: order[id(s)])
    groups += [rest[i : i + SIZE] for i in range(0, len(rest), SIZE)]
    groups.sort(key=lambda g: order[id(g[0])])
    return groups
