"""Request bodies, reading them back, and parsing what real models reply."""

import json

import pytest

from graph import prompts, replies
from graph.prompts import Snippet
from graph.replies import ReplyError
from tests.offline_model import answer, read_request

SNIPPETS = [
    Snippet(2, "沈青锋跪下拜师，陆玄机收他为徒。"),
    Snippet(5, "陆玄机对徒弟沈青锋说：剑要慢。"),
]


def relation_body():
    return prompts.relation_request(
        "青锋录",
        ["沈青锋", "青锋"],
        ["陆玄机", "玄机子"],
        SNIPPETS,
        model="glm-4-flash",
        max_tokens=256,
    )


def test_a_relation_request_is_a_full_chat_completion_body():
    body = relation_body()
    assert body["model"] == "glm-4-flash"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    user = body["messages"][1]["content"]
    assert "师徒" in user and "敌对" in user and "共现" in user
    assert "【片段1｜第2章】沈青锋跪下拜师" in user


def test_the_emulators_model_reads_names_and_snippets_back_from_a_body():
    facts = read_request(relation_body())
    assert facts.kind == prompts.RELATION
    assert facts.names_a == ["沈青锋", "青锋"]
    assert facts.names_b == ["陆玄机", "玄机子"]
    assert facts.snippets == SNIPPETS


@pytest.mark.parametrize("kind", [prompts.RELATION, prompts.EVOLUTION, prompts.ATTRIBUTE])
def test_a_rendered_question_reads_back_as_the_same_question(kind):
    question = prompts.Question(
        kind, ["甲乙", "小乙"], [] if kind == prompts.ATTRIBUTE else ["丙丁"], SNIPPETS
    )
    body = prompts.request_body("书", question, model="m", max_tokens=1)
    assert read_request(body) == question
    assert prompts.Question.from_json(question.to_json()) == question


@pytest.mark.parametrize(
    "reply",
    [
        '{"type": "师徒", "direction": "b->a", "confidence": 0.9, "evidence": "拜师"}',
        '```json\n{"type": "师徒", "direction": "b->a", "confidence": 0.9, "evidence": "拜师"}\n```',
        '根据片段分析，结果如下：\n{"type": "师徒", "direction": "B->A", "confidence": 0.9}\n希望对你有帮助。',
        "{“type”：“师徒”，“direction”：“b->a”，“confidence”：0.9}",
        '{"type": "师徒关系", "direction": "b→a", "confidence": "90%"}',
    ],
)
def test_it_accepts_what_real_models_return(reply):
    result = replies.parse_reply(prompts.RELATION, reply)
    assert result["type"] == "master"
    assert result["direction"] == "b->a"
    assert result["confidence"] == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("夫妻", "lovers"),
        ("朋友关系", "ally"),
        ("君臣", "lord"),
        ("敌人", "enemy"),
        ("结拜兄弟", "sworn"),
        ("师兄弟", "fellow"),
        ("父子", "kin"),
        ("ally", "ally"),
        ("师生", "master"),
        ("君主与臣子", "lord"),
        ("对立", "enemy"),
        ("无明确关系", "cooccur"),
    ],
)
def test_it_maps_labels_written_slightly_differently(label, code):
    assert replies.relation_code(label) == code


# Replies as real models write them: each must parse to 师徒 with B (陆玄机) the master.
ACCEPTED_RELATION_REPLIES = {
    "code fence without a language": '```\n{"type": "师徒", "direction": "b->a", "confidence": 0.9}\n```',
    "prose with braces before the JSON": (
        '分析{片段1}和{片段2}可知：{"type": "师徒", "direction": "b->a", "confidence": 0.9}'
    ),
    "trailing prose with a brace": (
        '{"type": "师徒", "direction": "b->a", "confidence": 0.9}\n（注：{不确定}）'
    ),
    "single quotes": "{'type': '师徒', 'direction': 'b->a', 'confidence': 0.9}",
    "trailing commas": '{"type": "师徒", "direction": "b->a", "confidence": 0.9,}',
    "Python literals": '{"type": "师徒", "direction": "b->a", "confidence": 0.9, "sure": True, "note": None}',
    "a // comment": '{"type": "师徒", // 拜师\n "direction": "b->a", "confidence": 0.9}',
    "the same object twice": (
        '{"type": "师徒", "direction": "b->a", "confidence": 0.9}\n'
        '最终答案：{"type": "师徒", "direction": "b->a", "confidence": 0.9}'
    ),
    "nested result object": '{"result": {"type": "师徒", "direction": "b->a", "confidence": 0.9}}',
    "a list holding one object": '[{"type": "师徒", "direction": "b->a", "confidence": 0.9}]',
    "Chinese keys": '{"类型": "师徒", "方向": "b->a", "置信度": 0.9, "依据": "拜师"}',
    "label in a one-item list": '{"type": ["师徒"], "direction": "b->a", "confidence": 0.9}',
    "label with a note in brackets": '{"type": "师徒（传授剑法）", "direction": "B -> A", "confidence": 0.9}',
    "English label": '{"type": "teacher", "direction": "b=>a", "confidence": 0.9}',
    "JSON encoded twice": '"{\\"type\\": \\"师徒\\", \\"direction\\": \\"b->a\\", \\"confidence\\": 0.9}"',
    "fullwidth brackets": "｛“type”：“师徒”，“direction”：“b->a”，“confidence”：0.9｝",
}


