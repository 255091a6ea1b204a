"""Counting what a drill scenario lost or applied twice, from the emulator's side and the rows.

Evidence of an answer is what the emulator wrote into the output file of a batch that was
collected (its job is `done`), or a chat reply the client received (RecordingClient). A
"successful" answer is one the app's own parser accepts (LLMTask.record_reply on a probe task).

lost:          a successful answer whose task is not settled with it (status succeeded, origin
               llm, that response, that batch job), tokens missing, a task left unsettled, an
               undone novel, or a settled result missing from the graph;
applied twice: one task answered successfully twice (two collected batches, or two replies),
               tokens counted more than once, phase or attribute rows beyond what the settled
               results imply, duplicated (relation, from, to) phases.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from graph import grouped_questions, taxonomy
from graph import phases as phases_of
from graph.llm.zhipu import parse_result_line
from graph.models import BatchJob, CharacterAttribute, LLMTask, Novel, Origin, RelationPhase
from graph.prompts import ATTRIBUTE_KEYS
from graph.results import asks_timeline


@dataclass
class Audit:
    novels: int = 0
    done: int = 0
    answered: int = 0  # tasks settled with a model answer (origin llm)
    defaulted: int = 0
    lost: set[str] = field(default_factory=set)
    twice: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.done == self.novels and not self.lost and not self.twice


@dataclass
class Evidence:
    """Per custom_id: successful answers (source, content) and tokens of every stored reply."""

    successes: dict[str, list[tuple[object, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    tokens: Counter = field(default_factory=Counter)  # (custom_id, "prompt"|"completion") -> n


def parses(task: LLMTask, content: str) -> bool:
    probe = LLMTask(kind=task.kind, question=task.question)
    probe.record_reply(content, Origin.LLM)
    return probe.status == LLMTask.Status.SUCCEEDED


def batch_evidence(emu, novel_ids, tasks: dict[str, LLMTask], audit: Audit) -> Evidence:
    """What the emulator answered in batches of these tasks, and which of those were collected."""
    evidence = Evidence()
    jobs = BatchJob.objects.filter(novel_id__in=novel_ids, remote_id__isnull=False)
    jobs = {j.remote_id: j for j in jobs}
    orphans = uncollected = 0
    for batch in list(emu.batches.values()):
        if not any(_custom_id(line) in tasks for line in batch.lines[:1]):
            continue
        job = jobs.get(batch.id)
        stored = emu.files.get(batch.output_file_id) or emu.deleted.get(batch.output_file_id)
        answered = stored.data if stored else b""
        if job is None:
            orphans += 1
            continue
        if job.status != BatchJob.Status.DONE:
            uncollected += bool(answered)
            continue
        for raw in answered.decode().splitlines():
            line = parse_result_line(raw)
            if line.custom_id not in tasks or not line.ok:
                continue
            evidence.tokens[line.custom_id, "prompt"] += line.prompt_tokens
            evidence.tokens[line.custom_id, "completion"] += line.completion_tokens
            if parses(tasks[line.custom_id], line.content or ""):
                evidence.successes[line.custom_id].append((job.pk, line.content))
    if orphans:
        audit.notes.append(f"{orphans} 个远程批处理没有对应的 BatchJob (orphan batches)")
    if uncollected:
        audit.notes.append(f"{uncollected} 个已作答的批处理未收取 (answered, job not done)")
    return evidence


def chat_evidence(client, tasks: dict[str, LLMTask]) -> Evidence:
    """What the client received for these tasks (by the request's messages)."""
    from drill_support import messages_key

    by_messages = {messages_key(t.request): cid for cid, t in tasks.items()}
    evidence = Evidence()
    for key, replies in client.received.items():
        cid = by_messages.get(key)
        if cid is None:
            continue
        for reply in replies:
            evidence.tokens[cid, "prompt"] += reply.prompt_tokens
            evidence.tokens[cid, "completion"] += reply.completion_tokens
            if parses(tasks[cid], reply.content):
                evidence.successes[cid].append((None, reply.content))
    return evidence


def _custom_id(line: str) -> str | None:
    import json

    try:
        return json.loads(line)["custom_id"]
    except (ValueError, KeyError, TypeError):
        return None


def audit(novel_ids: list[int], emu=None, client=None) -> Audit:
    """Check the scenario's novels against the evidence of batches (emu) or chat (client)."""
    found = Audit(novels=len(novel_ids))
    novels = Novel.objects.filter(pk__in=novel_ids)
    found.done = novels.filter(stage=Novel.Stage.DONE).count()
    tasks = {t.custom_id: t for t in LLMTask.objects.filter(novel_id__in=novel_ids)}
    evidence = (
        chat_evidence(client, tasks) if client else batch_evidence(emu, novel_ids, tasks, found)
    )
    for cid, task in tasks.items():
        found.answered += task.status == LLMTask.Status.SUCCEEDED and task.origin == Origin.LLM
        found.defaulted += task.status == LLMTask.Status.DEFAULTED
        if not task.settled:
            found.lost.add(cid)
        answers = evidence.successes.get(cid, [])
        if len(answers) > 1:
            found.twice.add(cid)
        if answers:
            job, content = answers[0]
            kept = (task.status, task.origin, task.response) == ("succeeded", "llm", content)
            if not kept or (job is not None and task.batch_job_id != job):
                found.lost.add(cid)
        elif task.status == LLMTask.Status.SUCCEEDED and task.origin == Origin.LLM:
            found.lost.add(cid)  # settled with an answer no collected output or reply holds
        for kind in ("prompt", "completion"):
            counted, expected = getattr(task, f"{kind}_tokens"), evidence.tokens[cid, kind]
            if counted > expected:
                found.twice.add(cid)
            elif counted < expected:
                found.lost.add(cid)
    for novel in novels.filter(stage=Novel.Stage.DONE):
        check_graph(novel, [t for t in tasks.values() if t.novel_id == novel.pk], found)
    for novel in novels.exclude(stage=Novel.Stage.DONE):
        found.lost.add(f"novel-{novel.pk}")
    return found


def _timelines(tasks: list[LLMTask]) -> dict[int, list[dict]]:
    """Per relation, the phases results.py writes: of its evolution tasks (else of its relation
    tasks that asked the timeline too), the fullest answered one."""
    best: dict[int, tuple] = {}
    for task in tasks:
        if not task.relation_id or not asks_timeline(task):
            continue
        phases = (task.result or {}).get("phases", [])
        key = (task.kind == "evolution", task.origin not in ("", Origin.DEFAULT), len(phases))
        if task.relation_id not in best or key > best[task.relation_id][0]:
            best[task.relation_id] = (key, phases)
    return {rid: phases for rid, (_, phases) in best.items()}


def check_graph(novel: Novel, tasks: list[LLMTask], found: Audit) -> None:
    """Every settled result is in the graph, once."""
    relations = {r.pk: r for r in novel.relations.all()}
    tasks = grouped_questions.expand(tasks, relations)  # a grouped question's members, one by one
    phases = defaultdict(Counter)
    for p in RelationPhase.objects.filter(relation__novel=novel):
        phases[p.relation_id][p.from_chapter, p.to_chapter, p.type, p.event] += 1
    attributes = defaultdict(Counter)
    for a in CharacterAttribute.objects.filter(character__novel=novel).exclude(origin="manual"):
        attributes[a.character_id][a.key, a.value] += 1
    expected_phases, expected_attributes = defaultdict(Counter), defaultdict(Counter)
    timelines = _timelines(tasks)
    for task in tasks:
        result, origin = task.result or {}, task.origin or Origin.DEFAULT
        if task.kind == "relation" and task.relation_id:
            relation = relations[task.relation_id]
            a = task.character_id
            b = relation.target_id if relation.source_id == a else relation.source_id
            ends = (b, a) if result.get("direction") == "b->a" else (a, b)
            kind = result.get("type")
            if kind == taxonomy.DEFAULT_TYPE and origin != Origin.DEFAULT:
                # a 共现 answer takes the type its timeline names (graph/results.py)
                kind = phases_of.dominant(timelines.get(task.relation_id, [])) or kind
            got = (relation.source_id, relation.target_id, relation.type, relation.origin)
            if got != (*ends, kind, origin):
                found.lost.add(task.custom_id)
        elif task.kind == "attribute" and task.character_id:
            rows = [(k, result[k]) for k in ATTRIBUTE_KEYS if result.get(k)]
            if result.get("aliases"):
                rows.append(("aliases", "、".join(result["aliases"])))
            expected_attributes[task.character_id].update(rows)
    for relation_id, timeline in timelines.items():
        for p in timeline:
            expected_phases[relation_id][p["from"], p["to"], p["type"], p["event"]] += 1
    for label, got, expected in (
        ("phase", phases, expected_phases),
        ("attribute", attributes, expected_attributes),
    ):
        for key in set(got) | set(expected):
            if expected[key] - got[key]:
                found.lost.add(f"{label}-{key}")
            if got[key] - expected[key]:
                found.twice.add(f"{label}-{key}")
