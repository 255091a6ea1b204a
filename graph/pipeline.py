"""The pipeline: file → chapters → characters → pairs → tasks → answers → graph. Every stage is
recorded on the Novel when it finishes, so running it again continues where it stopped."""

from __future__ import annotations

import hashlib
from collections import Counter
from functools import cached_property
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from graph import batches, prompts, results, taxonomy
from graph.answer import answer_offline, answer_realtime
from graph.cooccurrence import (
    ParagraphStore,
    evolution_evidence,
    pair_statistics,
    pattern_weight,
    request_tokens,
    select_evidence,
    top_pairs,
)
from graph.dbutil import bulk_set
from graph.entities import discover_characters, scan_mentions
from graph.llm.zhipu import client_from_settings
from graph.models import SETTLED, Chapter, Character, LLMTask, Mode, Novel, Origin, Relation
from graph.names import split_surname
from graph.progress import Progress
from graph.text import TextError, decode, split_chapters

MAX_FILE_BYTES = 200 * 1024 * 1024
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


def _surnames(names) -> set[str]:
    return {parts[0] for parts in map(split_surname, names) if parts}


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


def ingest(
    data: bytes, *, source_name: str, title: str | None = None, encoding: str | None = None
) -> tuple[Novel, bool]:
    """Store a novel and its chapters; the same bytes again return the stored novel (created=False)."""
    digest = hashlib.sha256(data).hexdigest()
    existing = Novel.objects.filter(sha256=digest).first()
    if existing:
        return existing, False
    try:
        text, used = decode(data, encoding)
        chapters = split_chapters(text)
    except TextError as exc:
        raise InputError(str(exc)) from None
    if not chapters:
        raise InputError("文件中没有可用的正文")
    now = timezone.now()
    try:
        with transaction.atomic():
            novel = Novel.objects.create(
                title=(title or Path(source_name).stem)[:200],
                sha256=digest,
                source_name=source_name[:255],
                encoding=used,
                char_count=len(text),
                stage=Novel.Stage.PARSED,
                parsed_at=now,
            )
            Chapter.objects.bulk_create(
                [
                    Chapter(novel=novel, number=c.number, title=c.title[:255], text=c.text)
                    for c in chapters
                ],
                batch_size=500,
            )
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


def find_characters(novel: Novel, ws: Workspace, progress: Progress) -> None:
    found = discover_characters(ws.chapters, limit=settings.GRAPH_CHARACTER_LIMIT)
    locked = list(novel.characters.filter(aliases_locked=True))
    taken = {name for c in locked for name in c.names}
    rows = []
    for rank, f in enumerate(found, 1):
        if f.name in taken or len(f.name) > 64:
            continue
        aliases = [a for a in f.aliases if a not in taken and len(a) <= 64]
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
        novel.characters.filter(aliases_locked=False).delete()
        Character.objects.bulk_create(rows, batch_size=500)
        novel.finish_stage(Novel.Stage.CHARACTERS)
    progress.line(f"人物识别完成：{len(rows) + len(locked)} 个人物")


