"""The graph page in a real browser: Debian's chromium and chromedriver, driven by selenium.

Skipped when /usr/bin/chromium is missing (a developer box without it); CI installs it. A screenshot
goes to tmp_path, and to $NOVELGRAPH_SCREENSHOT_DIR when that is set.

Chinese labels need a CJK font, or headless Chromium draws every character as a box: install
Debian's `fonts-wqy-microhei` (as .ci/run does; `fonts-noto-cjk` works too), e.g.
`apt-get install chromium chromium-driver fonts-wqy-microhei`. `test_chinese_text_renders_with_a_cjk_font`
fails, naming the package, when none is installed. Timings are measured in bench/graph_page.py.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from graph.models import Character, CharacterAttribute, Novel, Relation
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


CJK_FONT_PACKAGE = "fonts-wqy-microhei"
FONT_FAILURE = (
    f"Chinese renders as boxes: install a CJK font (apt-get install {CJK_FONT_PACKAGE}, "
    "or fonts-noto-cjk)"
)
# Two different Chinese characters drawn alike are two missing-glyph boxes.
SAME_GLYPHS = """
const draw = (text) => {
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 64;
  const ctx = canvas.getContext("2d");
  ctx.font = "40px sans-serif";
  ctx.fillText(text, 8, 48);
  return canvas.toDataURL();
};
return draw("沈") === draw("锋");
"""
# Names of the nodes whose label vis-network draws at the current zoom (its own rule).
LABELLED = """
const network = window.novelGraph.network;
const scale = network.getScale();
return Object.values(network.body.nodes)
  .filter((n) => !n.options.hidden && n.options.label
    && n.labelModule.fontOptions.size * scale >= n.options.scaling.label.drawThreshold)
  .map((n) => n.options.label);
"""
# Whether every shown node is inside the canvas.
ALL_IN_VIEW = """
const g = window.novelGraph;
const box = document.getElementById("graph-canvas");
const ids = g.nodes.getIds({ filter: (n) => !n.hidden });
const spots = Object.values(g.network.getPositions(ids)).map((p) => g.network.canvasToDOM(p));
return spots.every((p) => p.x >= 0 && p.y >= 0 && p.x <= box.clientWidth && p.y <= box.clientHeight);
"""


def open_graph(browser, live_server, novel: Novel, timeout: float = 60) -> None:
    """Open the graph page and wait until the nodes are drawn."""
    browser.get(live_server.url + reverse("graph:novel_graph", args=[novel.pk]))
    WebDriverWait(browser, timeout).until(
        lambda d: (
            d.find_element(By.ID, "graph-canvas").get_attribute("data-ready") == "true"
            and d.find_elements(By.CSS_SELECTOR, "#graph-canvas canvas")
        )
    )


def wait_fitted(browser, timeout: float = 10) -> None:
    """Wait until the view has been refitted after the last filter change."""
    WebDriverWait(browser, timeout).until(
        lambda d: d.find_element(By.ID, "graph-canvas").get_attribute("data-fitted") == "true"
    )


def most_important(novel_data: list[dict], count: int) -> set[str]:
    """The `count` names of largest weighted degree (the page's importance order)."""
    ranked = sorted(novel_data, key=lambda n: -n["weighted_degree"])
    return {n["name"] for n in ranked[:count]}


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
    # A group of role words (a community of its own) and a model alias the 别名 row lacks.
    sons = [
        Character.objects.create(novel=novel, name=n, first_chapter=1)
        for n in ("长子", "次子", "幼子")
    ]
    for a, b in [(0, 1), (1, 2), (0, 2)]:
        Relation.objects.create(novel=novel, source=sons[a], target=sons[b], cooccurrence=50,
                                first_chapter=1, last_chapter=1)  # fmt: skip
    CharacterAttribute.objects.update_or_create(
        character=hero, key="aliases", defaults={"value": "青锋、沈少侠"}
    )
    last = novel.chapters.count()
    browser = staff_browser

    open_graph(browser, live_server, novel)
    assert counts(browser) == (novel.characters.count(), novel.relations.count())
    assert expected_nodes(novel, last) == novel.characters.count()
    assert severe_errors(browser) == []
    legend = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".graph-community")]
    assert legend and not any("子" in entry.split("等")[0] for entry in legend)
    assert all(int(entry.split("等 ")[1].split(" 人")[0]) >= 3 for entry in legend)
    communities = browser.find_element(By.ID, "graph-communities").text
    assert communities.endswith("另有 1 个小社群未列出") and "null" not in communities
    assert set(browser.execute_script(LABELLED)) == {
        c.name for c in novel.characters.all()
    }  # a small graph: every name

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
    assert "模型给出的别名" in panel.text and "沈少侠" in panel.text
    assert "aliases" not in panel.text

    # Filters: a relation type unticked, then a minimum co-occurrence nobody reaches.
    before = counts(browser)[1]
    browser.find_element(By.CSS_SELECTOR, "#graph-legend input[value='cooccur']").click()
    assert counts(browser)[1] <= before
    box = browser.find_element(By.ID, "graph-min-cooccurrence")
    box.clear()
    box.send_keys("100000")
    WebDriverWait(browser, 5).until(lambda d: counts(d) == (0, 0))
    assert severe_errors(browser) == []


def test_a_500_node_2000_edge_graph_draws_labels_its_hubs_and_refits_after_filtering(
    staff_browser, live_server, tmp_path
) -> None:
    novel = big_novel()
    browser = staff_browser
    open_graph(browser, live_server, novel, timeout=90)
    assert counts(browser) == (500, 2000)
    data = browser.execute_script("return window.novelGraph.data.nodes")
    hubs = most_important(data, 30)  # the page labels 12 + sqrt(500) = 34 nodes at any zoom
    assert hubs <= set(browser.execute_script(LABELLED))

    # Zoomed far out, the hubs keep their labels.
    browser.execute_script("window.novelGraph.network.moveTo({ scale: 0.02 })")
    WebDriverWait(browser, 5).until(lambda d: hubs <= set(d.execute_script(LABELLED)))

    # Zoomed into a corner, then filtered: the view is refitted on what is shown.
    browser.execute_script(
        "window.novelGraph.network.moveTo({ position: { x: 5000, y: 5000 }, scale: 3 })"
    )
    assert browser.execute_script(ALL_IN_VIEW) is False
    browser.execute_script("window.novelGraph.setChapter(20)")
    nodes, _ = counts(browser)
    assert nodes == expected_nodes(novel, 20) < 500
    wait_fitted(browser)
    assert browser.execute_script(ALL_IN_VIEW) is True
    ids = browser.execute_script(
        "return window.novelGraph.nodes.getIds({ filter: (n) => !n.hidden })"
    )
    assert most_important([data[i] for i in ids], 20) <= set(browser.execute_script(LABELLED))
    save_screenshot(browser, tmp_path / "graph_page_500.png")
    assert severe_errors(browser) == []


def test_chinese_text_renders_with_a_cjk_font(browser) -> None:
    browser.get("about:blank")
    assert browser.execute_script(SAME_GLYPHS) is False, FONT_FAILURE
