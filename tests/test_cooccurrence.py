"""Pair statistics, the pair score, and evidence that is spread over the book and within budget."""

import pytest

from graph import prompts
from graph.cooccurrence import (
    ParagraphStore,
    estimate_tokens,
    evolution_evidence,
    pair_statistics,
    select_evidence,
    top_pairs,
)

A, B = ["沈青锋", "青锋"], ["杜云起"]


def book(chapters: int = 30, filler: int = 3) -> list[tuple[int, str]]:
    """Every chapter: a few plain paragraphs where both meet, one of them with a relation cue."""
    out = []
    for number in range(1, chapters + 1):
        paragraphs = [
            f"第{number}日，沈青锋和杜云起走过第{i}座桥，看了看天色。" for i in range(filler)
        ]
        paragraphs.append(f"沈青锋与杜云起联手退敌，二人并肩而行，这是第{number}回。")
        out.append((number, "\n".join(paragraphs)))
    return out


def locations(chapters) -> list[tuple[int, int]]:
    return [
        (number, index)
        for number, body in chapters
        for index, paragraph in enumerate(body.split("\n"))
        if "沈青锋" in paragraph and "杜云起" in paragraph
    ]


def test_evidence_is_spread_over_early_middle_and_late_chapters():
    chapters = book()
    snippets = select_evidence(
        locations(chapters), ParagraphStore(chapters), A, B, budget_tokens=1500
    )
    picked = [s.chapter for s in snippets]
    assert picked == sorted(picked)
    assert any(c <= 10 for c in picked)
    assert any(11 <= c <= 20 for c in picked)
    assert any(c >= 21 for c in picked)


def test_evidence_prefers_snippets_that_show_a_relation():
    chapters = book(chapters=3, filler=6)
    snippets = select_evidence(
        locations(chapters), ParagraphStore(chapters), A, B, budget_tokens=1500, max_snippets=3
    )
    assert all("联手" in s.text for s in snippets)


def test_a_snippet_is_a_short_window_around_the_two_names():
    long = "风雨大作。" * 100 + "沈青锋拜杜云起为师。" + "山路难行。" * 100
    chapters = [(1, long)]
    (snippet,) = select_evidence([(1, 0)], ParagraphStore(chapters), A, B, budget_tokens=1500)
    assert "沈青锋拜杜云起为师" in snippet.text
    assert len(snippet.text) <= 170


@pytest.mark.parametrize("budget", [500, 800, 1500, 3000])
@pytest.mark.parametrize("kind", [prompts.RELATION, prompts.EVOLUTION])
def test_a_request_stays_within_the_token_budget(budget, kind):
    chapters = [(n, "沈青锋与杜云起交手。" + "剑光如雪，" * 60) for n in range(1, 80)]
    snippets = select_evidence(
        [(n, 0) for n, _ in chapters],
        ParagraphStore(chapters),
        A,
        B,
        budget_tokens=budget,
        max_snippets=10,
        spread=6,
    )
    build = prompts.relation_request if kind == prompts.RELATION else prompts.evolution_request
    body = build("青锋录", A, B, snippets, model="glm-4-flash", max_tokens=512)
    assert snippets
    assert sum(estimate_tokens(m["content"]) for m in body["messages"]) <= budget


def test_an_attribute_request_stays_within_the_token_budget():
    chapters = [(n, "林晚照提剑而立，" + "她的剑法清冷，" * 50) for n in range(1, 60)]
    snippets = select_evidence(
        [(n, 0) for n, _ in chapters], ParagraphStore(chapters), ["林晚照"], budget_tokens=1000
    )
    body = prompts.attribute_request("青锋录", ["林晚照"], snippets, model="m", max_tokens=1)
    assert snippets
    assert sum(estimate_tokens(m["content"]) for m in body["messages"]) <= 1000


