"""What a person sets in the admin wins: manual relations, phases and attributes survive every
re-apply, the retry action and `upload_novel --restart-from`."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from graph.models import CharacterAttribute, LLMTask, Novel, Origin, Relation
from tests.conftest import SAMPLE


def upload(*args: str) -> None:
    call_command("upload_novel", str(SAMPLE), "--mode", "offline", *args, stdout=io.StringIO())


def edit_by_hand(client, novel: Novel) -> tuple[Relation, CharacterAttribute]:
    """Through the admin: an edge turned to 夫妻恋人 with its direction reversed, and an attribute."""
    relation = novel.relations.select_related("source", "target").order_by("-cooccurrence")[0]
    page = client.get(reverse("admin:graph_relation_change", args=[relation.pk]))
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data |= {"type": "lovers", "source": relation.target_id, "target": relation.source_id}
    data |= {"phases-TOTAL_FORMS": 0, "phases-INITIAL_FORMS": 0}
    assert (
        client.post(reverse("admin:graph_relation_change", args=[relation.pk]), data).status_code
        == 302
    )
    attribute = CharacterAttribute.objects.filter(character__novel=novel).first()
    page = client.get(reverse("admin:graph_characterattribute_change", args=[attribute.pk]))
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields} | {"value": "人工写的身份"}
    client.post(reverse("admin:graph_characterattribute_change", args=[attribute.pk]), data)
    relation.refresh_from_db()
    attribute.refresh_from_db()
    assert relation.origin == attribute.origin == Origin.MANUAL
    return relation, attribute


def assert_kept(relation: Relation, attribute: CharacterAttribute) -> None:
    kept = Relation.objects.get(novel=relation.novel, pair_key=relation.pair_key)
    assert (kept.type, kept.origin) == ("lovers", Origin.MANUAL)
    assert (kept.source_id, kept.target_id) == (relation.source_id, relation.target_id)
    assert kept.cooccurrence > 0
    value = CharacterAttribute.objects.get(character=attribute.character_id, key=attribute.key)
    assert (value.value, value.origin) == ("人工写的身份", Origin.MANUAL)


@pytest.fixture
def staff(client, db):
    user = User.objects.create_superuser("editor", "editor@example.com", "pw")
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_manual_edits_survive_the_retry_action_and_the_next_apply(staff):
    upload()
    novel = Novel.objects.get()
    relation, attribute = edit_by_hand(staff, novel)
    novel.tasks.update(status=LLMTask.Status.DEFAULTED)
    ids = list(novel.tasks.values_list("pk", flat=True))

    staff.post(
        reverse("admin:graph_llmtask_changelist"),
        {"action": "retry_failed", "_selected_action": ids},
    )
    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DISPATCHED
    upload()  # answers the reset tasks and applies the graph again

    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE
    assert_kept(relation, attribute)


@pytest.mark.django_db
@pytest.mark.parametrize("stage", ["characters", "pairs", "tasks"])
def test_manual_edits_survive_restarting_from_any_stage(staff, stage):
    upload()
    novel = Novel.objects.get()
    relation, attribute = edit_by_hand(staff, novel)

    upload("--restart-from", stage)

    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE
    assert_kept(relation, attribute)
    kept = Relation.objects.get(novel=novel, pair_key=relation.pair_key)
    assert not kept.tasks.filter(kind=LLMTask.Kind.RELATION).exists()  # nothing to ask
