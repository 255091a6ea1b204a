"""What an update asks: only the questions whose answer can change, within the update's plan.

- a relation question for each edge the update added (a pair new to the asked ones);
- an evolution question for the edges that meet often in the appended chapters: it carries the
  timeline known so far and asks about the new chapters only (graph/continuation.py joins the
  answer to the timeline); an edge without a timeline gets a first one, from its stored snippets
  and the new chapters;
- the relation question again for edges that meet much more than before (the new part is a
  large share of their story);
- an attribute question for characters new or much more present.

A question asked again replaces the old one: the old task is detached from its subject (kept,
with its answer, as history) and its answer is the new one's fallback. A question still waiting
for its answer (the novel was updated while its batch is in flight) is not asked again: it stays
where it is and its answer is applied with the new version's.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from django.db import transaction

from graph import budget, grouped_questions, prompts
from graph.cooccurrence import request_overhead, snippet_cost
from graph.models import LLMTask, Novel, Origin, Relation, RelationPhase
from graph.progress import Progress
from graph.prompts import Snippet
from graph.questions import EVOLUTION_MIN_MEETINGS, Questions, evolves
from graph.updates import UpdateWorkspace

# New meetings (mentions), against the earlier ones, that make a relation worth asking again (a
# character "much more present"); the share of a question's snippet budget for the new chapters
# when earlier snippets are shown too.
REASK_SHARE = 0.5
MORE_PRESENT = 0.5
NEW_EVIDENCE_SHARE = 0.5


class _Asker:
    """The update's questions and the tasks they replace."""

    def __init__(self, novel: Novel, ws: UpdateWorkspace):
        self.novel, self.ws = novel, ws
        self.questions = Questions(novel, ws.version.number)
        self.tasks: list[LLMTask] = []
        self.detached: list[LLMTask] = []
        self.resnipped: list[Relation] = []  # edges asked again, with their new evidence
        earlier = novel.tasks.filter(version__lt=ws.version.number).defer("request", "response")
        current = earlier.exclude(relation__isnull=True, character__isnull=True)
        # A grouped question's members count one by one (graph/grouped_questions.py).
        grouped = [
            t
            for t in earlier.filter(relation=None, character=None)
            if grouped_questions.is_grouped(t)
        ]
        self.regroup = grouped_questions.Regrouper(novel) if grouped else None
        self.old: dict[tuple, list[LLMTask]] = defaultdict(list)
        self.waiting: set[tuple] = set()  # (kind, subject) with a question still unanswered
        for task in [*current, *grouped_questions.expand(grouped)]:
            subject = task.character_id if task.kind == LLMTask.Kind.ATTRIBUTE else task.relation_id
            self.old[(task.kind, subject)].append(task)
            if not task.settled:
                self.waiting.add((task.kind, subject))

    def free(self, kind: str, subject_id: int) -> bool:
        """Whether a question of `kind` about the subject may be asked (none is in flight)."""
        return (kind, subject_id) not in self.waiting

    def ask(self, question, subject: str, subject_id: int, *, extra=None, body=None, **links):
        replaced = self.old.get((question.kind, subject_id), [])
        extra = dict(extra or {})
        if replaced:
            extra.setdefault("fallback", _fallback(replaced))
            extra["supersedes"] = [
                {"id": t.pk, "relation": t.relation_id, "character": t.character_id}
                | ({"member": t.member} if hasattr(t, "member") else {})
                for t in replaced
            ]
            self.detached.extend(replaced)
        self.tasks.append(
            self.questions.task(question, subject, subject_id, extra=extra, body=body, **links)
        )


def _fallback(tasks: list[LLMTask]) -> dict:
    answered = [t for t in tasks if t.result and t.origin not in ("", Origin.DEFAULT)]
    best = max(answered or tasks, key=lambda t: t.pk)
    return {"result": best.result, "origin": best.origin}


