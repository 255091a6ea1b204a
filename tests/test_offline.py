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


def evolve(names_a, names_b, *snippets) -> list[dict]:
    snippets = [Snippet(chapter, text) for chapter, text in snippets]
    question = prompts.Question(prompts.EVOLUTION, names_a, names_b, snippets)
    return replies.parse_reply(prompts.EVOLUTION, offline.answer(question))["phases"]


# A construction that defines its type types the pair from one snippet:
# (A, B, snippet, type, who is senior: "A", "B" or None)
DEFINING = {
    "拜X为师": ("沈青锋", "陆玄机", "沈青锋跪下拜陆玄机为师，磕了三个响头。", "master", "B"),
    "X的徒弟Y": ("陆玄机", "林晚照", "陆玄机的徒弟林晚照提剑迎了出来。", "master", "A"),
    "父亲X": ("沈青锋", "沈万山", "沈青锋的父亲沈万山站在廊下。", "kin", "B"),
    "X之子Y": ("刘禅", "刘备", "刘备之子刘禅即位，是为后主。", "kin", "B"),
    "X的手下Y": ("莫七", "厉无咎", "莫七是血衣门门主厉无咎的手下。", "lord", "B"),
    "娶": ("苏映雪", "沈青锋", "沈青锋娶了苏映雪，两人拜堂成亲。", "lovers", None),
    "结拜": ("韩铁崖", "沈青锋", "韩铁崖与沈青锋意气相投，当即结为兄弟，八拜之交。", "sworn", None),
    "我的好友": ("沈青锋", "杜云起", "沈青锋笑道：“这位是我的好友杜云起。”", "ally", None),
}


@pytest.mark.parametrize(("a", "b", "text", "code", "senior"), DEFINING.values(), ids=DEFINING)
def test_a_defining_construction_types_the_pair_from_one_snippet(a, b, text, code, senior):
    result = ask([a], [b], text)
    assert result["type"] == code
    if senior:
        assert result["direction"] == ("a->b" if senior == "A" else "b->a")


# A weaker cue (an order, an address, a fight) types the pair only where two snippets agree:
# (A, B, first snippet, another snippet, type)
AGREEING = {
    "X令Y": (
        ["刘备", "玄德"],
        ["赵云"],
        "玄德令赵云引三千军马接应。",
        "次日玄德又令赵云守住城门，不许放一人出入。",
        "lord",
    ),
    "主公": (
        ["赵云"],
        ["刘备"],
        "赵云对刘备道：“主公放心，云去去就回。”",
        "赵云见了刘备，拜道：“主公勿忧，城中已安排停当。”",
        "lord",
    ),
    "师父": (
        ["唐僧"],
        ["行者"],
        "唐僧勒马观看。行者对唐僧道：“师父，前面有座高山，须要仔细。”",
        "唐僧坐在石上歇息。行者近前对唐僧道：“师父，天色晚了，寻个人家借宿罢。”",
        "master",
    ),
    "交手": (
        ["沈青锋"],
        ["杜云起"],
        "沈青锋与杜云起在石桥上交手，剑光闪动。",
        "三日后沈青锋与杜云起又在渡口交战，斗了五十余合。",
        "enemy",
    ),
    "请来相助": (
        ["行者"],
        ["二郎神"],
        "行者驾云上了南天门。行者去请二郎神前来相助，共擒那怪。",
        "那怪又来，行者只得再请二郎神助战。",
        "ally",
    ),
}


@pytest.mark.parametrize(("a", "b", "first", "other", "code"), AGREEING.values(), ids=AGREEING)
def test_a_weaker_cue_types_the_pair_only_where_two_snippets_agree(a, b, first, other, code):
    alone = ask(a, b, first)
    assert alone["type"] == "cooccur"
    assert alone["confidence"] == 0.3
    assert ask(a, b, first, other)["type"] == code


def test_nothing_between_them_is_cooccurrence_with_low_confidence():
    result = ask(["沈青锋"], ["杜云起"], "沈青锋和杜云起坐在窗边，看着街上的行人。")
    assert (result["type"], result["confidence"]) == ("cooccur", 0.3)


def test_a_type_shown_often_is_held_with_more_confidence_than_one_shown_once():
    once = ask(["陆玄机"], ["林晚照"], "陆玄机的徒弟林晚照提剑迎了出来。")
    often = ask(
        ["陆玄机"],
        ["林晚照"],
        "陆玄机的徒弟林晚照提剑迎了出来。",
        "林晚照是观主陆玄机的大弟子。",
        "陆玄机当年收林晚照为徒，教她剑法。",
    )
    assert once["type"] == often["type"] == "master"
    assert 0.3 < once["confidence"] < often["confidence"]