@pytest.mark.parametrize("reply", ACCEPTED_RELATION_REPLIES.values(), ids=ACCEPTED_RELATION_REPLIES)
def test_it_accepts_the_slips_real_models_make(reply):
    result = replies.parse_reply(prompts.RELATION, reply)
    assert (result["type"], result["direction"]) == ("master", "b->a")
    assert result["confidence"] == pytest.approx(0.9)


REJECTED_RELATION_REPLIES = {
    "empty": "",
    "a refusal": "抱歉，我无法回答这个问题。",
    "unknown label": '{"type": "外星人"}',
    "no type": '{"direction": "a->b"}',
    "list of numbers": "[1, 2]",
    "truncated": '{"type": ',
    "truncated after the type": '{"type": "师徒", "direction": "b->a", "confid',
    "two conflicting objects": '{"type": "师徒"}\n不对，应为：{"type": "敌对"}',
    "two types in one label": '{"type": "师徒/主仆", "direction": "a->b"}',
    "type is a number": '{"type": 3}',
    "type is null": '{"type": null, "direction": "a->b"}',
    "only prose with braces": "他们的关系是{师徒}。",
}


@pytest.mark.parametrize("reply", REJECTED_RELATION_REPLIES.values(), ids=REJECTED_RELATION_REPLIES)
def test_it_rejects_replies_it_cannot_trust(reply):
    with pytest.raises(ReplyError):
        replies.parse_reply(prompts.RELATION, reply)


@pytest.mark.parametrize(
    ("written", "number"),
    [("第三章", 3), ("第十二回", 12), ("三十五", 35), ("一百零八回", 108), ("第20章", 20), (7, 7)],
)
def test_it_reads_chapter_numbers_written_in_chinese(written, number):
    reply = json.dumps({"phases": [{"from": written, "to": written, "type": "盟友"}]})
    assert replies.parse_reply(prompts.EVOLUTION, reply)["phases"][0]["from"] == number


def test_a_phase_written_backwards_is_turned_round():
    reply = '{"phases": [{"from": 12, "to": 9, "type": "敌对", "event": "反目"}]}'
    (phase,) = replies.parse_reply(prompts.EVOLUTION, reply)["phases"]
    assert (phase["from"], phase["to"]) == (9, 12)


def test_a_bare_list_of_phases_is_accepted():
    reply = '[{"from": 1, "to": 4, "type": "盟友"}, {"from": 5, "to": 9, "type": "敌对"}]'
    phases = replies.parse_reply(prompts.EVOLUTION, reply)["phases"]
    assert [p["type"] for p in phases] == ["ally", "enemy"]


@pytest.mark.parametrize(
    "reply",
    [
        '{"phases": []}',
        '{"phases": [{"from": 1, "to": 4, "type": "外星人"}]}',
        '{"phases": [{"from": 1, "to": 4}]}',
        '{"phases": [{"from": "开头", "to": 4, "type": "盟友"}]}',
        '{"phases": [{"from": 1, "to": 4, "type": "盟友"}, ',
        '{"phases": "盟友然后敌对"}',
    ],
    ids=["empty", "unknown label", "no type", "no chapter", "truncated", "phases as text"],
)
def test_it_rejects_evolution_replies_it_cannot_trust(reply):
    with pytest.raises(ReplyError):
        replies.parse_reply(prompts.EVOLUTION, reply)


def test_an_undirected_type_has_no_direction():
    result = replies.parse_reply(prompts.RELATION, '{"type": "盟友", "direction": "a->b"}')
    assert result["direction"] == "none"


def test_it_merges_consecutive_equal_phases_and_orders_them():
    reply = (
        '{"phases": [{"from": 9, "to": 12, "type": "敌对", "event": "反目"},'
        ' {"from": "第1章", "to": "第4章", "type": "盟友", "event": "联手"},'
        ' {"from": 5, "to": 8, "type": "朋友", "event": "同行"}]}'
    )
    phases = replies.parse_reply(prompts.EVOLUTION, reply)["phases"]
    assert [(p["from"], p["to"], p["type"]) for p in phases] == [(1, 8, "ally"), (9, 12, "enemy")]


def test_an_evolution_reply_without_phases_is_rejected():
    with pytest.raises(ReplyError):
        replies.parse_reply(prompts.EVOLUTION, '{"type": "盟友"}')


