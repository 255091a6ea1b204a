"""graph.cues: what one made-up sentence says about two people, cue by cue (type, who is senior)."""

import pytest

from graph import cues
from graph.llm import pair_reading


def signals(a, b, text) -> list[cues.Signal]:
    a, b = (a if isinstance(a, list) else [a]), (b if isinstance(b, list) else [b])
    return pair_reading.resolve(cues.relation_signals(text, a, b), cues.same_surname(a, b))


def codes(a, b, text) -> set[str]:
    return {s.code for s in signals(a, b, text)}


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
    "Y得X传授": ("姜维", "诸葛亮", "众人都说姜维深得诸葛亮传授，急难退之。", "master", "B"),
    "师姐": ("沈青锋", "林晚照", "沈青锋的师姐林晚照笑了笑。", "fellow", None),
    "你是我的师弟": (
        "林晚照",
        "沈青锋",
        "林晚照对沈青锋道：“从今往后，你便是我的师弟了。”",
        "fellow",
        None,
    ),
    "父亲X": ("沈青锋", "沈万山", "沈青锋的父亲沈万山站在廊下。", "kin", "B"),
    "X之子Y": ("刘禅", "刘备", "刘备之子刘禅即位，是为后主。", "kin", "B"),
    "Y叫X爹爹": ("沈万山", "沈青锋", "沈万山回头，沈青锋叫道：“爹爹，我回来了！”", "kin", "A"),
    "Y拜X为父": ("关平", "关羽", "关定大喜，便命关平拜关羽为父。", "kin", "B"),
    "使弟Y": (["孙策"], "孙权", "孙策下江东，安民恤众，使弟孙权与周泰守宣城。", "kin", "A"),
    "主公X": ("赵云", "刘备", "赵云对刘备道：“主公放心，云去去就回。”", "lord", "B"),
    "X的手下Y": ("莫七", "厉无咎", "莫七是血衣门门主厉无咎的手下。", "lord", "B"),
    "Y，是X的手下": ("莫七", "厉无咎", "那人叫莫七，是血衣门门主厉无咎的手下。", "lord", "B"),
    "X令Y": (["刘备", "玄德"], "赵云", "玄德令赵云引三千军马接应。", "lord", "A"),
    "屋里的丫鬟": ("袭人", "宝玉", "宝玉屋里的丫鬟袭人端了茶来。", "lord", "B"),
    "操令Y": (["曹操"], "许褚", "曹操出马视之，暗暗称奇，便令许褚出马。", "lord", "A"),
    "我家主公X": (
        "莫七",
        "厉无咎",
        "莫七冷笑道：“我家主公厉无咎说了，此事不必再提。”",
        "lord",
        "B",
    ),
    "娶": ("苏映雪", "沈青锋", "沈青锋娶了苏映雪，两人拜堂成亲。", "lovers", None),
    "讨": ("苏映雪", "沈青锋", "后来沈青锋讨了苏映雪做老婆。", "lovers", None),
    "未婚妻": ("沈青锋", "苏映雪", "沈青锋握住未婚妻苏映雪的手。", "lovers", None),
    "结拜": ("韩铁崖", "沈青锋", "韩铁崖与沈青锋意气相投，当即结为兄弟，八拜之交。", "sworn", None),
    "名单后结义": (
        "张飞",
        "刘备",
        "誓曰：“念刘备、关羽、张飞，虽然异姓，既结为兄弟。”",
        "sworn",
        None,
    ),
    "吾与Y结义": ("关羽", "刘备", "关羽厉声曰：“吾与刘备桃园结义，岂能负之！”", "sworn", None),
    "异姓之弟": ("张飞", "刘备", "打听得是刘备之弟张飞诈妆山贼，抢劫马匹去了。", "sworn", None),
    "联手": ("林晚照", "韩铁崖", "林晚照与韩铁崖联手夹击，莫七腹背受敌。", "ally", None),
    "好友": ("沈青锋", "杜云起", "沈青锋笑道：“这位是我的好友杜云起。”", "ally", None),
    "我和Y结盟": (
        "杜云起",
        "厉无咎",
        "杜云起又道：“我早已和厉无咎结盟，你不必再劝。”",
        "ally",
        None,
    ),
    "请Y相助": (
        "行者",
        "二郎神",
        "行者驾云上了南天门。行者去请二郎神前来相助，共擒那怪。",
        "ally",
        None,
    ),
    "交手": ("沈青锋", "杜云起", "沈青锋与杜云起在石桥上交手，剑光闪动。", "enemy", None),
    "骂": ("行者", "妖精", "行者见了妖精，喝道：“泼怪！哪里走！”举棒就打。", "enemy", None),
    "你害了我": (
        "沈青锋",
        "厉无咎",
        "沈青锋喝道：“厉无咎，你盗我师门剑谱，毒伤我师父！”",
        "enemy",
        None,
    ),
    "一剑刺中": ("沈青锋", "莫七", "沈青锋大怒，一剑刺中莫七的肩头。", "enemy", None),
}


