"""How many questions a novel gets, and of which kind: a request budget that scales with the
novel's length, spent where it tells most.

- attribute questions for every character the text mentions often enough (at most a share);
- a relation question for each pair the rest allows, pairs ranked by how much they are likely to
  matter (every person's most frequent partners among them, see cooccurrence.with_partners): the
  stronger pairs one request each, the tail (GROUPED_SHARE of those requests) GROUP_SIZE pairs a
  request (graph/grouped_questions.py), each with that share of the evidence; for the pairs that
  meet over a long stretch of their own, the same request asks the evolution question too, with
  evidence drawn from across that stretch (one request per pair: a timeline costs no pair its
  question).

Each request's input is bounded by EVIDENCE_TOKEN_BUDGET, so the tokens follow the requests:
2,000 requests of at most 1,500 tokens stay under 3 M. The plan is a pure function of counts, so
the pair stage and the task stage compute the same one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

REQUESTS_PER_MILLION_CHARS = 390  # the 5M-character benchmark input (5.03 M) → 1,963 requests
MIN_REQUESTS = (
    450  # never fewer than the fixed plan before it (200 pairs, 200 timelines, 50 people)
)
ATTRIBUTE_SHARE = 0.2  # of the budget, at most, for attribute questions
# Of an update's budget, at most, for evolution questions (graph/updates.py): a continued timeline
# is a request of its own there.
EVOLUTION_SHARE = 0.25
ATTRIBUTE_MIN_MENTIONS = 20  # a character mentioned less is not worth an attribute question
MIN_RELATIONS = 1
# Of the pair requests, the share that asks the lowest-ranked pairs GROUP_SIZE at a time.
GROUPED_SHARE = 0.3
GROUP_SIZE = 5


@dataclass(frozen=True)
class Plan:
    total: int
    attributes: int
    attribute_floor: int  # mentions of the least mentioned character asked about

    @property
    def requests(self) -> int:
        """Requests for pair questions: what attributes leave."""
        return max(MIN_RELATIONS, self.total - self.attributes)

    @property
    def grouped(self) -> int:
        """Pair requests that ask GROUP_SIZE pairs each (the tail of the ranking)."""
        return int(self.requests * GROUPED_SHARE)

    @property
    def alone(self) -> int:
        """Pairs asked one request each (the strongest)."""
        return self.requests - self.grouped

    @property
    def pairs(self) -> int:
        """Pairs asked about, alone or in groups."""
        return self.alone + GROUP_SIZE * self.grouped


def requests_for(char_count: int) -> int:
    """The novel's request budget: LLM_REQUEST_BUDGET, or scaled to its length."""
    if settings.LLM_REQUEST_BUDGET:
        return settings.LLM_REQUEST_BUDGET
    return max(MIN_REQUESTS, round(REQUESTS_PER_MILLION_CHARS * char_count / 1_000_000))


def plan(char_count: int, mention_counts: Sequence[int]) -> Plan:
    """The split of the budget, from the characters' mention counts."""
    total = requests_for(char_count)
    asked = sorted((m for m in mention_counts if m >= ATTRIBUTE_MIN_MENTIONS), reverse=True)
    attributes = min(len(asked), int(total * ATTRIBUTE_SHARE))
    floor = asked[attributes - 1] if attributes else 0
    return Plan(total, attributes, floor)


def describe(novel) -> list[str]:
    """How the novel's budget was spent, for `upload_novel --dry-run`: a line per kind."""
    from django.db.models import Min

    from graph.models import LLMTask

    total = requests_for(novel.char_count)
    how = "由 LLM_REQUEST_BUDGET 设定" if settings.LLM_REQUEST_BUDGET else (
        f"按篇幅自动：{novel.char_count / 10_000:.0f} 万字 × 每百万字 {REQUESTS_PER_MILLION_CHARS} 个，至少 {MIN_REQUESTS} 个"
    )  # fmt: skip
    tasks = novel.tasks.all()
    kinds = {kind: tasks.filter(kind=kind) for kind in LLMTask.Kind.values}
    weakest = kinds["relation"].aggregate(least=Min("relation__cooccurrence"))["least"]
    floor = kinds["attribute"].aggregate(least=Min("character__mention_count"))["least"]
    used = tasks.count()
    asked = list(kinds["relation"].values_list("question", flat=True))
    members = [m for q in asked for m in q.get("group") or [q]]
    both = sum(1 for q in members if q.get("timeline"))
    groups = [q for q in asked if q.get("group")]
    grouped = sum(len(q["group"]) for q in groups)
    relations = novel.relations.filter(
        pk__in=[m.get("relation") for q in groups for m in q["group"]]
    )
    weakest = min(
        filter(None, [weakest, relations.aggregate(least=Min("cooccurrence"))["least"]]), default=0
    )
    lines = [
        f"请求预算 {total} 个（{how}），本次用 {used} 个",
        f"  关系问题 {len(asked)} 个，问 {len(members)} 对人物：按重要程度排序，截止处的一对同段共现 {weakest} 次",
        f"    单独提问 {len(members) - grouped} 对（一对一个请求），合并提问 {grouped} 对"
        f"（{len(groups)} 个请求，每个最多 {GROUP_SIZE} 对，排序靠后的人物对）",
        f"    其中 {both} 对同时问关系演变：相遇跨越较长章节的人物对（一次请求问两件事）",
    ]
    if kinds["evolution"].exists():
        lines.append(f"  演变问题 {kinds['evolution'].count()} 个：关系已由人工设定的人物对")
    lines.append(
        f"  属性问题 {kinds['attribute'].count()} 个：提及 ≥ {floor or ATTRIBUTE_MIN_MENTIONS} 次的人物"
    )
    return lines
