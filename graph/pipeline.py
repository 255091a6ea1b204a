"""The pipeline: file → chapters → characters → pairs → tasks → answers → graph. Every stage is
recorded on the Novel when it finishes, so running it again continues where it stopped."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from graph import budget, grouping, prompts, tallies, taxonomy
from graph.cooccurrence import (
    SHORTLIST,
    ParagraphStore,
    evolution_evidence,
    pair_statistics,
    pattern_weight,
    select_evidence,
    shortlist_for,
    top_pairs,
)
from graph.dbutil import bulk_set
from graph.entities import discover_characters, scan_mentions
from graph.models import Chapter, Character, LLMTask, Novel, NovelVersion, Origin, Relation
from graph.names import same_surname
from graph.progress import Progress
from graph.text import ChapterText, TextError, decode, split_chapters
from graph.titles import book_title

MAX_FILE_BYTES = 200 * 1024 * 1024
TITLE_CHARS, SOURCE_CHARS, CHAPTER_TITLE_CHARS, SUBJECT_CHARS = 200, 255, 255, 140  # field sizes
NAME_CHARS = 64  # Character.name
PAIR_STAT_FIELDS = ["cooccurrence", "first_chapter", "last_chapter", "snippets"]
# An evolution question for pairs that meet often enough, in enough chapters, over a long enough
# stretch of their own (not of the book: 姜维—诸葛亮 meet only in ch. 92–104).
EVOLUTION_MIN_MEETINGS = 4
EVOLUTION_MIN_CHAPTERS = 3
EVOLUTION_MIN_SPAN = 4
# Pair choice (tuned on the three gold classics with one setting; see find_pairs).
SURNAME_BONUS = 5.0
PATTERN_BONUS = 2 / 3  # per unit of construction weight (a "X之子Y" weighs 3)
PATTERN_CAP = 12.0
PER_PERSON_SHARE = 0.15  # of the pair limit one person may take
# Meetings read per candidate pair when choosing pairs, and the fewest for large budgets.
PAIR_SAMPLES, MIN_SAMPLES = 12, 6


class InputError(Exception):
    """A file we refuse: the message is one line for the user."""


def read_novel_file(path: Path) -> bytes:
    if not path.exists():
        raise InputError(f"文件不存在：{path}")
    if path.is_dir():
        raise InputError(f"这是一个目录，不是小说文件：{path}")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                f"文件太大（{size // 1024 // 1024} MB），上限 {MAX_FILE_BYTES // 1024 // 1024} MB：{path}"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"无法读取文件：{path}（{exc.strerror}）") from None
    if not data.strip():
        raise InputError(f"文件为空：{path}")
    return data


@dataclass(frozen=True)
class Parsed:
    """A file read: its sha256, text, the encoding used, its chapters."""

    sha256: str
    text: str
    encoding: str
    chapters: list[ChapterText]


def parse(data: bytes, encoding: str | None = None) -> Parsed:
    try:
        text, used = decode(data, encoding)
        chapters = split_chapters(text)
    except TextError as exc:
        raise InputError(str(exc)) from None
    if not chapters:
        raise InputError("文件中没有可用的正文")
    return Parsed(hashlib.sha256(data).hexdigest(), text, used, chapters)


def chapter_row(novel: Novel, chapter: ChapterText) -> Chapter:
    title = chapter.title[:CHAPTER_TITLE_CHARS]
    return Chapter(
        novel=novel,
        number=chapter.number,
        title=title,
        text=chapter.text,
        digest=Chapter.digest_of(title, chapter.text),
    )


def ingest(
    data: bytes,
    *,
    source_name: str,
    title: str | None = None,
    encoding: str | None = None,
    parsed: Parsed | None = None,
) -> tuple[Novel, bool]:
    """Store a novel and its chapters (its first version); the same bytes again return the
    stored novel (created=False). `parsed`: the file already parsed by the caller."""
    digest = parsed.sha256 if parsed else hashlib.sha256(data).hexdigest()
    existing = Novel.objects.filter(sha256=digest).first()
    if existing:
        return existing, False
    parsed = parsed or parse(data, encoding)
    try:
        with transaction.atomic():
            novel = Novel.objects.create(
                title=(title or book_title(parsed.text, source_name))[:TITLE_CHARS],
                sha256=digest,
                source_name=source_name[:SOURCE_CHARS],
                encoding=parsed.encoding,
                char_count=len(parsed.text),
            )
            Chapter.objects.bulk_create(
                [chapter_row(novel, c) for c in parsed.chapters], batch_size=500
            )
            NovelVersion.objects.create(
                novel=novel,
                number=1,
                sha256=digest,
                source_name=novel.source_name,
                chapters=len(parsed.chapters),
                char_count=novel.char_count,
                added=len(parsed.chapters),
                changed=[c.number for c in parsed.chapters],
            )
            novel.advance(Novel.Stage.PARSED)
    except IntegrityError:  # the same file uploaded by another process a moment ago
        return Novel.objects.get(sha256=digest), False
    return novel, True


class Workspace:
    """What the stages of one run share in memory (recomputed after a restart)."""

    def __init__(self, novel: Novel):
        self.novel = novel

    @cached_property
    def chapters(self) -> list[tuple[int, str]]:
        return list(self.novel.chapters.order_by("number").values_list("number", "text"))

    @cached_property
    def characters(self) -> dict[int, Character]:
        return {c.pk: c for c in self.novel.characters.all()}

    @cached_property
    def index(self):
        return scan_mentions(self.chapters, {pk: c.names for pk, c in self.characters.items()})

    @cached_property
    def pair_stats(self):
        stats = pair_statistics(self.index.paragraphs)
        return {frozenset((s.a, s.b)): s for s in stats.values()}

    @cached_property
    def store(self) -> ParagraphStore:
        return ParagraphStore(self.chapters)

    @property
    def budget(self) -> int:
        """Input tokens one request may spend on evidence."""
        return settings.EVIDENCE_TOKEN_BUDGET

    def evidence(self, locations, names_a, names_b=(), share: int = 1) -> list:
        """A request's snippets for one person or a pair (see cooccurrence.select_evidence);
        `share`: the subjects one request asks about (each gets its part of the budget)."""
        return select_evidence(
            locations, self.store, names_a, names_b,
            budget_tokens=self.budget // share, shortlist=self.shortlist,
        )  # fmt: skip

    def timeline(self, locations, names_a, names_b, share: int = 1) -> list:
        """An evolution request's snippets across the pair's span (see evolution_evidence)."""
        return evolution_evidence(
            locations, self.store, names_a, names_b,
            budget_tokens=self.budget // share, shortlist=self.shortlist,
        )  # fmt: skip

    @cached_property
    def samples(self) -> int:
        """Meetings read per candidate pair when choosing pairs (fewer when there are many)."""
        return max(MIN_SAMPLES, PAIR_SAMPLES * self.shortlist // SHORTLIST)

    @cached_property
    def shortlist(self) -> int:
        """Candidates fully ranked per question (fewer when the novel gets many questions)."""
        return shortlist_for(budget.requests_for(self.novel.char_count), budget.MIN_REQUESTS)


def find_characters(novel: Novel, ws: Workspace, progress: Progress) -> None:
    found = discover_characters(ws.chapters, limit=settings.GRAPH_CHARACTER_LIMIT)
    kept = novel.characters.edited_by_hand()
    locked = list(kept)
    taken = {name for c in locked for name in c.names}
    rows = []
    for rank, f in enumerate(found, 1):
        if f.name in taken or len(f.name) > NAME_CHARS:
            continue
        aliases = [a for a in f.aliases if a not in taken and len(a) <= NAME_CHARS]
        taken.update([f.name, *aliases])
        rows.append(
            Character(
                novel=novel,
                name=f.name,
                aliases=aliases,
                mention_count=f.mention_count,
                first_chapter=f.first_chapter,
                last_chapter=f.last_chapter,
                rank=rank,
            )
        )
    with transaction.atomic():
        novel.characters.exclude(pk__in=[c.pk for c in locked]).delete()
        Character.objects.bulk_create(rows, batch_size=500)
        novel.advance(Novel.Stage.CHARACTERS)
    progress.line(f"人物识别完成：{len(rows) + len(locked)} 个人物")


def find_pairs(novel: Novel, ws: Workspace, progress: Progress) -> None:
    characters, index = ws.characters, ws.index
    for pk, character in characters.items():
        character.mention_count = index.counts.get(pk, 0)
        character.first_chapter = index.first.get(pk)
        character.last_chapter = index.last.get(pk)

    plan = budget.plan(novel.char_count, [c.mention_count for c in characters.values()])
    chosen = ranked_pairs(ws, plan.pairs)
    manual = {r.pair_key: r for r in novel.relations.filter(origin=Origin.MANUAL)}
    relations, fresh = [], 0
    for stat in chosen:
        # Person A is the more important one, so a rebuild orients every pair the same way.
        a, b = sorted((characters[stat.a], characters[stat.b]), key=lambda c: (c.rank, c.pk))
        # A relation a person set keeps its type and direction; its counts follow the text.
        relation = manual.get(Relation.key_for(a.pk, b.pk)) or Relation(
            novel=novel, source=a, target=b, pair_key=Relation.key_for(a.pk, b.pk)
        )
        # The snippets its question shows: across the pair's span when it asks the timeline
        # too; a share of a request's when it is asked in a group (see _pair_tasks).
        share = budget.GROUP_SIZE if relation.pk is None and fresh >= plan.alone else 1
        fresh += relation.pk is None
        evidence = ws.timeline if evolves(stat) else ws.evidence
        snippets = evidence(stat.locations, a.names, b.names, share=share)
        relation.cooccurrence, relation.first_chapter = stat.count, stat.first
        relation.last_chapter = stat.last
        relation.snippets = [{"chapter": s.chapter, "text": s.text} for s in snippets]
        relations.append(relation)
    new = [r for r in relations if r.pk is None]
    counted = tallies.count_chapters(index, ws.pair_stats.values())
    with transaction.atomic():
        tallies.store(novel, [number for number, _ in ws.chapters], counted)
        tallies.record_roster(novel, characters.values())
        bulk_set(characters.values(), ["mention_count", "first_chapter", "last_chapter"])
        novel.relations.exclude(origin=Origin.MANUAL).delete()
        Relation.objects.bulk_create(new, batch_size=500)
        bulk_set([r for r in relations if r.pk], PAIR_STAT_FIELDS)
        novel.advance(Novel.Stage.PAIRS)
    progress.line(
        f"共现统计完成：{len(ws.pair_stats)} 对人物同段出现，选出 {len(relations)} 对送去分类"
    )


def ranked_pairs(ws: Workspace, limit: int, share_of: int = 0) -> list:
    """The `limit` pairs worth a question, best first (see cooccurrence.top_pairs), no person
    taking more than a share of `share_of` (default: of `limit`)."""
    characters = ws.characters

    def bonus(stat) -> float:
        # What the names say: one surname (father and son, brothers) or a sentence joining them.
        a, b = characters[stat.a], characters[stat.b]
        family = SURNAME_BONUS if same_surname(a.names, b.names) else 1.0
        ties = pattern_weight(stat.locations, ws.store, a.names, b.names, samples=ws.samples)
        return family * (1.0 + PATTERN_BONUS * min(ties, PATTERN_CAP))

    per_person = max(1, round((share_of or limit) * PER_PERSON_SHARE))
    return top_pairs(ws.pair_stats, limit, bonus=bonus, per_person=per_person)


def evolves(stat) -> bool:
    """Whether a pair is worth an evolution question (see EVOLUTION_MIN_*)."""
    return (
        stat.count >= EVOLUTION_MIN_MEETINGS
        and len(stat.chapters) >= EVOLUTION_MIN_CHAPTERS
        and stat.last - stat.first + 1 >= EVOLUTION_MIN_SPAN
    )


class _Questions:
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


def _pair_tasks(novel: Novel, ws: Workspace, questions: _Questions, alone: int) -> list[LLMTask]:
    """A question per pair, asking the timeline too for the pairs that meet over a long stretch;
    a pair whose relation a person set gets only the timeline question. The `alone` best pairs
    (the pair stage made them in rank order) have a request each, the rest are asked in groups
    (graph/grouping.py), pairs that share person A together."""
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
    for group in grouping.chunks(tail, lambda member: member[2]["character"].pk):
        tasks.append(_group_task(questions, group))
    return tasks


def _group_task(questions: _Questions, group: list[tuple]) -> LLMTask:
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
    novel: Novel, ws: Workspace, questions: _Questions, count: int
) -> list[LLMTask]:
    """An attribute question for each of the `count` most mentioned characters."""
    mentions: dict[int, list] = {}
    for chapter, paragraph, keys in ws.index.paragraphs:
        for key in keys:
            mentions.setdefault(key, []).append((chapter, paragraph))
    tasks = []
    for character in novel.characters.order_by("-mention_count", "rank")[:count]:
        snippets = ws.evidence(mentions.get(character.pk, []), character.names)
        ask = prompts.Question(prompts.ATTRIBUTE, character.names, [], snippets)
        tasks.append(questions.task(ask, character.name, character.pk, character=character))
    return tasks


def build_tasks(novel: Novel, ws: Workspace, progress: Progress) -> None:
    questions = _Questions(novel)
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
    both = sum(1 for t in grouping.expand(tasks) if t.question.get("timeline"))
    groups = [t for t in tasks if grouping.is_grouped(t)]
    together = sum(len(grouping.members_of(t)) for t in groups)
    progress.line(
        f"任务生成完成：关系 {counts['relation']}（{together} 对合并在 {len(groups)} 个请求中；"
        f"{both} 对同时问演变）、"
        f"演变 {counts['evolution']}、属性 {counts['attribute']}"
    )


# The local stages, by the stage each one finishes (run in the order Novel.Stage declares).
STAGES = {
    Novel.Stage.CHARACTERS: ("识别人物", find_characters),
    Novel.Stage.PAIRS: ("统计共现", find_pairs),
    Novel.Stage.TASKS: ("生成任务", build_tasks),
}


def latest_version(novel: Novel) -> NovelVersion | None:
    return novel.versions.order_by("-number").first()


def local_stages(novel: Novel) -> tuple[dict, Workspace]:
    """The local stages and their workspace: an update's when the novel's latest version
    extended it (graph/updates.py), else the whole book's."""
    version = latest_version(novel)
    if version is not None and version.is_update:
        from graph import updates  # updates builds on this module

        return updates.STAGES, updates.UpdateWorkspace(novel, version)
    return STAGES, Workspace(novel)