def test_two_types_of_equal_weight_make_cooccurrence():
    result = ask(
        ["沈青锋"],
        ["杜云起"],
        "沈青锋与杜云起在石桥上交手，剑光闪动。",
        "沈青锋笑道：“这位是我的好友杜云起。”",
    )
    assert result["type"] == "cooccur"


def test_orders_between_sworn_brothers_leave_them_sworn():
    texts = (
        "刘备与关羽意气相投，当即结为兄弟。",
        "刘备令关羽引五百军守住东门。",
        "次日刘备又令关羽断后。",
    )
    assert ask(["刘备"], ["关羽"], *texts)["type"] == "sworn"


def test_a_brother_in_a_construction_between_two_surnames_is_a_sworn_brother():
    text = "打听得是刘备之弟张飞诈妆山贼，抢劫马匹去了。"
    assert ask(["张飞"], ["刘备"], text)["type"] == "sworn"
    assert ask(["刘禅"], ["刘备"], text.replace("张飞", "刘禅"))["type"] == "kin"


def test_brother_words_in_two_scenes_mean_family_only_between_people_of_one_surname():
    texts = (
        "孙策对孙权道：“贤弟，江东之事，就托付给你了。”",
        "孙权哭拜于地，孙策又道：“贤弟不必悲伤。”",
    )
    assert ask(["孙策"], ["孙权"], *texts)["type"] == "kin"
    others = [t.replace("孙策", "周瑜") for t in texts]
    assert ask(["周瑜"], ["孙权"], *others)["type"] == "cooccur"


def test_two_of_one_rare_surname_get_the_family_prior():
    """阮 is a rare surname, but a surname: the offline rules know every one pair choice knows."""
    texts = (
        "阮小二对阮小七道：“兄弟，你我今日同去。”",
        "阮小七对阮小二道：“哥哥说的是，我们弟兄一同去。”",
    )
    assert ask(["阮小二"], ["阮小七"], *texts)["type"] == "kin"
    others = [t.replace("阮小二", "李小二").replace("阮小七", "王小七") for t in texts]
    assert ask(["李小二"], ["王小七"], *others)["type"] != "kin"


def test_one_surname_alone_does_not_make_family():
    assert ask(["阮小二"], ["阮小七"], "阮小二、阮小七都在船上。")["type"] == "cooccur"


def test_a_courtesy_name_is_no_surname_for_the_family_rules():
    text = "操奉天子之命以召父亲，孟起不可不防。马超默然。"
    cao, ma = ["曹操", "孟德", "曹孟德"], ["马超", "孟起", "马孟起"]
    assert ask(cao, ma, text)["type"] != "kin"


def test_an_older_generation_title_in_a_name_makes_that_one_the_elder():
    texts = (
        "贾母见了宝玉，一把搂入怀中，叫道：“我的心肝儿！”",
        "宝玉回来，先到贾母房中，对贾母道：“老祖宗，我回来了。”",
    )
    result = ask(["贾宝玉", "宝玉"], ["贾母"], *texts)
    assert result["type"] == "kin"
    assert result["direction"] == "b->a"


def test_two_who_both_call_a_third_master_are_fellow_disciples():
    texts = (
        "八戒、沙僧拦住道：“师父往那里去？错走路了。”",
        "行者按落云头，道声：“师父，老孙来也。”八戒在旁笑了。",
        "八戒道：“师父，莫怕，等老猪去来。”行者也在一旁。",
    )
    assert ask(["行者"], ["八戒"], *texts)["type"] == "fellow"


def test_no_change_is_told_without_clear_signs_on_both_sides():
    phases = evolve(
        ["沈青锋"],
        ["杜云起"],
        (3, "沈青锋笑道：“这位是我的好友杜云起。”"),
        (5, "杜云起对沈青锋道：“你我联手，何愁大事不成？”"),
        (12, "沈青锋见了杜云起，喝道：“哪里走！”"),
    )
    assert [p["type"] for p in phases] == ["ally"]


def test_a_change_both_sides_show_clearly_is_told():
    phases = evolve(
        ["沈青锋"],
        ["杜云起"],
        (3, "沈青锋笑道：“这位是我的好友杜云起。”"),
        (12, "沈青锋与杜云起在石桥上交手，剑光闪动。"),
        (14, "沈青锋与杜云起又在渡口交战，斗了五十余合。"),
    )
    assert [(p["type"], p["from"]) for p in phases] == [("ally", 3), ("enemy", 12)]


def test_orders_after_a_swearing_are_no_change():
    phases = evolve(
        ["刘备"],
        ["关羽"],
        (1, "刘备与关羽意气相投，当即结为兄弟。"),
        (20, "刘备令关羽引五百军守住东门。"),
        (30, "次日刘备又令关羽断后。"),
    )
    assert [p["type"] for p in phases] == ["sworn"]


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
