"""The pipeline: file → chapters → characters → pairs → tasks → answers → graph. Every stage is
recorded on the Novel when it finishes, so running it again continues where it stopped."""

from __future__ import annotations

from collections import Counter
from functools import cached_property

from django.conf import settings
from django.db import transaction

from graph import budget, prompts, tallies, taxonomy
from graph.cooccurrence import (
    MIN_SHORTLIST,
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
from graph.models import Character, Novel, NovelVersion, Origin, Relation
from graph.names import same_surname
from graph.progress import Progress
from graph.questions import build_tasks, evolves

NAME_CHARS = 64  # Character.name
PAIR_STAT_FIELDS = ["cooccurrence", "first_chapter", "last_chapter", "snippets"]
# Pair choice (tuned on the three gold classics with one setting; see find_pairs).
SURNAME_BONUS = 5.0
PATTERN_BONUS = 2 / 3  # per unit of construction weight (a "X之子Y" weighs 3)
PATTERN_CAP = 12.0
PER_PERSON_SHARE = 0.15  # of the pair limit one person may take
# Meetings read per candidate pair when choosing pairs, and the fewest for large budgets.
PAIR_SAMPLES, MIN_SAMPLES = 12, 6


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
    def places(self) -> dict[int, list]:
        """Where each character is named: (chapter, paragraph) locations."""
        return places_of(self.index)

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

    def evidence(self, locations, names_a, names_b=(), share: int = 1, tokens=None) -> list:
        """A request's snippets for one person or a pair (see cooccurrence.select_evidence);
        `share`: the subjects one request asks about (each gets its part of the budget and of
        the candidates fully ranked); `tokens`: the request's budget when it is not that (an
        update's new chapters)."""
        return select_evidence(
            locations, self.store, names_a, names_b,
            budget_tokens=tokens or self.budget // share, shortlist=self.shortlist_of(share),
        )  # fmt: skip

    def timeline(self, locations, names_a, names_b, share: int = 1, tokens=None) -> list:
        """An evolution request's snippets across the pair's span (see evolution_evidence)."""
        return evolution_evidence(
            locations, self.store, names_a, names_b,
            budget_tokens=tokens or self.budget // share, shortlist=self.shortlist_of(share),
        )  # fmt: skip

    def shortlist_of(self, share: int) -> int:
        """Candidates fully ranked for a subject that gets 1/`share` of a request: a grouped
        pair's few snippets are picked from fewer (the ranking is spent per request)."""
        return max(MIN_SHORTLIST, self.shortlist // share)

    @cached_property
    def samples(self) -> int:
        """Meetings read per candidate pair when choosing pairs (fewer when there are many)."""
        return max(MIN_SAMPLES, PAIR_SAMPLES * self.shortlist // SHORTLIST)

    @cached_property
    def shortlist(self) -> int:
        """Candidates fully ranked per question (fewer when the novel gets many questions)."""
        return shortlist_for(budget.requests_for(self.novel.char_count), budget.MIN_REQUESTS)


def places_of(*indexes) -> dict[int, list]:
    """Each character's (chapter, paragraph) locations in the scans `indexes`, in their order."""
    found: dict[int, list] = {}
    for index in indexes:
        for chapter, paragraph, keys in index.paragraphs:
            for key in keys:
                found.setdefault(key, []).append((chapter, paragraph))
    return found


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
        a, b = ordered(characters[stat.a], characters[stat.b])
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
        relation.snippets = prompts.stored_snippets(snippets)
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


def ordered(a: Character, b: Character) -> tuple[Character, Character]:
    """A pair's two people, the more important first, so a rebuild orients every pair the same
    way."""
    return (a, b) if (a.rank, a.pk) <= (b.rank, b.pk) else (b, a)


def ranked_pairs(ws: Workspace, limit: int, share_of: int = 0) -> list:
    """The `limit` pairs worth a question, best first (see cooccurrence.top_pairs), no person
    taking more than a share of `share_of` (default: of `limit`)."""
    characters = ws.characters

    def bonus(stat) -> float:
        # What the names say: one surname (father and son, brothers) or a sentence joining them.
        # Read in the order find_pairs reads the pair's evidence, so the snippets read here are
        # remembered for it (cues.relation_signals).
        a, b = ordered(characters[stat.a], characters[stat.b])
        family = SURNAME_BONUS if same_surname(a.names, b.names) else 1.0
        ties = pattern_weight(stat.locations, ws.store, a.names, b.names, samples=ws.samples)
        return family * (1.0 + PATTERN_BONUS * min(ties, PATTERN_CAP))

    per_person = max(1, round((share_of or limit) * PER_PERSON_SHARE))
    return top_pairs(ws.pair_stats, limit, bonus=bonus, per_person=per_person, everyone=True)


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
