"""The task stage: the questions the budget allows, turned into task rows (one request each; the
tail of the pairs three to a request, graph/grouped_questions.py)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from graph import budget, grouped_questions, prompts
from graph.models import LLMTask, Novel, Origin
from graph.progress import Progress

if TYPE_CHECKING:
    from graph.pipeline import Workspace

SUBJECT_CHARS = 140  # LLMTask.subject
# An evolution question for pairs that meet often enough, in enough chapters, over a long enough
# stretch of their own (not of the book: 姜维—诸葛亮 meet only in ch. 92–104).
EVOLUTION_MIN_MEETINGS = 4
EVOLUTION_MIN_CHAPTERS = 3
EVOLUTION_MIN_SPAN = 4


def evolves(stat) -> bool:
    """Whether a pair is worth an evolution question (see EVOLUTION_MIN_*)."""
    return (
        stat.count >= EVOLUTION_MIN_MEETINGS
        and len(stat.chapters) >= EVOLUTION_MIN_CHAPTERS
        and stat.last - stat.first + 1 >= EVOLUTION_MIN_SPAN
    )


class Questions:
    """Turns questions into task rows: the request body is rendered once, here. An update's
    questions carry its version number; `body` and `extra` (stored beside the question, see
    graph/continuation.py) are for the questions it continues."""

    def __init__(self, novel: Novel, version: int = 1):
        self.novel, self.version = novel, version
        self.model, self.max_tokens = settings.LLM_MODEL, settings.LLM_MAX_TOKENS

    def task(
        self,
        question: prompts.Question,
        subject: str,
        subject_id: int,
        *,
        body: dict | None = None,
        extra: dict | None = None,
        **links,
    ) -> LLMTask:
        body = body or prompts.request_body(
            self.novel.title, question, model=self.model, max_tokens=self.max_tokens
        )
        return LLMTask(
            novel=self.novel,
            kind=question.kind,
            subject=subject[:SUBJECT_CHARS],
            question=question.to_json() | (extra or {}),
            request=body,
            custom_id=LLMTask.custom_id_for(self.novel.pk, question.kind, subject_id, self.version),
            version=self.version,
            **links,
        )


def _pair_tasks(novel: Novel, ws: Workspace, questions: Questions, alone: int) -> list[LLMTask]:
    """A question per pair, asking the timeline too for the pairs that meet over a long stretch;
    a pair whose relation a person set gets only the timeline question. The `alone` best pairs
    (the pair stage made them in rank order) have a request each, the rest are asked in groups
    (graph/grouped_questions.py), pairs that share person A together."""
    tasks, tail = [], []
    for relation in novel.relations.select_related("source", "target").order_by("pk"):
        a, b = relation.source, relation.target
        stat = ws.pair_stats.get(frozenset((a.pk, b.pk)))
        links = {"relation": relation, "character": a}
        subject = f"{a.name}—{b.name}"
        timeline = stat is not None and evolves(stat)
        if relation.origin != Origin.MANUAL:
            snippets = [prompts.Snippet(s["chapter"], s["text"]) for s in relation.snippets]
            ask = prompts.Question(prompts.RELATION, a.names, b.names, snippets, timeline)
            if alone <= 0:
                tail.append((ask, subject, links))
                continue
            alone -= 1
        elif timeline:
            evidence = ws.timeline(stat.locations, a.names, b.names)
            ask = prompts.Question(prompts.EVOLUTION, a.names, b.names, evidence)
        else:
            continue
        tasks.append(questions.task(ask, subject, relation.pk, **links))
    for group in grouped_questions.chunks(tail, lambda member: member[2]["character"].pk):
        tasks.append(_group_task(questions, group))
    return tasks


def _group_task(questions: Questions, group: list[tuple]) -> LLMTask:
    """One request asking the questions of `group` ((question, subject, links) each)."""
    kind = group[0][0].kind
    ask = prompts.Question(kind, members=[question for question, _, _ in group])
    subject = "；".join(subject for _, subject, _ in group)
    first = group[0][2].get("relation") or group[0][2]["character"]
    task = questions.task(ask, subject, first.pk)
    for member, (_, _, links) in zip(task.question["group"], group, strict=True):
        member.update({key: obj.pk for key, obj in links.items()})
    return task


def _attribute_tasks(
    novel: Novel, ws: Workspace, questions: Questions, count: int
) -> list[LLMTask]:
    """An attribute question for each of the `count` most mentioned characters."""
    tasks = []
    for character in novel.characters.order_by("-mention_count", "rank")[:count]:
        snippets = ws.evidence(ws.places.get(character.pk, []), character.names)
        ask = prompts.Question(prompts.ATTRIBUTE, character.names, [], snippets)
        tasks.append(questions.task(ask, character.name, character.pk, character=character))
    return tasks


def build_tasks(novel: Novel, ws: Workspace, progress: Progress) -> None:
    questions = Questions(novel)
    plan = budget.plan(
        novel.char_count, list(novel.characters.values_list("mention_count", flat=True))
    )
    attributes = _attribute_tasks(novel, ws, questions, plan.attributes)
    tasks = _pair_tasks(novel, ws, questions, plan.alone) + attributes
    with transaction.atomic():
        novel.tasks.all().delete()
        LLMTask.objects.bulk_create(tasks, batch_size=500)
        novel.advance(Novel.Stage.TASKS)
    counts = Counter(t.kind for t in tasks)
    both = sum(1 for t in grouped_questions.expand(tasks) if t.question.get("timeline"))
    groups = [t for t in tasks if grouped_questions.is_grouped(t)]
    together = sum(len(grouped_questions.members_of(t)) for t in groups)
    progress.line(
        f"任务生成完成：关系 {counts['relation']}（{together} 对合并在 {len(groups)} 个请求中；"
        f"{both} 对同时问演变）、"
        f"演变 {counts['evolution']}、属性 {counts['attribute']}"
    )
