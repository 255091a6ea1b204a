"""Tests for graph.admin: every page renders, search and filters work, actions do one update each."""

from __future__ import annotations

import json
import re
from itertools import count

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.forms import BooleanField
from django.urls import reverse

from graph import batches
from graph.admin import characters
from graph.llm.zhipu import ZhipuError
from graph.models import (
    BatchJob,
    Chapter,
    Character,
    CharacterAttribute,
    IdentityDecision,
    LLMTask,
    Novel,
    Origin,
    Relation,
    RelationPhase,
)

pytestmark = pytest.mark.django_db

MODELS = [Novel, Chapter, Character, CharacterAttribute, Relation, RelationPhase, LLMTask, BatchJob,
          IdentityDecision]  # fmt: skip
_ids = count(1)


def url(model: type, view: str, *args: object) -> str:
    return reverse(f"admin:graph_{model._meta.model_name}_{view}", args=args)


def make_novel(title: str = "西游记", stage: str = Novel.Stage.DONE) -> Novel:
    n = next(_ids)
    return Novel.objects.create(title=title, sha256=f"{n:064x}", stage=stage, mode="batch")


def populate(novel: Novel, relations: int = 2) -> dict[str, object]:
    """A small graph with tasks and a batch job; `relations` edges around one master."""
    master = Character.objects.create(novel=novel, name="唐僧", aliases=["玄奘", "唐三藏"])
    Chapter.objects.create(novel=novel, number=1, title="第一回", text="话说唐僧西行。" * 50)
    job = BatchJob.objects.create(
        novel=novel, remote_id=f"batch_{next(_ids)}", status=BatchJob.Status.SUBMITTED,
        total=10, completed=4, output_content='{"custom_id": "x"}\n' * 10,
    )  # fmt: skip
    for i in range(relations):
        disciple = Character.objects.create(novel=novel, name=f"徒弟{i}", aliases=[f"小{i}"])
        CharacterAttribute.objects.create(character=disciple, key="gender", value="男")
        relation = Relation.objects.create(
            novel=novel, source=master, target=disciple, type="master", confidence=0.9,
            cooccurrence=10 + i, first_chapter=1, last_chapter=5, origin=Origin.LLM,
        )  # fmt: skip
        RelationPhase.objects.create(relation=relation, from_chapter=1, to_chapter=5, type="ally")
        LLMTask.objects.create(
            novel=novel, kind=LLMTask.Kind.RELATION, subject=f"唐僧|徒弟{i}", relation=relation,
            custom_id=f"rel-{next(_ids)}", request={"messages": [{"content": "问"}]},
            status=LLMTask.Status.FAILED if i % 2 else LLMTask.Status.SUCCEEDED,
            batch_job=job, last_error="timeout" if i % 2 else "",
        )  # fmt: skip
        IdentityDecision.objects.create(
            novel=novel, kind="merge", character=disciple, names=[f"徒儿{i}"],
            evidence="同一人物", origin=Origin.LLM,
        )  # fmt: skip
    return {"master": master, "job": job}


