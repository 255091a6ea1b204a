"""Admin lists in a real browser (Debian's chromium, as in test_graph_page): rows stay one line high."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse

from graph.models import Character, Novel
from tests.test_graph_page import browser, pytestmark  # noqa: F401  (fixture, skip rules)

ROWS = 100


@pytest.fixture
def admin_browser(browser, live_server, client):  # noqa: F811
    """The browser carrying the session cookie of a logged-in superuser."""
    client.force_login(User.objects.create_superuser("boss", password=None))
    browser.get(live_server.url + reverse("admin:login"))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    browser.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": cookie, "path": "/"})
    return browser


def test_the_character_list_keeps_long_alias_lists_on_one_line(admin_browser, live_server) -> None:
    novel = Novel.objects.create(title="西游记", sha256="a" * 64)
    Character.objects.bulk_create(
        Character(novel=novel, name=f"人物{i}", rank=i,
                  aliases=[f"称呼{i}{k}号" for k in range(12)])
        for i in range(ROWS)
    )  # fmt: skip
    admin_browser.get(live_server.url + reverse("admin:graph_character_changelist"))
    heights = admin_browser.execute_script(
        "return [...document.querySelectorAll('#result_list tbody tr')]"
        ".map((row) => row.getBoundingClientRect().height)"
    )
    widths = admin_browser.execute_script(
        "return [...document.querySelectorAll('#result_list td.field-alias_list')]"
        ".map((cell) => cell.getBoundingClientRect().width)"
    )
    assert len(heights) == len(widths) == ROWS
    assert max(heights) < 2 * min(heights) < 100, max(heights)
    assert min(widths) > 80, min(widths)  # several characters wide, not one
