"""graph.names: one reading of surnames for discovery, cues, pair choice and the offline rules."""

import re

from graph import cues, names, pipeline


def test_split_surname_takes_a_compound_surname_first_and_keeps_to_name_lengths():
    assert names.split_surname("诸葛亮") == ("诸葛", "亮")
    assert names.split_surname("司马仲达") == ("司马", "仲达")
    assert names.split_surname("阮小二") == ("阮", "小二")
    assert names.split_surname("曹操") == ("曹", "操")
    assert names.split_surname("孙") is None  # a surname alone is no name
    assert names.split_surname("孙悟空大圣") is None  # too long for surname + given name
    assert names.split_surname("悟空") is None  # 悟 is no surname


def test_courtesy_name_prefixes_and_compound_fragments_are_not_surnames():
    for courtesy in ("伯约", "仲谋", "公瑾"):
        assert names.split_surname(courtesy) is None
    assert not {"伯", "仲", "公", "上", "令", "长", "尉"} & names.SURNAMES
    assert {"公孙", "上官", "令狐", "长孙", "尉迟"} <= names.COMPOUND_SURNAMES


def test_same_surname_looks_at_every_name_of_both_people():
    assert names.same_surname(["阮小二"], ["阮小七"])
    assert names.same_surname(["云长", "关羽"], ["关平"])
    assert names.same_surname(["诸葛亮", "孔明"], ["诸葛瑾"])
    assert not names.same_surname(["许褚", "仲康"], ["程昱", "仲德"])
    assert not names.same_surname(["悟空"], ["悟能"])
    assert names.surnames(["孙权", "仲谋", "孙仲谋", "诸葛亮"]) == {"孙", "诸葛"}


def test_names_pattern_matches_the_longest_name_first():
    pattern = names.names_pattern(["悟空", "孙悟空", "悟空"])
    assert re.findall(pattern, "孙悟空道：“悟空在此。”") == ["孙悟空", "悟空"]


def test_one_surname_reading_serves_the_offline_rules_and_pair_choice():
    pairs = {
        (("阮小二",), ("阮小七",)): True,
        (("许褚", "仲康"), ("程昱", "仲德")): False,  # 仲 starts courtesy names, not a surname
        (("贾母",), ("贾政",)): True,
        (("林黛玉",), ("薛宝钗",)): False,
        # 孟 of 孟德 and 孟起 is no surname: they are the given parts of 曹孟德 and 马孟起
        (("曹操", "孟德", "曹孟德"), ("马超", "孟起", "马孟起")): False,
    }
    for (a, b), expected in pairs.items():
        assert cues.same_surname(a, b) is expected
    assert cues.same_surname is pipeline.same_surname  # one function, not two readings