def find_pairs(novel: Novel, ws: Workspace, progress: Progress) -> None:
    characters, index = ws.characters, ws.index
    for pk, character in characters.items():
        character.mention_count = index.counts.get(pk, 0)
        character.first_chapter = index.first.get(pk)
        character.last_chapter = index.last.get(pk)

    def bonus(stat) -> float:
        # What the names say: one surname (father and son, brothers) or a sentence joining them.
        a, b = characters[stat.a], characters[stat.b]
        family = SURNAME_BONUS if _surnames(a.names) & _surnames(b.names) else 1.0
        ties = pattern_weight(stat.locations, ws.store, a.names, b.names)
        return family * (1.0 + PATTERN_BONUS * min(ties, PATTERN_CAP))

    limit = settings.GRAPH_PAIR_LIMIT
    chosen = top_pairs(
        ws.pair_stats, limit, bonus=bonus, per_person=max(1, round(limit * PER_PERSON_SHARE))
    )
    relations = []
    for stat in chosen:
        # Person A is the more important one, so a rebuild orients every pair the same way.
        a, b = sorted((characters[stat.a], characters[stat.b]), key=lambda c: (c.rank, c.pk))
        snippets = select_evidence(
            stat.locations, ws.store, a.names, b.names, budget_tokens=settings.EVIDENCE_TOKEN_BUDGET
        )
        relations.append(
            Relation(
                novel=novel,
                source=a,
                target=b,
                pair_key=Relation.key_for(a.pk, b.pk),
                cooccurrence=stat.count,
                first_chapter=stat.first,
                last_chapter=stat.last,
                snippets=[{"chapter": s.chapter, "text": s.text} for s in snippets],
                type=taxonomy.DEFAULT_TYPE,
                origin=Origin.DEFAULT,
            )
        )
    with transaction.atomic():
        bulk_set(characters.values(), ["mention_count", "first_chapter", "last_chapter"])
        novel.relations.all().delete()
        Relation.objects.bulk_create(relations, batch_size=500)
        novel.finish_stage(Novel.Stage.PAIRS)
    progress.line(
        f"共现统计完成：{len(ws.pair_stats)} 对人物同段出现，选出 {len(relations)} 对送去分类"
    )


def evolves(stat) -> bool:
    """Whether a pair is worth an evolution question (see EVOLUTION_MIN_*)."""
    return (
        stat.count >= EVOLUTION_MIN_MEETINGS
        and len(stat.chapters) >= EVOLUTION_MIN_CHAPTERS
        and stat.last - stat.first + 1 >= EVOLUTION_MIN_SPAN
    )


def build_tasks(novel: Novel, ws: Workspace, progress: Progress) -> None:
    model, max_tokens, budget = (
        settings.LLM_MODEL,
        settings.LLM_MAX_TOKENS,
        settings.EVIDENCE_TOKEN_BUDGET,
    )
    tasks: list[LLMTask] = []

    def add(
        kind: str, subject: str, body: dict, *, relation=None, character=None, sid: int
    ) -> None:
        tasks.append(
            LLMTask(
                novel=novel,
                kind=kind,
                subject=subject[:140],
                request=body,
                relation=relation,
                character=character,
                custom_id=f"n{novel.pk}-{kind[0]}{sid}",
            )
        )

    for relation in novel.relations.select_related("source", "target"):
        a, b = relation.source, relation.target
        snippets = [prompts.Snippet(s["chapter"], s["text"]) for s in relation.snippets]
        subject = f"{a.name}—{b.name}"
        body = prompts.relation_request(
            novel.title, a.names, b.names, snippets, model=model, max_tokens=max_tokens
        )
        add(LLMTask.Kind.RELATION, subject, body, relation=relation, character=a, sid=relation.pk)
        stat = ws.pair_stats.get(frozenset((a.pk, b.pk)))
        if stat and evolves(stat):
            timeline = evolution_evidence(
                stat.locations, ws.store, a.names, b.names, budget_tokens=budget
            )
            body = prompts.evolution_request(
                novel.title, a.names, b.names, timeline, model=model, max_tokens=max_tokens
            )
            add(
                LLMTask.Kind.EVOLUTION,
                subject,
                body,
                relation=relation,
                character=a,
                sid=relation.pk,
            )

    mentions: dict[int, list] = {}
    for chapter, paragraph, keys in ws.index.paragraphs:
        for key in keys:
            mentions.setdefault(key, []).append((chapter, paragraph))
    main = novel.characters.order_by("-mention_count", "rank")[: settings.GRAPH_ATTRIBUTE_LIMIT]
    for character in main:
        snippets = select_evidence(
            mentions.get(character.pk, []), ws.store, character.names, budget_tokens=budget
        )
        body = prompts.attribute_request(
            novel.title, character.names, snippets, model=model, max_tokens=max_tokens
        )
        add(LLMTask.Kind.ATTRIBUTE, character.name, body, character=character, sid=character.pk)

    with transaction.atomic():
        novel.tasks.all().delete()
        LLMTask.objects.bulk_create(tasks, batch_size=500)
        novel.finish_stage(Novel.Stage.TASKS)
    counts = Counter(t.kind for t in tasks)
    progress.line(
        f"任务生成完成：关系 {counts['relation']}、演变 {counts['evolution']}、属性 {counts['attribute']}"
    )