def form_data(response) -> dict[str, object]:
    """The POST body the change page would send unchanged (main form and inline formsets)."""
    forms, data = [response.context["adminform"].form], {}
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(k): management[k].value() for k in management.fields})
        forms.extend(inline.formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if isinstance(field, BooleanField):
                if value:
                    data[form.add_prefix(name)] = "on"
            elif value is not None:
                data[form.add_prefix(name)] = value
            if field.show_hidden_initial:  # fields with a callable default, such as aliases
                data[form.add_initial_prefix(name)] = value
    return data


def test_the_site_header_is_in_chinese(admin_client) -> None:
    assert "novelgraph 人物关系图谱" in admin_client.get(reverse("admin:index")).text


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_changelist_and_change_page_renders_for_staff(admin_client, model) -> None:
    populate(make_novel())
    assert admin_client.get(url(model, "changelist")).status_code == 200
    obj = model.objects.first()
    assert admin_client.get(url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", [Chapter, Character, CharacterAttribute, Relation, RelationPhase])
def test_the_add_page_renders_where_people_may_add(admin_client, model) -> None:
    assert admin_client.get(url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", [Novel, LLMTask, BatchJob])
def test_rows_made_by_the_pipeline_cannot_be_added_by_hand(admin_client, model) -> None:
    assert admin_client.get(url(model, "add")).status_code == 403


def two_kinds_of_everything() -> None:
    """Two novels whose rows differ in every filtered field, so each filter has two non-empty choices."""
    populate(make_novel(), relations=3)
    other = make_novel("红楼梦", stage=Novel.Stage.PARSED)
    populate(other, relations=2)
    Novel.objects.filter(pk=other.pk).update(
        last_error="解码失败", mode="offline", provisional=True
    )
    Character.objects.filter(name="徒弟0").update(aliases_locked=True)
    Character.objects.filter(name="徒弟1").update(is_person=False, person_origin=Origin.LLM)
    IdentityDecision.objects.filter(novel=other).update(
        kind="alias", origin=Origin.OFFLINE, undone=True
    )
    CharacterAttribute.objects.filter(character__novel=other).update(key="identity", origin="llm")
    Relation.objects.filter(novel=other).update(type="enemy", origin=Origin.OFFLINE)
    RelationPhase.objects.filter(relation__novel=other).update(type="enemy", origin=Origin.LLM)
    LLMTask.objects.filter(status=LLMTask.Status.SUCCEEDED).update(origin=Origin.LLM)
    LLMTask.objects.exclude(status=LLMTask.Status.SUCCEEDED).update(origin=Origin.DEFAULT)
    LLMTask.objects.filter(novel=other).update(kind=LLMTask.Kind.EVOLUTION)
    BatchJob.objects.filter(novel=other).update(
        last_error="过期", remote_status="expired", status=BatchJob.Status.FAILED
    )


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_filter_choice_renders_a_list_and_the_choices_share_out_the_rows(
    admin_client, model
) -> None:
    two_kinds_of_everything()
    response = admin_client.get(url(model, "changelist"))
    cl = response.context["cl"]
    assert cl.filter_specs
    for spec in cl.filter_specs:
        shares = []
        for choice in spec.choices(cl):
            filtered = admin_client.get(url(model, "changelist") + choice["query_string"])
            assert filtered.status_code == 200, (spec.title, choice["display"])
            if choice["display"] != "全部":
                shares.append(filtered.context["cl"].result_count)
        # Each row is under exactly one choice, and no choice holds them all: the filter filters.
        assert sum(shares) == cl.result_count, (spec.title, shares)
        assert max(shares) < cl.result_count, (spec.title, shares)


@pytest.mark.parametrize(
    ("model", "query", "expected"),
    [
        (Novel, {"has_error": "yes"}, 1),
        (Novel, {"has_error": "no"}, 1),
        (Novel, {"stage": "done"}, 1),
        (LLMTask, {"has_error": "yes"}, 2),
        (LLMTask, {"status__exact": "succeeded"}, 3),
        (LLMTask, {"kind__exact": "relation"}, 3),
        (Relation, {"type__exact": "master"}, 3),
        (Relation, {"origin__exact": "offline"}, 2),
        (Relation, {"origin__exact": "default"}, 0),
        (BatchJob, {"has_error": "no"}, 1),
        (BatchJob, {"status__exact": "done"}, 0),
    ],
)
def test_filters_narrow_the_list(admin_client, model, query, expected) -> None:
    two_kinds_of_everything()
    everything = admin_client.get(url(model, "changelist")).context["cl"].result_count
    assert expected != everything  # a filter that did nothing would not pass
    response = admin_client.get(url(model, "changelist"), query)
    assert response.context["cl"].result_count == expected


@pytest.mark.parametrize(
    ("model", "term", "expected"),
    [
        (Novel, "西游", 1),
        (Character, "唐僧", 1),
        (Character, "三藏", 1),  # an alias, in the JSON list
        (Character, "小1", 1),
        (Character, "不存在", 0),
        (Relation, "徒弟1", 1),
        (LLMTask, "rel-", 2),
        (BatchJob, "batch_", 1),
    ],
)
def test_search_finds_titles_names_aliases_and_ids(admin_client, model, term, expected) -> None:
    populate(make_novel())
    response = admin_client.get(url(model, "changelist"), {"q": term})
    assert response.context["cl"].result_count == expected


def test_a_user_who_is_not_staff_is_sent_to_the_login_page(client, django_user_model) -> None:
    client.force_login(django_user_model.objects.create_user("reader", password="pw"))
    response = client.get(url(Relation, "changelist"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_editing_the_aliases_locks_them(admin_client) -> None:
    master = populate(make_novel())["master"]
    page = admin_client.get(url(Character, "change", master.pk))
    data = form_data(page) | {"aliases": json.dumps(["玄奘", "御弟哥哥", " 玄奘 "])}
    response = admin_client.post(url(Character, "change", master.pk), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    master.refresh_from_db()
    assert master.aliases == ["玄奘", "御弟哥哥"]
    assert master.aliases_locked is True


def test_saving_a_character_unchanged_leaves_the_aliases_unlocked(admin_client) -> None:
    master = populate(make_novel())["master"]
    page = admin_client.get(url(Character, "change", master.pk))
    assert (
        admin_client.post(url(Character, "change", master.pk), form_data(page)).status_code == 302
    )
    master.refresh_from_db()
    assert master.aliases_locked is False


def test_aliases_that_are_not_a_list_of_strings_are_refused(admin_client) -> None:
    master = populate(make_novel())["master"]
    page = admin_client.get(url(Character, "change", master.pk))
    data = form_data(page) | {"aliases": json.dumps({"a": 1})}
    response = admin_client.post(url(Character, "change", master.pk), data)
    assert response.status_code == 200
    assert "别名必须是字符串列表" in response.text


def test_the_retry_action_resets_failed_tasks_and_reopens_the_novel(admin_client) -> None:
    novel = make_novel()
    populate(novel, relations=3)
    novel.applied_at = novel.created
    novel.save()
    LLMTask.objects.filter(status=LLMTask.Status.FAILED).update(attempts=3)
    ids = list(LLMTask.objects.values_list("pk", flat=True))
    response = admin_client.post(
        url(LLMTask, "changelist"), {"action": "retry_failed", "_selected_action": ids}
    )
    assert response.status_code == 302
    retried = LLMTask.objects.get(subject="唐僧|徒弟1")
    assert (retried.status, retried.attempts, retried.last_error, retried.batch_job) == (
        LLMTask.Status.PENDING, 0, "", None,
    )  # fmt: skip
    assert LLMTask.objects.filter(status=LLMTask.Status.SUCCEEDED).count() == 2
    novel.refresh_from_db()
    assert (novel.stage, novel.applied_at) == (Novel.Stage.DISPATCHED, None)
    message = str(next(iter(get_messages(response.wsgi_request))))
    assert "已将 1 个任务重置为待提交" in message


def test_the_cancel_action_calls_cancel_job_for_open_jobs_only(
    admin_client, monkeypatch, settings
) -> None:
    novel = make_novel()
    jobs = [
        BatchJob.objects.create(novel=novel, remote_id=f"b{i}", status=status)
        for i, status in enumerate(["submitted", "collecting", "done", "submitted"])
    ]
    cancelled = []

    def fake_cancel_job(job: BatchJob, client) -> None:
        if job.remote_id == "b3":
            raise ZhipuError("远程拒绝", status=400, permanent=True)
        cancelled.append(job.remote_id)

    settings.ZHIPUAI_API_KEY = "test.cancel"
    monkeypatch.setattr(batches, "cancel_job", fake_cancel_job)
    response = admin_client.post(
        url(BatchJob, "changelist"),
        {"action": "cancel_batches", "_selected_action": [job.pk for job in jobs]},
    )
    assert response.status_code == 302
    assert sorted(cancelled) == ["b0", "b1"]
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("取消 b3 失败：远程拒绝" in t for t in texts)
    assert any("已请求取消 2 个批处理" in t for t in texts)


def test_a_character_name_with_markup_is_escaped_in_the_list(admin_client) -> None:
    novel = make_novel()
    Character.objects.create(novel=novel, name="<script>alert(1)</script>", aliases=["<b>x</b>"])
    text = admin_client.get(url(Character, "changelist")).text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<b>x</b>" not in text


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_changelist_query_count_does_not_grow_with_rows(
    admin_client, django_assert_max_num_queries, model
) -> None:
    populate(make_novel(), relations=1)
    with django_assert_max_num_queries(100) as few:
        admin_client.get(url(model, "changelist"))
    for _ in range(3):
        populate(make_novel(), relations=8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(url(model, "changelist"))
    assert response.context["cl"].result_count >= 3


def test_every_model_is_registered() -> None:
    assert all(admin.site.is_registered(model) for model in MODELS)


def test_changing_a_relation_type_by_hand_marks_it_manual(admin_client) -> None:
    populate(make_novel(), relations=1)
    relation = Relation.objects.get()
    page = admin_client.get(url(Relation, "change", relation.pk))
    response = admin_client.post(
        url(Relation, "change", relation.pk), form_data(page) | {"type": "ally"}
    )
    assert response.status_code == 302
    relation.refresh_from_db()
    assert (relation.type, relation.origin) == ("ally", Origin.MANUAL)


def test_big_result_files_are_truncated_on_the_change_page(admin_client) -> None:
    job = populate(make_novel())["job"]
    BatchJob.objects.filter(pk=job.pk).update(output_content="行" * 50_000)
    text = admin_client.get(url(BatchJob, "change", job.pk)).text
    assert "共 50000 字符" in text
    assert "行" * 20_001 not in text


TECHNICAL_NAMES = {"SHA-256", "custom_id"}  # field labels that are identifiers, not words


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_field_has_a_chinese_label(model) -> None:
    for field in model._meta.get_fields():
        if field.concrete and not field.primary_key:
            label = str(field.verbose_name)
            assert label in TECHNICAL_NAMES or re.search(r"[\u4e00-\u9fff]", label), (
                model.__name__,
                field.name,
                label,
            )


def test_no_english_field_name_shows_in_lists_filters_and_forms(admin_client) -> None:
    two_kinds_of_everything()
    job = BatchJob.objects.first()
    character_list = admin_client.get(url(Character, "changelist")).text
    job_page = admin_client.get(url(BatchJob, "change", job.pk)).text
    task_list = admin_client.get(url(LLMTask, "changelist")).text
    for text in (character_list, job_page, task_list):
        assert not re.search(r">\s*(?:Novel|novel)\s*:?\s*<", text)
        assert "以 novel" not in text and "以 character" not in text
    assert "以 小说" in character_list
    assert re.search(r">\s*小说\s*:?\s*</label>", job_page)


def test_the_error_column_marks_errors_and_leaves_healthy_rows_blank(admin_client) -> None:
    populate(make_novel())
    broken = make_novel("红楼梦")
    Novel.objects.filter(pk=broken.pk).update(last_error="解码失败 <b>")
    text = admin_client.get(url(Novel, "changelist")).text
    assert "icon-no.svg" not in text and "icon-yes.svg" not in text
    assert text.count("⚠ 有错误") == 1
    assert 'title="解码失败 &lt;b&gt;"' in text


def test_the_alias_column_keeps_one_readable_line(admin_client) -> None:
    novel = make_novel()
    many = [f"别名{i:02d}" for i in range(40)]
    Character.objects.create(novel=novel, name="孙悟空", aliases=many)
    Character.objects.create(novel=novel, name="路人", aliases=[])
    text = admin_client.get(url(Character, "changelist")).text
    cell = re.search(
        r'<span class="alias-list" title="([^"]*)" style="([^"]*)">([^<]*)</span>', text
    )
    assert cell is not None
    title, style, shown = cell.groups()
    assert title == "、".join(many)
    assert "white-space: nowrap" in style and "min-width" in style
    assert shown.endswith("…") and len(shown) == characters.ALIAS_CELL_CHARS