def test_it_parses_attributes_and_splits_an_alias_string():
    reply = '{"gender": "男", "identity": "剑客", "faction": "", "abilities": "剑法", "traits": "", "aliases": "青锋、白衣剑客"}'
    result = replies.parse_reply(prompts.ATTRIBUTE, reply)
    assert result["gender"] == "男"
    assert result["aliases"] == ["青锋", "白衣剑客"]


def test_defaults_are_fresh_copies():
    default = replies.default_result(prompts.EVOLUTION)
    default["phases"].append(1)
    assert replies.default_result(prompts.EVOLUTION) == {"phases": []}


def test_offline_rules_answer_in_the_shape_the_parser_accepts():
    result = replies.parse_reply(prompts.RELATION, answer(relation_body()))
    assert result["type"] == "master"
    assert result["direction"] == "b->a"  # B (陆玄机) is the master


def test_offline_rules_find_a_change_from_allies_to_enemies():
    snippets = [
        Snippet(2, "杜云起与沈青锋联手退敌，二人并肩作战。"),
        Snippet(4, "沈青锋和杜云起结伴同行，彼此相助，成了同伴。"),
        Snippet(9, "杜云起背叛了沈青锋，二人反目成仇。"),
        Snippet(12, "沈青锋与杜云起交手，仇敌相见，一场厮杀。"),
    ]
    body = prompts.evolution_request(
        "青锋录", ["沈青锋"], ["杜云起"], snippets, model="m", max_tokens=1
    )
    phases = replies.parse_reply(prompts.EVOLUTION, answer(body))["phases"]
    assert [p["type"] for p in phases] == ["ally", "enemy"]
    assert phases[0]["from"] == 2 and phases[1]["from"] == 9


def test_attributes_accept_chinese_keys_and_a_list_for_a_text_field():
    reply = '{"性别": "女", "身份": "丫鬟", "本领": ["针线", "诗"], "别名": ["晴雯姐姐"]}'
    result = replies.parse_reply(prompts.ATTRIBUTE, reply)
    assert (result["gender"], result["identity"], result["abilities"]) == ("女", "丫鬟", "针线、诗")
    assert result["aliases"] == ["晴雯姐姐"]


def test_an_attribute_reply_with_nothing_in_it_is_rejected():
    with pytest.raises(ReplyError):
        replies.parse_reply(prompts.ATTRIBUTE, '{"gender": "", "aliases": []}')


def test_a_relation_question_with_a_timeline_asks_both_in_one_request():
    question = prompts.Question(prompts.RELATION, ["沈青锋"], ["杜云起"], SNIPPETS, timeline=True)
    assert prompts.Question.from_json(question.to_json()) == question
    assert "timeline" not in prompts.Question(prompts.RELATION, ["甲"], ["乙"]).to_json()
    body = prompts.request_body("青锋录", question, model="m", max_tokens=1)
    user = body["messages"][1]["content"]
    assert '"direction"' in user and '"phases"' in user and "如何变化" in user
    assert read_request(body) == question  # the emulator's model reads both questions back


def test_a_relation_reply_carries_its_timeline_and_keeps_the_relation_when_the_timeline_is_bad():
    reply = (
        '{"type": "敌对", "direction": "none", "confidence": 0.8, "evidence": "反目", "phases": '
        '[{"from": 9, "to": 12, "type": "敌对"}, {"from": 2, "to": 8, "type": "盟友"}]}'
    )
    result = replies.parse_reply(prompts.RELATION, reply)
    assert result["type"] == "enemy"
    assert [(p["from"], p["type"]) for p in result["phases"]] == [(2, "ally"), (9, "enemy")]
    broken = '{"type": "敌对", "direction": "none", "phases": [{"from": "开头", "type": "盟友"}]}'
    result = replies.parse_reply(prompts.RELATION, broken)
    assert result["type"] == "enemy" and "phases" not in result
    plain = replies.parse_reply(prompts.RELATION, '{"type": "盟友", "direction": "none"}')
    assert "phases" not in plain


def test_offline_rules_answer_the_timeline_asked_with_a_relation_question():
    snippets = [
        Snippet(2, "杜云起与沈青锋联手退敌，二人并肩作战。"),
        Snippet(4, "沈青锋和杜云起结伴同行，彼此相助，成了同伴。"),
        Snippet(9, "杜云起背叛了沈青锋，二人反目成仇。"),
        Snippet(12, "沈青锋与杜云起交手，仇敌相见，一场厮杀。"),
    ]
    question = prompts.Question(prompts.RELATION, ["沈青锋"], ["杜云起"], snippets, timeline=True)
    body = prompts.request_body("青锋录", question, model="m", max_tokens=1)
    result = replies.parse_reply(prompts.RELATION, answer(body))
    alone = prompts.evolution_request(
        "青锋录", ["沈青锋"], ["杜云起"], snippets, model="m", max_tokens=1
    )
    assert result["phases"] == replies.parse_reply(prompts.EVOLUTION, answer(alone))["phases"]
    assert [p["type"] for p in result["phases"]] == ["ally", "enemy"]
