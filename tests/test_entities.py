"""Character stage: discovery, alias grouping and mention scanning (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.entities import discover_characters, scan_mentions
from graph.entities.aliases import containment_links, courtesy_links

CORPUS = Path("/work/shared/corpus")


def _novel(paragraphs_per_chapter: list[list[str]]) -> list[tuple[int, str]]:
    return [(i, "\n".join(paras)) for i, paras in enumerate(paragraphs_per_chapter, 1)]


def _repeat(template: str, names: list[str], times: int) -> list[str]:
    return [template.format(n=n) for _ in range(times) for n in names]


def _by_name(found):
    return {c.name: c for c in found}


def _owner(found, string):
    return [c.name for c in found if string == c.name or string in c.aliases]


# ---------------------------------------------------------------- scan_mentions


def test_scan_uses_the_longest_match_and_does_not_double_count():
    chapters = _novel([["孙悟空道：师父。", "悟空笑了。"], ["大圣来了，孙悟空走了。"]])
    index = scan_mentions(chapters, {"wk": ["孙悟空", "悟空", "大圣"]})
    assert index.counts == {"wk": 4}
    assert (index.first["wk"], index.last["wk"]) == (1, 2)
    assert index.paragraphs == [
        (1, 0, frozenset({"wk"})),
        (1, 1, frozenset({"wk"})),
        (2, 0, frozenset({"wk"})),
    ]


def test_scan_credits_the_longer_name_to_its_own_key():
    chapters = _novel([["孙悟空与悟空。"]])
    index = scan_mentions(chapters, {"full": ["孙悟空"], "short": ["悟空"]})
    assert index.counts == {"full": 1, "short": 1}


def test_scan_skips_a_name_claimed_by_two_keys():
    chapters = _novel([["张三丰见了李三丰，三丰笑道。"]])
    index = scan_mentions(chapters, {1: ["张三丰", "三丰"], 2: ["李三丰", "三丰"]})
    assert index.counts == {1: 1, 2: 1}


def test_scan_reports_paragraph_indexes_and_chapter_span():
    chapters = [(3, "无人。\n\n宝玉来了。"), (7, "黛玉道：宝玉。\n宝钗。")]
    index = scan_mentions(chapters, {"a": ["宝玉"], "b": ["黛玉"], "c": ["湘云"]})
    assert index.counts == {"a": 2, "b": 1}
    assert (index.first["a"], index.last["a"]) == (3, 7)
    assert "c" not in index.first
    assert index.paragraphs == [(3, 2, frozenset({"a"})), (7, 0, frozenset({"a", "b"}))]


def test_scan_accepts_any_hashable_key_and_empty_name_lists():
    index = scan_mentions(_novel([["八戒笑道。"]]), {(1, "x"): ["八戒", ""], 99: []})
    assert index.counts == {(1, "x"): 1}


# ---------------------------------------------------------------- alias rules


def test_a_given_name_goes_under_its_full_name():
    links = containment_links({"悟空": 500, "孙悟空": 120})
    assert ("悟空", "孙悟空") in links


def test_two_people_sharing_a_given_name_are_not_merged():
    links = containment_links({"三丰": 50, "张三丰": 30, "李三丰": 25})
    assert links == []


def test_a_dominant_full_name_takes_the_shared_given_name():
    links = containment_links({"宝玉": 3000, "贾宝玉": 400, "甄宝玉": 10})
    assert links == [("宝玉", "贾宝玉")]


def test_titles_added_to_a_name_stay_with_it():
    links = containment_links({"大圣": 1000, "孙大圣": 200, "齐天大圣": 100})
    assert {("大圣", "孙大圣"), ("大圣", "齐天大圣")} <= set(links)


def test_courtesy_name_patterns_link_name_and_style():
    text = "那人姓刘，名备，字玄德。又有曹仁字子孝，来投。"
    links = set(courtesy_links(text, {"刘备", "曹仁"}))
    assert {("刘备", "玄德"), ("刘备", "刘玄德"), ("曹仁", "子孝"), ("曹仁", "曹子孝")} <= links


# ---------------------------------------------------------------- discovery


def _toy_novel() -> list[tuple[int, str]]:
    """A small novel: 张三丰 and 李三丰 both exist, 悟空 is short for 孙悟空, 萧炎 is a web-novel
    name, and 那长老 / 众人 / 闻言 / 宝贝 are common words next to speech verbs."""
    chapters = []
    for ch in range(6):
        paras = []
        paras += _repeat("却说孙悟空道：“师父，{n}来了。”", ["萧炎"], 2)
        paras += ["孙悟空笑道：“好。”", "只见孙悟空走来。", "又有孙悟空，与萧炎同行。"]
        paras += _repeat("{n}笑道：“好。”", ["悟空", "萧炎", "张三丰", "李三丰"], 4)
        paras += _repeat("那长老道：“{n}何在？”众人道：“不知。”", ["悟空"], 3)
        paras += _repeat("他对{n}说了，{n}闻言大喜。", ["萧炎", "张三丰", "李三丰"], 2)
        paras += ["悟空，快来！", "萧炎，去罢。", "三丰道：“来。”", "那宝贝道：“收。”"]
        paras += [f"张三丰字君宝。第{ch}日。"]
        chapters.append((ch + 1, "\n".join(paras)))
    return chapters


def test_discovery_groups_a_given_name_under_the_full_name():
    found = discover_characters(_toy_novel())
    assert _owner(found, "悟空") == ["孙悟空"]
    wk = _by_name(found)["孙悟空"]
    assert wk.first_chapter == 1 and wk.last_chapter == 6
    assert wk.mention_count > 0


def test_discovery_keeps_two_people_with_one_given_name_apart():
    found = discover_characters(_toy_novel())
    names = _by_name(found)
    assert "张三丰" in names and "李三丰" in names
    assert "李三丰" not in names["张三丰"].aliases
    assert len(_owner(found, "三丰")) <= 1 and "张三丰" not in _owner(found, "三丰")


def test_discovery_finds_invented_names():
    assert "萧炎" in _by_name(discover_characters(_toy_novel()))


def test_titles_with_demonstratives_and_common_words_are_not_characters():
    found = discover_characters(_toy_novel())
    every_name = {s for c in found for s in (c.name, *c.aliases)}
    assert not every_name & {"长老", "那长老", "众人", "闻言", "宝贝", "那宝贝"}


def test_discovery_respects_the_limit_and_orders_by_mentions():
    found = discover_characters(_toy_novel(), limit=2)
    assert len(found) == 2
    assert found[0].mention_count >= found[1].mention_count


def test_discovery_of_an_empty_novel_is_empty():
    assert discover_characters([]) == []
    assert discover_characters([(1, "")]) == []


# ---------------------------------------------------------------- corpus


@pytest.mark.skipif(not (CORPUS / "xiyouji.txt").exists(), reason="corpus not available")
def test_journey_to_the_west_has_its_pilgrims():
    from bench.characters import load_chapters

    found = discover_characters(load_chapters(CORPUS / "xiyouji.txt"))
    top20 = found[:20]
    covered = {s for c in top20 for s in (c.name, *c.aliases)}
    assert {"唐僧", "孙悟空"} <= covered
    assert _owner(found, "悟空") == _owner(found, "孙悟空") != []
    assert not {"长老", "和尚", "妖精", "师父", "众人"} & covered