@pytest.mark.parametrize(("a", "b", "text", "code", "senior"), CASES.values(), ids=CASES)
def test_a_construction_or_an_address_gives_its_type_and_the_senior(a, b, text, code, senior):
    found = [s for s in signals(a, b, text) if s.code == code]
    assert found, signals(a, b, text)
    if senior:
        assert {s.senior for s in found if s.senior} == {"a" if senior == "A" else "b"}


def test_nothing_between_them_gives_no_signal():
    assert signals("沈青锋", "杜云起", "沈青锋和杜云起坐在窗边，看着街上的行人。") == []


def test_putting_down_a_rebel_is_no_marriage():
    found = signals("杨一清", "寘鐇", "又探听得杨一清讨平寘鐇，徐鸣皋等皆为朝廷所用。")
    assert not [s for s in found if s.code == "lovers"]


def test_a_cue_about_someone_else_does_not_type_the_pair():
    text = "沈青锋跪下道：“师父，厉无咎学的是松风剑法，我怎么才能胜他？”"
    assert "master" not in codes("沈青锋", "厉无咎", text)


def test_fighting_side_by_side_against_a_third_is_not_enmity():
    text = "关公与张飞大战吕布，三匹马丁字儿厮杀。"
    assert "enemy" not in codes("关公", "张飞", text)
    assert "enemy" in codes("关公", "张飞", "关公与张飞大战三十合，不分胜负。")


def test_a_swearing_recalled_before_a_third_does_not_make_him_sworn():
    text = "却说孔明欲斩云长，玄德曰：“昔吾三人结义时，誓同生死。”"
    assert "sworn" not in codes("孔明", "玄德", text)


def test_a_title_after_a_name_is_no_master():
    text = "明日可到营中，助傀儡生老师破余七妖法。"
    assert "master" not in codes("傀儡生", "余七", text)


def test_a_disciple_is_no_younger_brother_and_a_master_no_father():
    assert codes("邺天庆", "铁昂", "那邺天庆乃铁昂的师父，他的拳棒工夫天下第一。") == {"master"}
    assert "kin" not in codes("邺天庆", "铁昂", "邺天庆的弟子铁昂现为禁军总教头。")


def test_a_given_name_alone_opens_a_clause_in_classical_narration():
    text = "许褚大叫而入。操曰：“仲康何来？”褚曰：“主公勿忧，褚在此。”"
    lord = [s for s in signals(["曹操"], ["许褚"], text) if s.code == "lord"]
    assert lord and {s.senior for s in lord} == {"a"}


def test_brother_words_say_kin_only_between_two_of_one_surname():
    text = "孙策对孙权道：“贤弟，江东之事，就托付给你了。”"
    assert "kin" in codes("孙策", "孙权", text)
    assert codes("周瑜", "孙权", text.replace("孙策", "周瑜")) == set()


def test_people_who_speak_together_do_not_address_each_other():
    text = "那行者引八戒、沙僧近前侍立道：“师父，有何分付？”"
    assert "master" not in codes("行者", "沙僧", text)


def test_an_insult_about_a_third_person_is_not_enmity():
    text = "八戒对行者道：“哥哥，有妖精留几个儿我们打耶！”"
    assert "enemy" not in codes("行者", "八戒", text)


def test_a_cue_word_inside_a_name_says_nothing():
    text = "贾母、王夫人、邢夫人并薛姨妈都在屋里坐着说话。"
    assert codes("王夫人", "薛姨妈", text) == set()
