"""The offline rules: relation types and seniority from handcrafted snippets, phases in order."""

import re

import pytest

from graph import prompts, replies
from graph.cooccurrence import ParagraphStore, evolution_evidence
from graph.llm import offline
from graph.prompts import Snippet
from tests.conftest import SAMPLE
from tests.offline_model import answer, read_request


def ask(names_a, names_b, *texts) -> dict:
    snippets = [Snippet(i, text) for i, text in enumerate(texts, 1)]
    question = prompts.Question(prompts.RELATION, names_a, names_b, snippets)
    return replies.parse_reply(prompts.RELATION, offline.answer(question))


# (A, B, snippet, type, who is senior: "A", "B" or None)
CASES = {
    "拜X为师": ("沈青锋", "陆玄机", "沈青锋跪下拜陆玄机为师，磕了三个响头。", "master", "B"),
    "X收Y为徒": ("沈青锋", "陆玄机", "陆玄机当即收沈青锋为徒。", "master", "B"),
    "X的徒弟Y": ("陆玄机", "林晚照", "陆玄机的徒弟林晚照提剑迎了出来。", "master", "A"),
    "Y叫X师父": (
        "唐僧",
        "行者",
        "唐僧勒马观看。行者道：“师父，前面有座高山，须要仔细。”",
        "master",
        "A",
    ),
    "师姐": ("沈青锋", "林晚照", "沈青锋的师姐林晚照笑了笑。", "fellow", None),
    "父亲X": ("沈青锋", "沈万山", "沈青锋的父亲沈万山站在廊下。", "kin", "B"),
    "X之子Y": ("刘禅", "刘备", "刘备之子刘禅即位，是为后主。", "kin", "B"),
    "Y叫X爹爹": ("沈万山", "沈青锋", "沈万山回头，沈青锋叫道：“爹爹，我回来了！”", "kin", "A"),
    "主公X": ("赵云", "刘备", "赵云对刘备道：“主公放心，云去去就回。”", "lord", "B"),
    "X的手下Y": ("莫七", "厉无咎", "莫七是血衣门门主厉无咎的手下。", "lord", "B"),
    "X令Y": (["刘备", "玄德"], "赵云", "玄德令赵云引三千军马接应。", "lord", "A"),
    "屋里的丫鬟": ("袭人", "宝玉", "宝玉屋里的丫鬟袭人端了茶来。", "lord", "B"),
    "娶": ("苏映雪", "沈青锋", "沈青锋娶了苏映雪，两人拜堂成亲。", "lovers", None),
    "未婚妻": ("沈青锋", "苏映雪", "沈青锋握住未婚妻苏映雪的手。", "lovers", None),
    "结拜": ("韩铁崖", "沈青锋", "韩铁崖与沈青锋意气相投，当即结为兄弟，八拜之交。", "sworn", None),
    "联手": ("林晚照", "韩铁崖", "林晚照与韩铁崖联手夹击，莫七腹背受敌。", "ally", None),
    "好友": ("沈青锋", "杜云起", "沈青锋笑道：“这位是我的好友杜云起。”", "ally", None),
    "交手": ("沈青锋", "杜云起", "沈青锋与杜云起在石桥上交手，剑光闪动。", "enemy", None),
    "骂": ("行者", "妖精", "行者见了妖精，喝道：“泼怪！哪里走！”举棒就打。", "enemy", None),
    "操令Y": (["曹操"], "许褚", "曹操出马视之，暗暗称奇，便令许褚出马。", "lord", "A"),
    "使弟Y": (["孙策"], "孙权", "孙策下江东，安民恤众，使弟孙权与周泰守宣城。", "kin", "A"),
    "nothing": ("沈青锋", "杜云起", "沈青锋和杜云起坐在窗边，看着街上的行人。", "cooccur", None),
}


@pytest.mark.parametrize(("a", "b", "text", "code", "senior"), CASES.values(), ids=CASES)
def test_offline_rules_type_a_snippet_and_put_the_senior_first(a, b, text, code, senior):
    result = ask(a if isinstance(a, list) else [a], [b], text)
    assert result["type"] == code
    if senior:
        assert result["direction"] == ("a->b" if senior == "A" else "b->a")


def test_brother_words_mean_family_only_between_people_of_one_surname():
    text = "孙策对孙权道：“贤弟，江东之事，就托付给你了。”"
    assert ask(["孙策"], ["孙权"], text)["type"] == "kin"
    assert ask(["周瑜"], ["孙权"], text.replace("孙策", "周瑜"))["type"] != "kin"