def prepare(novel: Novel, progress: Progress) -> None:
    """Run the local stages that are not finished yet: characters, pairs, tasks."""
    stages, ws = local_stages(novel)
    for stage in Novel.RESTARTABLE:
        label, step = stages[stage]
        if not novel.reached(stage):
            progress.line(f"▶ {label}…")
            step(novel, ws, progress)


def restart_from(novel: Novel, stage: str) -> None:
    """Forget `stage` and everything after it, so the next run redoes them. What a person edited
    stays: locked aliases, manual relations and attributes (and the characters they belong to)."""
    previous = Novel.Stage.values[Novel.stage_index(stage) - 1]
    if not novel.reached(stage):
        return
    version = latest_version(novel)
    if version is not None and version.is_update:
        from graph import updates

        updates.restart_from(novel, version, previous)
        return
    with transaction.atomic():
        novel.tasks.all().delete()
        if Novel.stage_index(stage) <= Novel.stage_index(Novel.Stage.PAIRS):
            novel.relations.exclude(origin=Origin.MANUAL).delete()
        novel.reopen(previous)


def summary(novel: Novel) -> dict:
    types = Counter(novel.relations.values_list("type", flat=True))
    return {
        "chapters": novel.chapters.count(),
        "characters": novel.characters.count(),
        "pairs": novel.relations.count(),
        "types": {taxonomy.label(code): n for code, n in types.most_common()},
    }
