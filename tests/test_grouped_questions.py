"""Grouped questions: the tail of the pair ranking asked five pairs a request, answered per
pair, written to the graph as if each pair had been asked alone."""

from pathlib import Path

import pytest

from graph import budget, grouped_questions, prompts, replies, results, update_questions, updates
from graph.llm import offline
from graph.models import Character, LLMTask, Mode, Novel, Origin, Relation
from graph.prompts import Question, Snippet
from tests.conftest import SAMPLE
from tests.offline_model import answer, read_request
from tests.test_batches import graphs_in_every_mode
from tests.test_identity import answered, make_book, reapply, rel_result, three_relations
from tests.test_updates import first_chapters, upload_offline, write

SWORD = [Snippet(3, "沈青锋跪下拜陆玄机为师，磕了三个响头。"), Snippet(9, "陆玄机传他剑法。")]
FATHER = [Snippet(4, "沈青锋的父亲沈万山站在廊下。")]
FRIEND = [Snippet(5, "沈青锋笑道：“这位是我的好友杜云起。”")]


def group() -> Question:
    members = [
        Question(prompts.RELATION, ["沈青锋", "沈郎"], ["陆玄机"], SWORD, timeline=True),
        Question(prompts.RELATION, ["沈青锋"], ["沈万山"], FATHER),
        Question(prompts.RELATION, ["沈青锋"], ["杜云起"], FRIEND),
    ]
    return Question(prompts.RELATION, members=members)


def body(question: Question) -> dict:
    return prompts.request_body("剑影", question, model="glm-4-flash", max_tokens=512)


def test_a_grouped_question_is_one_request_that_reads_back_member_by_member():
    question = group()
    request = body(question)
    user = request["messages"][1]["content"]
    assert user.count("【第") == 3 and prompts.TIMELINE_MARK in user
    assert request["max_tokens"] == 3 * 512  # room for three answers
    assert read_request(request) == question
    assert Question.from_json(question.to_json()) == question


def test_a_grouped_reply_gives_each_member_the_answer_it_would_get_alone():
    question = group()
    result = replies.parse_reply(prompts.RELATION, answer(body(question)), 3)
    alone = [replies.parse_reply(m.kind, offline.answer(m)) for m in question.members]
    assert result == {"items": alone}
    assert [item["type"] for item in alone] == ["master", "kin", "ally"]
    assert "phases" in alone[0] and "phases" not in alone[1]


def test_a_grouped_attribute_question_asks_each_person():
    members = [Question(prompts.ATTRIBUTE, [name], [], FRIEND) for name in ("沈青锋", "杜云起")]
    question = Question(prompts.ATTRIBUTE, members=members)
    assert read_request(body(question)) == question
    result = replies.parse_reply(prompts.ATTRIBUTE, offline.answer(question), 2)
    assert len(result["items"]) == 2 and "杜云起" not in result["items"][0]["aliases"]


@pytest.mark.parametrize(
    "reply",
    [
        '[{"type": "师徒", "direction": "b->a"}, {"type": "亲属", "direction": "b->a"}]',
        '```json\n{"第1对": {"type": "师徒", "direction": "b->a"}, "第2对": {"类型": "亲属"}}\n```',
    ],
)
def test_a_grouped_reply_may_come_as_a_list_or_with_labelled_keys(reply):
    result = replies.parse_reply(prompts.RELATION, reply, 2)
    assert [item["type"] for item in result["items"]] == ["master", "kin"]


@pytest.mark.parametrize(
    "reply",
    [
        '{"1": {"type": "师徒"}}',  # an entry missing
        '{"1": {"type": "师徒"}, "2": {"type": "不知道"}}',  # an entry untrusted
        '{"type": "师徒"}',  # a single answer
    ],
)
def test_a_grouped_reply_missing_or_spoiling_an_entry_is_asked_again(reply):
    with pytest.raises(replies.ReplyError):
        replies.parse_reply(prompts.RELATION, reply, 2)


def test_members_group_by_shared_person_then_in_rank_order():
    people = "ABACABAAABC"  # the person each subject (ranked 1, 2, ...) is about
    subjects = [(person, rank) for rank, person in enumerate(people, 1)]
    chunks = grouped_questions.chunks(subjects, lambda s: s[0])
    assert grouped_questions.SIZE == 5
    assert [[rank for _, rank in chunk] for chunk in chunks] == [
        [1, 3, 5, 7, 8],  # five about A together
        [2, 4, 6, 9, 10],  # the rest in rank order
        [11],
    ]


