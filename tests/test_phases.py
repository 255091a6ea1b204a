"""Timelines that read like a story, and an overall type that agrees with them."""

from graph import phases


def p(start, end, kind, event=""):
    return {"from": start, "to": end, "type": kind, "event": event}


def test_a_one_chapter_flip_flop_between_two_equal_phases_goes():
    story = phases.story([p(1, 9, "ally"), p(10, 10, "enemy"), p(11, 30, "ally")])
    assert [(x["from"], x["to"], x["type"]) for x in story] == [(1, 30, "ally")]


def test_two_phases_starting_in_one_chapter_leave_the_longer_one():
    story = phases.story([p(1, 1, "sworn"), p(1, 12, "enemy"), p(16, 16, "kin")])
    assert [(x["from"], x["to"], x["type"]) for x in story] == [(1, 15, "enemy"), (16, 16, "kin")]


def test_phases_cover_the_chapters_in_order_and_equal_neighbours_merge():
    story = phases.story(
        [
            p(10, 12, "enemy"),
            p(2, 4, "ally", "联手"),
            p(6, 7, "ally", "再次联手"),
            p(20, 20, "ally"),
        ]
    )
    assert [(x["from"], x["to"], x["type"]) for x in story] == [
        (2, 9, "ally"),
        (10, 19, "enemy"),
        (20, 20, "ally"),
    ]
    assert story[0]["event"] == "联手；再次联手"


def test_a_real_turn_of_one_chapter_stays_when_the_story_does_not_go_back():
    story = phases.story([p(1, 9, "ally"), p(10, 10, "enemy"), p(11, 30, "lord")])
    assert [x["type"] for x in story] == ["ally", "enemy", "lord"]


def test_the_dominant_type_is_the_typed_one_that_lasts_longest():
    assert phases.dominant([p(1, 3, "ally"), p(4, 40, "enemy"), p(41, 90, "cooccur")]) == "enemy"
    assert phases.dominant([p(1, 90, "cooccur")]) is None