def test_two_of_one_rare_surname_get_the_family_prior():
    """阮 is a rare surname, but a surname: the offline rules know every one pair choice knows."""
    text = "阮小二道：“兄弟，你我今日同去。”阮小七道：“哥哥说的是。”"
    assert ask(["阮小二"], ["阮小七"], text)["type"] == "kin"
    assert ask(["阮小二"], ["阮小七"], "阮小二、阮小七都在船上。")["type"] == "kin"


def test_a_cue_about_someone_else_does_not_type_the_pair():
    text = "沈青锋跪下道：“师父，厉无咎学的是松风剑法，我怎么才能胜他？”"
    assert ask(["沈青锋"], ["厉无咎"], text)["type"] != "master"


def test_every_kind_of_request_gets_a_reply_the_parser_accepts():
    snippets = [Snippet(1, "甲乙丙走在路上。"), Snippet(3, "丁戊己也来了。")]
    for body in (
        prompts.relation_request("书", ["甲乙丙"], ["丁戊己"], snippets, model="m", max_tokens=1),
        prompts.evolution_request("书", ["甲乙丙"], ["丁戊己"], snippets, model="m", max_tokens=1),
        prompts.attribute_request("书", ["甲乙丙"], snippets, model="m", max_tokens=1),
    ):
        kind = read_request(body).kind
        assert replies.parse_reply(kind, answer(body))


def test_attributes_name_a_woman_and_what_she_can_do():
    snippets = [
        Snippet(2, "林晚照是观主的大弟子，她的剑法清冷凌厉。"),
        Snippet(9, "林晚照提剑护着书房，她一剑刺倒两人。"),
    ]
    body = prompts.attribute_request("书", ["林晚照"], snippets, model="m", max_tokens=1)
    result = replies.parse_reply(prompts.ATTRIBUTE, answer(body))
    assert result["gender"] == "女"
    assert "剑法" in result["abilities"]


def test_the_sample_novel_turns_from_allies_to_enemies_offline():
    chapters = [
        (number, body)
        for number, body in enumerate(
            re.split(r"^第.+章 .*$", SAMPLE.read_text(encoding="utf-8"), flags=re.M)[1:], 1
        )
    ]
    a, b = ["沈青锋", "青锋"], ["杜云起"]
    locations = [
        (number, index)
        for number, body in chapters
        for index, paragraph in enumerate(body.split("\n"))
        if "杜云起" in paragraph and "青锋" in paragraph
    ]
    snippets = evolution_evidence(locations, ParagraphStore(chapters), a, b, budget_tokens=1500)
    body = prompts.evolution_request("青锋录", a, b, snippets, model="m", max_tokens=1)
    phases = replies.parse_reply(prompts.EVOLUTION, answer(body))["phases"]
    assert [p["type"] for p in phases] == ["ally", "enemy"]
    assert phases[0]["to"] < 10 <= phases[1]["from"]


def test_a_given_name_alone_opens_a_clause_in_classical_narration():
    text = "许褚大叫而入。操曰：“仲康何来？”褚曰：“主公勿忧，褚在此。”"
    assert ask(["曹操"], ["许褚"], text)["type"] == "lord"


def test_an_older_generation_title_in_a_name_makes_that_one_the_elder():
    text = "贾母见了宝玉，一把搂入怀中，叫道：“我的心肝儿！”"
    result = ask(["贾宝玉", "宝玉"], ["贾母"], text)
    assert result["type"] == "kin"
    assert result["direction"] == "b->a"


def test_a_cue_word_inside_a_name_says_nothing():
    text = "贾母、王夫人、邢夫人并薛姨妈都在屋里坐着说话。"
    assert ask(["王夫人"], ["薛姨妈"], text)["type"] != "lovers"


def test_two_who_both_call_a_third_master_are_fellow_disciples():
    texts = (
        "八戒、沙僧拦住道：“师父往那里去？错走路了。”",
        "行者按落云头，道声：“师父，老孙来也。”八戒在旁笑了。",
        "八戒道：“师父，莫怕，等老猪去来。”行者也在一旁。",
    )
    assert ask(["行者"], ["八戒"], *texts)["type"] == "fellow"


def test_people_who_speak_together_do_not_address_each_other():
    text = "那行者引八戒、沙僧近前侍立道：“师父，有何分付？”"
    assert ask(["行者"], ["沙僧"], text)["type"] != "master"


def test_asking_the_other_for_help_makes_allies():
    text = "行者驾云上了南天门。行者去请二郎神前来相助，共擒那怪。"
    assert ask(["行者"], ["二郎神"], text)["type"] == "ally"


def test_an_insult_about_a_third_person_is_not_enmity():
    text = "八戒对行者道：“哥哥，有妖精留几个儿我们打耶！”"
    assert ask(["行者"], ["八戒"], text)["type"] != "enemy"
