"""The graph page in a real browser: Debian's chromium and chromedriver, driven by selenium.

Skipped when /usr/bin/chromium is missing (a developer box without it); CI installs it. A screenshot
goes to tmp_path, and to $NOVELGRAPH_SCREENSHOT_DIR when that is set.
"""

from __future__ import annotations

import io
import os
import shutil
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from graph.models import Character, Novel, Relation
from tests.test_graph_views import SCRIPT, big_novel

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = [
    pytest.mark.skipif(
        # In CI the browser is installed by .ci/run: a missing one must fail, not skip.
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()) and not os.environ.get("CI"),
        reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
    ),
    pytest.mark.django_db(transaction=True),
]
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ARGUMENTS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--window-size=1500,1000"]  # fmt: skip


@pytest.fixture
def browser(tmp_path: Path):
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in [*ARGUMENTS, f"--user-data-dir={tmp_path / 'chromium-profile'}"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture
def staff_browser(browser, live_server, client):
    """The browser carrying the session cookie of a logged-in staff user."""
    client.force_login(User.objects.create_user("editor", is_staff=True))
    browser.get(live_server.url + reverse("admin:login"))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    browser.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": cookie, "path": "/"})
    return browser


def open_graph(browser, live_server, novel: Novel, timeout: float = 60) -> float:
    """Open the graph page and wait until the nodes are drawn; returns the seconds it took."""
    started = time.perf_counter()
    browser.get(live_server.url + reverse("graph:novel_graph", args=[novel.pk]))
    WebDriverWait(browser, timeout).until(
        lambda d: (
            d.find_element(By.ID, "graph-canvas").get_attribute("data-ready") == "true"
            and d.find_elements(By.CSS_SELECTOR, "#graph-canvas canvas")
        )
    )
    return time.perf_counter() - started


def counts(browser) -> tuple[int, int]:
    canvas = browser.find_element(By.ID, "graph-canvas")
    return int(canvas.get_attribute("data-node-count")), int(
        canvas.get_attribute("data-edge-count")
    )


def seen(chapter: int | None, n: int) -> bool:
    return chapter is None or chapter <= n


def expected_nodes(novel: Novel, n: int) -> int:
    """The page's rule with the default filters: characters met by chapter n that have a relation."""
    shown = {c.name for c in novel.characters.all() if seen(c.first_chapter, n)}
    linked: set[str] = set()
    for r in novel.relations.select_related("source", "target"):
        if seen(r.first_chapter, n) and {r.source.name, r.target.name} <= shown:
            linked |= {r.source.name, r.target.name}
    return len(linked)


def save_screenshot(browser, path: Path) -> None:
    browser.save_screenshot(str(path))
    folder = os.environ.get("NOVELGRAPH_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(folder) / path.name)


def severe_errors(browser) -> list[str]:
    return [
        e["message"]
        for e in browser.get_log("browser")
        if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
    ]


def test_the_sample_graph_draws_follows_the_chapter_slider_and_explains_an_edge(
    staff_browser, live_server, sample_path, tmp_path
) -> None:
    call_command("upload_novel", str(sample_path), "--mode", "offline", stdout=io.StringIO())
    novel = Novel.objects.get()
    hero = novel.characters.get(name="沈青锋")
    villain = Character.objects.create(novel=novel, name=SCRIPT, first_chapter=3, last_chapter=3)
    Relation.objects.create(
        novel=novel, source=villain, target=hero, cooccurrence=1, first_chapter=3, last_chapter=3
    )
    last = novel.chapters.count()
    browser = staff_browser

    open_graph(browser, live_server, novel)
    assert counts(browser) == (novel.characters.count(), novel.relations.count())
    assert expected_nodes(novel, last) == novel.characters.count()
    assert severe_errors(browser) == []

    early = 2
    browser.execute_script("window.novelGraph.setChapter(arguments[0])", early)
    nodes, edges = counts(browser)
    assert nodes == expected_nodes(novel, early) < novel.characters.count()
    assert edges == novel.relations.filter(first_chapter__lte=early).count()
    slider = browser.find_element(By.ID, "graph-chapter")
    assert slider.get_attribute("value") == str(early)

    # Spoiler-safe type of an edge as of chapter n, on crafted edges.
    type_at = "return window.novelGraph.typeAt(arguments[0], arguments[1])"
    phased = {"type_code": "enemy", "phases": [{"from": 3, "to": 9, "type_code": "ally"},
                                               {"from": 10, "to": 19, "type_code": "enemy"}]}  # fmt: skip
    got = [browser.execute_script(type_at, phased, n) for n in (2, 5, 10, 25)]
    assert got == ["cooccur", "ally", "enemy", "enemy"]
    assert browser.execute_script(type_at, {"type_code": "kin", "phases": []}, 1) == "kin"
    nested = {"type_code": "ally", "phases": [{"from": 1, "to": 30, "type_code": "ally"},
                                              {"from": 5, "to": 10, "type_code": "enemy"}]}  # fmt: skip
    assert browser.execute_script(type_at, nested, 20) == "ally"

    # The edge panel: the timeline up to chapter n, with chapter numbers and evidence <= n.
    relation = novel.relations.get(source__name="沈青锋", target__name="杜云起")
    phases = list(relation.phases.all())
    assert phases, "the sample's betrayal has an evolution"
    select_edge = (
        "const g = window.novelGraph; g.selectEdge(g.edgeIndex(arguments[0], arguments[1]))"
    )
    browser.execute_script("window.novelGraph.setChapter(arguments[0])", last)
    browser.execute_script(select_edge, "沈青锋", "杜云起")
    panel = browser.find_element(By.ID, "graph-panel")
    assert panel.get_attribute("data-kind") == "edge"
    text = panel.text
    assert "沈青锋 — 杜云起" in text and "关系演变" in text
    for phase in phases:
        assert f"第 {phase.from_chapter}–{phase.to_chapter} 章" in text
        assert phase.get_type_display() in text
    assert f"第 {relation.snippets[0]['chapter']} 章：" in text
    save_screenshot(browser, tmp_path / "graph_page.png")

    first = phases[0].from_chapter
    browser.execute_script("window.novelGraph.setChapter(arguments[0])", first)
    text = panel.text
    assert all(f"第 {p.from_chapter}–" not in text for p in phases if p.from_chapter > first)
    later = {s["chapter"] for s in relation.snippets if s["chapter"] > first}
    assert all(f"第 {c} 章：" not in text for c in later)
    assert "总体关系" not in text or relation.last_chapter <= first
    browser.execute_script("window.novelGraph.setChapter(arguments[0])", relation.first_chapter - 1)
    assert panel.get_attribute("data-kind") == ""  # a relation not met yet is not described

    # A node panel: a name from the novel is text, never markup.
    index = browser.execute_script(
        "return window.novelGraph.data.nodes.findIndex((n) => n.name === arguments[0])", SCRIPT
    )
    browser.execute_script("window.novelGraph.setChapter(arguments[0])", last)
    browser.execute_script("window.novelGraph.selectNode(arguments[0])", index)
    assert panel.find_element(By.TAG_NAME, "h2").text == SCRIPT
    assert (
        browser.execute_script("return document.querySelectorAll('#graph-app script').length") == 0
    )
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018

    # A real click on a node opens its panel.
    position = browser.execute_script(
        "const g = window.novelGraph; const i = g.data.nodes.findIndex((n) => n.name === arguments[0]);"
        "return g.network.canvasToDOM(g.network.getPositions([i])[i]);",
        "沈青锋",
    )
    canvas = browser.find_element(By.CSS_SELECTOR, "#graph-canvas canvas")
    ActionChains(browser).move_to_element_with_offset(
        canvas, position["x"] - canvas.size["width"] / 2, position["y"] - canvas.size["height"] / 2
    ).click().perform()
    WebDriverWait(browser, 5).until(
        lambda d: panel.find_element(By.TAG_NAME, "h2").text == "沈青锋"
    )
    assert "别名" in panel.text and "青锋" in panel.text and "介数中心性" in panel.text

    # Filters: a relation type unticked, then a minimum co-occurrence nobody reaches.
    before = counts(browser)[1]
    browser.find_element(By.CSS_SELECTOR, "#graph-legend input[value='cooccur']").click()
    assert counts(browser)[1] <= before
    box = browser.find_element(By.ID, "graph-min-cooccurrence")
    box.clear()
    box.send_keys("100000")
    WebDriverWait(browser, 5).until(lambda d: counts(d) == (0, 0))
    assert severe_errors(browser) == []


def test_a_500_node_2000_edge_graph_stays_responsive(staff_browser, live_server, tmp_path) -> None:
    novel = big_novel()
    loaded = open_graph(staff_browser, live_server, novel, timeout=90)
    assert counts(staff_browser) == (500, 2000)
    started = time.perf_counter()
    staff_browser.execute_script("window.novelGraph.setChapter(20)")
    moved = time.perf_counter() - started
    nodes, _ = counts(staff_browser)
    assert nodes == expected_nodes(novel, 20) < 500
    save_screenshot(staff_browser, tmp_path / "graph_page_500.png")
    assert loaded < 15, f"drawn after {loaded:.1f} s"
    assert moved < 2, f"slider step took {moved:.2f} s"