def build(novel: Novel, ws: UpdateWorkspace, progress: Progress) -> None:
    asker = _Asker(novel, ws)
    relations = list(novel.relations.select_related("source", "target"))
    plan = ws.plan
    added = _new_edges(asker, relations)
    _timelines(asker, relations, plan.evolutions)
    _relations_again(asker, relations, max(0, plan.relations - added))
    _attributes(asker, plan.attributes)
    with transaction.atomic():
        for task in asker.detached:
            if hasattr(task, "member"):  # a grouped question's member: detached inside it
                asker.regroup.detach(task.pk, task.member)
            else:
                task.relation, task.character = None, None
        if asker.regroup:
            asker.regroup.save()
        single = [t for t in asker.detached if not hasattr(t, "member")]
        LLMTask.objects.bulk_update(single, ["relation", "character"], batch_size=500)
        Relation.objects.bulk_update(asker.resnipped, ["snippets"], batch_size=500)
        LLMTask.objects.bulk_create(asker.tasks, batch_size=500)
        novel.advance(Novel.Stage.TASKS)
    counts = Counter(t.kind for t in asker.tasks)
    waiting = (
        f"；上一版还有 {len(asker.waiting)} 个问题在等待批处理结果，不重复提问，结果返回后与本版一起写入图谱"
        if asker.waiting
        else ""
    )
    progress.line(
        f"任务生成完成（第 {ws.version.number} 版，只问可能变化的）：关系 {counts['relation']}、"
        f"演变 {counts['evolution']}、属性 {counts['attribute']}，共 {len(asker.tasks)} 个"
        f"（预算 {plan.total}）{waiting}"
    )


def _new_edges(asker: _Asker, relations: list[Relation]) -> int:
    """A relation question for each edge never asked about (the ones the pair stage added)."""
    count = 0
    for relation in relations:
        if relation.origin == Origin.MANUAL or asker.old.get(("relation", relation.pk)):
            continue
        a, b = relation.source, relation.target
        snippets = [Snippet(s["chapter"], s["text"]) for s in relation.snippets]
        ask = prompts.Question(prompts.RELATION, a.names, b.names, snippets)
        asker.ask(ask, f"{a.name}—{b.name}", relation.pk, relation=relation, character=a)
        count += 1
    return count


def _new_meetings(ws: UpdateWorkspace, relation: Relation, since: int = 0) -> list:
    stat = ws.pair_stats.get(frozenset((relation.source_id, relation.target_id)))
    return [loc for loc in (stat.locations if stat else []) if loc[0] >= since]


def _timelines(asker: _Asker, relations: list[Relation], room: int) -> None:
    """Evolution questions for the edges that meet most in the appended chapters."""
    since = asker.ws.version.first_added
    if not since or room <= 0:
        return
    edited = set(
        RelationPhase.objects.filter(relation__novel=asker.novel, origin=Origin.MANUAL).values_list(
            "relation_id", flat=True
        )
    )
    often = []
    for relation in relations:
        meetings = _new_meetings(asker.ws, relation, since)
        free = asker.free(LLMTask.Kind.EVOLUTION, relation.pk)
        if free and relation.pk not in edited and len(meetings) >= EVOLUTION_MIN_MEETINGS:
            often.append((len(meetings), relation, meetings))
    phases = _phases([relation.pk for _, relation, _ in often])
    # A timeline to continue, or (none yet) a pair that now meets over a long stretch.
    ranked = [item for item in often if item[1].pk in phases or _spans_long(asker.ws, item[1])]
    ranked.sort(key=lambda item: (-item[0], item[1].pk))
    for _, relation, meetings in ranked[:room]:
        _timeline(asker, relation, meetings, phases.get(relation.pk, []), since)


def _spans_long(ws: UpdateWorkspace, relation: Relation) -> bool:
    total = ws.totals.pairs.get(frozenset((relation.source_id, relation.target_id)))
    return total is not None and evolves(total)