STAGES = (
    (Novel.Stage.CHARACTERS, "识别人物", find_characters),
    (Novel.Stage.PAIRS, "统计共现", find_pairs),
    (Novel.Stage.TASKS, "生成任务", build_tasks),
)


def prepare(novel: Novel, progress: Progress) -> None:
    """Run the local stages that are not finished yet: characters, pairs, tasks."""
    ws = Workspace(novel)
    for stage, label, step in STAGES:
        if not novel.reached(stage):
            progress.line(f"▶ {label}…")
            step(novel, ws, progress)


def run(novel: Novel, *, mode: str, progress: Progress, client=None) -> None:
    """Run every unfinished stage and send what still needs an answer. Offline and realtime
    modes answer and apply at once; batch mode submits and leaves the rest to poll_batches."""
    prepare(novel, progress)
    if not novel.reached(Novel.Stage.DISPATCHED) or batches.sendable(novel).exists():
        dispatch(novel, mode=mode, progress=progress, client=client)
    if results.apply_if_settled(novel):
        progress.line("图谱已写入数据库")


def dispatch(novel: Novel, *, mode: str, progress: Progress, client=None) -> None:
    """Send every unanswered task of the novel (not already in a batch) the way `mode` says."""
    novel.mode = mode
    novel.save(update_fields=["mode"])
    if mode == Mode.OFFLINE:
        answer_offline(novel, progress)
    elif mode == Mode.BATCH:
        for job in batches.submit(novel, client or client_from_settings()):
            progress.line(
                f"已提交批处理 {job.remote_id}：{job.line_count} 个请求（本地副本 {job.input_path}）"
            )
    else:
        answer_realtime(novel, client or client_from_settings(), progress)
    if not novel.reached(Novel.Stage.DISPATCHED):
        novel.finish_stage(Novel.Stage.DISPATCHED)


def restart_from(novel: Novel, stage: str) -> None:
    """Forget `stage` and everything after it, so the next run redoes them (manual alias edits stay)."""
    order = [Novel.Stage.CHARACTERS, Novel.Stage.PAIRS, Novel.Stage.TASKS]
    previous = {
        Novel.Stage.CHARACTERS: Novel.Stage.PARSED,
        Novel.Stage.PAIRS: Novel.Stage.CHARACTERS,
        Novel.Stage.TASKS: Novel.Stage.PAIRS,
    }[stage]
    if novel.reached(previous) and novel.stage != previous:
        with transaction.atomic():
            novel.tasks.all().delete()
            if order.index(stage) <= order.index(Novel.Stage.PAIRS):
                novel.relations.all().delete()
            novel.stage = previous
            novel.applied_at = None
            novel.save(update_fields=["stage", "applied_at"])


def summary(novel: Novel) -> dict:
    types = Counter(novel.relations.values_list("type", flat=True))
    return {
        "chapters": novel.chapters.count(),
        "characters": novel.characters.count(),
        "pairs": novel.relations.count(),
        "types": {taxonomy.label(code): n for code, n in types.most_common()},
    }


def choose_mode(requested: str | None) -> tuple[str, str]:
    """The mode to use and a line to tell the user why, if it is not the one they might expect."""
    if requested == Mode.OFFLINE:
        return Mode.OFFLINE, ""
    if not settings.ZHIPUAI_API_KEY:
        return Mode.OFFLINE, "未设置 ZHIPUAI_API_KEY：使用离线规则构建图谱 (offline mode)"
    if requested:
        return requested, ""
    return (Mode.BATCH if settings.USE_BATCH_API_FOR_GRAPH else Mode.REALTIME), ""


def estimate(novel: Novel) -> dict[str, dict[str, int]]:
    """Requests and estimated input tokens per task kind, for the tasks still to send."""
    figures: dict[str, dict[str, int]] = {}
    for task in novel.tasks.exclude(status__in=SETTLED):
        entry = figures.setdefault(task.kind, {"requests": 0, "input_tokens": 0})
        entry["requests"] += 1
        entry["input_tokens"] += request_tokens(task.request)
    return figures