@pytest.mark.django_db(transaction=True)
def test_the_tail_is_asked_in_groups_and_every_mode_builds_the_same_graph(
    emu, upload, poll, quick_backoff, settings
):
    settings.LLM_REQUEST_BUDGET = 24  # few requests: the sample's weaker pairs come in groups

    def check(novel: Novel) -> None:
        tasks = list(novel.tasks.all())
        grouped = [t for t in tasks if grouped_questions.is_grouped(t)]
        assert grouped and len(tasks) <= 24
        assert all(len(t.result["items"]) == len(grouped_questions.members_of(t)) for t in grouped)
        # every member's pair is an edge of the graph, answered
        asked = {m["relation"] for t in grouped for m in grouped_questions.members_of(t)}
        edges = dict(novel.relations.filter(pk__in=asked).values_list("pk", "origin"))
        assert set(edges) == asked and set(edges.values()) <= {Origin.OFFLINE, Origin.LLM}

    graphs = graphs_in_every_mode(upload, poll, check)
    assert graphs[Mode.BATCH] == graphs[Mode.OFFLINE]
    assert graphs[Mode.REALTIME] == graphs[Mode.OFFLINE]


@pytest.mark.django_db
def test_a_merge_moves_the_members_of_a_grouped_question_with_their_subjects():
    novel, p = make_book()
    same, with_du, small_du = three_relations(novel, p)
    answered(novel, "relation", rel_result("cooccur", 0.3), relation=with_du)
    pairs = [(same, "same", "小沈即沈青锋"), (small_du, "ally", "并肩而行")]
    LLMTask.objects.create(
        novel=novel,
        kind="relation",
        subject="grouped",
        custom_id=LLMTask.custom_id_for(novel.pk, "relation", same.pk),
        request={},
        question={
            "kind": "relation",
            "group": [
                {"kind": "relation", "relation": r.pk, "character": r.source_id} for r, *_ in pairs
            ],
        },
        status=LLMTask.Status.SUCCEEDED,
        result={"items": [rel_result(kind, 0.9, why) for _, kind, why in pairs]},
        origin=Origin.LLM,
    )

    assert results.apply_if_settled(novel)

    shen = Character.objects.get(name="沈青锋")
    assert not Character.objects.filter(name="小沈").exists() and "小沈" in shen.aliases
    (edge,) = Relation.objects.filter(novel=novel)
    assert (edge.type, edge.origin) == ("ally", Origin.LLM)  # the grouped answer, moved
    members = grouped_questions.members_of(LLMTask.objects.get(subject="grouped"))
    assert [m["relation"] for m in members] == [None, edge.pk]
    assert {m["character"] for m in members} == {shen.pk}
    reapply(novel)
    assert Relation.objects.get().type == "ally"


@pytest.fixture
def grouped_cut(tmp_path, settings, monkeypatch) -> Path:
    """The sample's first 15 chapters built offline, every pair asked in a group."""
    monkeypatch.setattr(budget, "GROUPED_SHARE", 1.0)
    path = write(tmp_path, "青锋录_1-15.txt", first_chapters(15))
    upload_offline(path, "--quiet")
    return path


@pytest.mark.django_db
def test_an_update_asking_a_grouped_pair_again_detaches_it_from_its_group(
    grouped_cut, settings, monkeypatch
):
    # The update may ask every pair that meets again in the new chapters.
    settings.LLM_REQUEST_BUDGET = 400
    monkeypatch.setattr(update_questions, "REASK_SHARE", 0)
    monkeypatch.setattr(update_questions, "EVOLUTION_MIN_MEETINGS", 1)
    upload_offline(SAMPLE, "--quiet")
    novel = Novel.objects.get()
    assert novel.stage == Novel.Stage.DONE
    again = [
        old
        for task in novel.tasks.filter(version=2)
        for old in task.question.get("supersedes", [])
        if "member" in old
    ]
    assert again  # some pair of a group is asked again
    for old in again:
        member = grouped_questions.members_of(LLMTask.objects.get(pk=old["id"]))[old["member"]]
        assert member["relation"] is None and member["character"] is None
        newer = LLMTask.objects.get(version=2, kind="relation", relation_id=old["relation"])
        assert Relation.objects.get(pk=old["relation"]).origin == newer.origin

    updates.restart_from(novel, novel.versions.get(number=2), Novel.Stage.PAIRS)
    for old in again:
        member = grouped_questions.members_of(LLMTask.objects.get(pk=old["id"]))[old["member"]]
        assert member["relation"] == old["relation"]
