"""The request budget: scaled to the novel's length, never below the old fixed plan, split by kind."""

from graph import budget


def test_a_five_million_character_novel_stays_under_two_thousand_requests(settings):
    settings.LLM_REQUEST_BUDGET = 0
    assert budget.requests_for(5_032_466) <= 2000
    assert budget.requests_for(600_000) == budget.MIN_REQUESTS  # never fewer than before
    settings.LLM_REQUEST_BUDGET = 1200
    assert budget.requests_for(600_000) == 1200


def test_attribute_questions_go_to_characters_above_the_mention_floor(settings):
    settings.LLM_REQUEST_BUDGET = 100
    plan = budget.plan(1_000_000, [500, 300, 40, 19, 5] + [25] * 30)
    assert plan.attributes == 20  # the share caps it (33 characters are above the floor)
    assert plan.attribute_floor == 25
    assert plan.requests == 80  # a timeline is asked in the same request as its pair
    assert (plan.alone, plan.grouped) == (56, 24)  # the tail: five pairs a request
    assert plan.pairs == 56 + 5 * 24
    few = budget.plan(1_000_000, [500, 19, 3])
    assert few.attributes == 1 and few.requests == 100 - 1