def _phases(relation_ids: list[int]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = defaultdict(list)
    rows = RelationPhase.objects.filter(relation_id__in=relation_ids).order_by("from_chapter")
    for row in rows:
        found[row.relation_id].append(
            {
                "from": row.from_chapter,
                "to": row.to_chapter,
                "type": row.type,
                "event": row.event,
                "origin": row.origin,
            }
        )
    return found


def _timeline(asker: _Asker, relation: Relation, meetings, earlier: list[dict], since: int):
    ws, a, b = asker.ws, relation.source, relation.target
    subject, links = f"{a.name}—{b.name}", {"relation": relation, "character": a}
    if earlier:
        evidence = ws.timeline(meetings, a.names, b.names)
        ask = prompts.Question(prompts.EVOLUTION, a.names, b.names, evidence)
        known = [{key: p[key] for key in ("from", "to", "type", "event")} for p in earlier]
        body = prompts.continued_evolution_request(
            asker.novel.title, ask, known, since,
            model=asker.questions.model, max_tokens=asker.questions.max_tokens,
        )  # fmt: skip
        extra = {
            "earlier": known,
            "since": since,
            "fallback": {"result": {"phases": known}, "origin": earlier[-1]["origin"]},
        }
        asker.ask(ask, subject, relation.pk, extra=extra, body=body, **links)
        return
    new = ws.timeline(meetings, a.names, b.names, tokens=_share_budget(ws, a.names, b.names))
    evidence = _blend(_old_snippets(relation, ws), new, [*a.names, *b.names], ws.budget)
    ask = prompts.Question(prompts.EVOLUTION, a.names, b.names, evidence)
    asker.ask(ask, subject, relation.pk, **links)


def _relations_again(asker: _Asker, relations: list[Relation], room: int) -> None:
    """The relation question again for asked edges whose new meetings are a large share."""
    ranked = []
    for relation in relations:
        if relation.origin == Origin.MANUAL or not asker.old.get(("relation", relation.pk)):
            continue
        if not asker.free(LLMTask.Kind.RELATION, relation.pk):
            continue
        meetings = _new_meetings(asker.ws, relation)
        earlier = relation.cooccurrence - len(meetings)
        if len(meetings) >= max(EVOLUTION_MIN_MEETINGS, REASK_SHARE * earlier):
            ranked.append((len(meetings), relation, meetings))
    ranked.sort(key=lambda item: (-item[0], item[1].pk))
    ws = asker.ws
    for _, relation, meetings in ranked[:room]:
        a, b = relation.source, relation.target
        new = ws.evidence(meetings, a.names, b.names, tokens=_share_budget(ws, a.names, b.names))
        evidence = _blend(_old_snippets(relation, ws), new, [*a.names, *b.names], ws.budget)
        relation.snippets = prompts.stored_snippets(evidence)
        ask = prompts.Question(prompts.RELATION, a.names, b.names, evidence)
        asker.ask(ask, f"{a.name}—{b.name}", relation.pk, relation=relation, character=a)
        asker.resnipped.append(relation)


def _attributes(asker: _Asker, room: int) -> None:
    """Attribute questions for characters new (and mentioned enough) or much more present in
    the new chapters."""
    ws, novel = asker.ws, asker.novel
    counts = list(novel.characters.values_list("mention_count", flat=True))
    floor = max(
        budget.ATTRIBUTE_MIN_MENTIONS, budget.plan(novel.char_count, counts).attribute_floor
    )
    ranked = []
    for pk, character in ws.characters.items():
        new = ws.index.counts.get(pk, 0)
        more = new >= max(
            budget.ATTRIBUTE_MIN_MENTIONS, MORE_PRESENT * (character.mention_count - new)
        )
        asked = bool(asker.old.get(("attribute", pk)))
        wanted = more and (asked or character.mention_count >= floor)
        if not asker.free(LLMTask.Kind.ATTRIBUTE, pk):
            continue
        if character.is_person and (
            wanted or (pk in ws.new_ids and character.mention_count >= floor)
        ):
            ranked.append((character.mention_count if pk in ws.new_ids else new, character))
    ranked.sort(key=lambda item: (-item[0], item[1].pk))
    for _, character in ranked[:room]:
        _attribute(asker, character, ws.places.get(character.pk, []))


def _attribute(asker: _Asker, character, places: list) -> None:
    ws, names = asker.ws, character.names
    new = ws.evidence(places, names, tokens=_share_budget(ws, names, []))
    changed = set(ws.version.changed)
    old = [
        snippet
        for task in asker.old.get(("attribute", character.pk), [])[-1:]
        for snippet in prompts.Question.from_json(task.question).snippets
        if snippet.chapter not in changed
    ]
    evidence = _blend(old, new, names, ws.budget)
    ask = prompts.Question(prompts.ATTRIBUTE, names, [], evidence)
    asker.ask(ask, character.name, character.pk, character=character)


def _share_budget(ws: UpdateWorkspace, names_a, names_b) -> int:
    """The request budget for the new chapters' snippets when earlier ones are shown too."""
    overhead = request_overhead(names_a, names_b)
    return overhead + int((ws.budget - overhead) * NEW_EVIDENCE_SHARE)


def _old_snippets(relation: Relation, ws: UpdateWorkspace) -> list[Snippet]:
    """The edge's stored snippets from chapters this version did not change."""
    changed = set(ws.version.changed)
    return [
        Snippet(s["chapter"], s["text"]) for s in relation.snippets if s["chapter"] not in changed
    ]


def _blend(old: list[Snippet], new: list[Snippet], names: list[str], budget_tokens: int):
    """The new snippets, then as many earlier ones as the budget leaves, in chapter order."""
    room = budget_tokens - request_overhead(names, [])
    chosen, used = [], 0
    for snippet in [*new, *old]:
        cost = snippet_cost(snippet)
        if used + cost <= room:
            chosen.append(snippet)
            used += cost
    return sorted(chosen, key=lambda s: s.chapter)