def test_pair_statistics_count_meetings_chapters_and_parts_of_the_book():
    paragraphs = [(1, 0, frozenset("ab")), (5, 2, frozenset("abc")), (9, 1, frozenset("ab"))]
    stats = pair_statistics(paragraphs)
    ab = stats[("a", "b")]
    assert (ab.count, ab.first, ab.last, ab.chapters) == (3, 1, 9, {1, 5, 9})
    assert ab.parts_met(9) == 3
    assert stats[("a", "c")].count == 1


def test_a_minor_pair_that_only_meets_each_other_outranks_a_hub_pair_with_more_meetings():
    paragraphs = []
    for i, partner in enumerate("bcdefghij"):  # the hero meets everyone, seven times each
        paragraphs += [(i * 7 + k + 1, 0, frozenset({"H", partner})) for k in range(7)]
    paragraphs += [(k * 10 + 1, 1, frozenset({"P", "Q"})) for k in range(6)]  # father and son
    chosen = top_pairs(pair_statistics(paragraphs), 3)
    assert ("P", "Q") in [(s.a, s.b) for s in chosen]


def test_a_name_bonus_lifts_a_pair_and_a_cap_keeps_a_hub_from_taking_every_slot():
    paragraphs = []
    for i, partner in enumerate("bcdefghij"):
        paragraphs += [(i * 7 + k + 1, 0, frozenset({"H", partner})) for k in range(7)]
    paragraphs += [(k * 10 + 1, 1, frozenset({"P", "Q"})) for k in range(2)]
    stats = pair_statistics(paragraphs)
    assert ("P", "Q") not in [(s.a, s.b) for s in top_pairs(stats, 3)]
    lifted = top_pairs(stats, 3, bonus=lambda s: 50.0 if s.a == "P" else 1.0)
    assert ("P", "Q") in [(s.a, s.b) for s in lifted]
    capped = top_pairs(stats, 5, per_person=2)
    assert sum("H" in (s.a, s.b) for s in capped) == 2


def test_every_person_keeps_the_partner_they_meet_most_in_place_of_the_weakest_pair():
    paragraphs, chapter = [], 0
    for pair, meetings in {"AB": 10, "AC": 9, "AD": 8, "BC": 7, "BD": 6, "CD": 5}.items():
        for _ in range(meetings):
            chapter += 1
            paragraphs.append((chapter, 0, frozenset(pair)))
    paragraphs += [(99, 1, frozenset("AV")), (99, 2, frozenset("AV"))]  # a one-episode villain
    paragraphs += [(98, 1, frozenset("BW")), (97, 1, frozenset("CW"))]  # met once each: no say
    stats = pair_statistics(paragraphs)
    plain = [(s.a, s.b) for s in top_pairs(stats, 5)]
    assert ("A", "V") not in plain and len(plain) == 5
    everyone = [(s.a, s.b) for s in top_pairs(stats, 5, everyone=True)]
    assert len(everyone) == 5 and everyone[-1] == ("A", "V")  # asked last: in the grouped tail
    assert everyone[:4] == plain[:4]  # the weakest pair made room
    assert not any("W" in pair for pair in everyone)


def test_evolution_evidence_covers_both_ends_of_the_pairs_span():
    chapters = book(chapters=60, filler=2)
    met = [loc for loc in locations(chapters) if 20 <= loc[0] <= 50]
    snippets = evolution_evidence(met, ParagraphStore(chapters), A, B, budget_tokens=1500)
    picked = [s.chapter for s in snippets]
    assert picked == sorted(picked)
    assert any(c <= 30 for c in picked) and any(c >= 40 for c in picked)


def test_a_pair_that_meets_within_one_part_of_the_book_still_gets_an_evolution_question():
    from graph.questions import evolves

    paragraphs = [(c, 0, frozenset("ab")) for c in (92, 95, 99, 104)]
    assert evolves(pair_statistics(paragraphs)[("a", "b")])
    assert not evolves(pair_statistics([(7, i, frozenset("ab")) for i in range(9)])[("a", "b")])
