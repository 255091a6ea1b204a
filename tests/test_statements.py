"""What the text states about names: the offline answers to the identity questions."""

import pytest

from graph import prompts, replies, taxonomy
from graph.llm import offline, statements
from graph.prompts import Question, Snippet


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("刘备，字玄德，涿郡人也。", ["刘备"], ["玄德"]),
        ("孔明号卧龙先生。", ["孔明"], ["卧龙先生"]),
        ("人称豹子头林冲的便是。", ["林冲"], ["豹子头"]),
        ("曹操号令三军，直取徐州。", ["曹操"], []),  # 号令 is an order, not a name
        ("林冲笑道：“好！”", ["林冲"], []),
    ],
)
def test_it_reads_the_other_names_a_sentence_gives(text, names, expected):
    assert statements.other_names(text, names) == expected


def test_the_offline_relation_answer_says_one_person_when_the_text_says_so():
    question = Question(
        prompts.RELATION, ["刘备"], ["玄德"], [Snippet(1, "刘备字玄德，涿郡人也。")]
    )
    result = replies.parse_reply(prompts.RELATION, offline.answer(question))
    assert result["type"] == taxonomy.SAME_PERSON


def test_the_offline_attribute_answer_names_what_the_text_states():
    question = Question(prompts.ATTRIBUTE, ["林冲"], [], [Snippet(7, "人称豹子头林冲，使一条枪。")])
    result = replies.parse_reply(prompts.ATTRIBUTE, offline.answer(question))
    assert "豹子头" in result["aliases"] and result["is_person"] is True


@pytest.mark.parametrize(
    "text",
    [
        "贾母又叫王夫人道：“你也不必哭了。”",
        "忙去禀知王夫人，即便回明贾母。",
        "贾母便是王夫人的婆婆。",
    ],
)
def test_two_names_side_by_side_do_not_make_one_person(text):
    assert not statements.states_same(text, ["贾母"], ["王夫人"])
