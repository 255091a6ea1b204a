"""The admin search page of a novel (graph.search_views)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from graph.models import Character
from tests.conftest import SCRIPT
from tests.story import make_story

pytestmark = pytest.mark.django_db


def page(novel, **params) -> str:
    return reverse("graph:novel_search", args=[novel.pk]) + (
        "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    )


def hits(html: str) -> list[str]:
    return re.findall(r'class="search-hit" data-chapter="(\d+)"', html)


def test_anonymous_visitors_are_sent_to_the_login_page(client) -> None:
    response = client.get(page(make_story(), q="宝剑"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_users_who_are_not_staff_are_sent_to_the_login_page(client) -> None:
    client.force_login(User.objects.create_user("reader"))
    response = client.get(page(make_story(), q="宝剑"))
    assert response.status_code == 302
    assert not response.wsgi_request.user.is_staff


def test_an_unknown_novel_is_not_found(staff_client) -> None:
    assert staff_client.get(reverse("graph:novel_search", args=[999])).status_code == 404


def test_without_a_query_it_shows_the_form_only(staff_client) -> None:
    novel = make_story()
    html = staff_client.get(page(novel)).content.decode()
    assert 'name="q"' in html and 'max="3" value="3"' in html
    assert hits(html) == [] and not novel.passages.exists()


def test_it_lists_passages_with_chapters_highlights_and_character_links(staff_client) -> None:
    novel = make_story()
    html = staff_client.get(page(novel, q="李四 钓鱼")).content.decode()
    assert hits(html)[0] == "2"
    assert "<mark>李四</mark>独自坐在河边<mark>钓鱼</mark>" in html
    li_si = Character.objects.get(name="李四")
    assert f'href="{reverse("admin:graph_character_change", args=[li_si.pk])}">李四</a>' in html
    assert "须同时提到：李四" in html


def test_the_chapter_limit_keeps_later_chapters_out(staff_client) -> None:
    novel = make_story()
    assert "3" in hits(staff_client.get(page(novel, q="宝剑")).content.decode())
    html = staff_client.get(page(novel, q="宝剑", chapter=2)).content.decode()
    assert hits(html) and set(hits(html)) <= {"1", "2"}
    assert 'value="2"' in html


@pytest.mark.parametrize("chapter", ["abc", "0", "99"])
def test_a_chapter_limit_out_of_range_means_the_whole_novel(staff_client, chapter: str) -> None:
    novel = make_story()
    html = staff_client.get(page(novel, q="宝剑", chapter=chapter)).content.decode()
    assert "3" in hits(html)


def test_an_html_query_renders_as_text(staff_client) -> None:
    novel = make_story()
    response = staff_client.get(reverse("graph:novel_search", args=[novel.pk]), {"q": SCRIPT})
    html = response.content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_html_in_the_novel_renders_as_text(staff_client) -> None:
    novel = make_story()
    chapter = novel.chapters.get(number=3)
    chapter.text += "\n王五在墙上写下" + SCRIPT + "几个怪字，众人都不认得。"
    chapter.save()
    Character.objects.create(novel=novel, name=SCRIPT, rank=9)
    html = staff_client.get(page(novel, q="怪字")).content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;" in html


def test_the_novel_admin_links_to_its_search_page(admin_client) -> None:
    novel = make_story()
    url = reverse("graph:novel_search", args=[novel.pk])
    assert url in admin_client.get(reverse("admin:graph_novel_changelist")).content.decode()
    assert (
        url
        in admin_client.get(reverse("admin:graph_novel_change", args=[novel.pk])).content.decode()
    )
