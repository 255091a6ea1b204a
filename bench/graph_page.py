"""Time the graph page of a 500-node, 2,000-edge graph in headless Chromium: drawing and a slider step.

    .venv/bin/python bench/graph_page.py [--rounds 3] [--database-url URL]

Needs Debian's chromium and chromium-driver (and fonts-wqy-microhei for readable screenshots).
Serves the page from a local live server on a scratch database, opens it `--rounds` times and
reports, per round, the seconds until the drawing is ready and the seconds one chapter-slider step
(to chapter 20, from 100) takes; then the medians. These timings used to be test assertions; on a
loaded machine they vary by several times, so they are measured here instead.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARGUMENTS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--window-size=1500,1000"]  # fmt: skip


def staff_session() -> str:
    """A session key of a logged-in staff user."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    user = User.objects.create_user("bench", is_staff=True)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def one_round(driver, base: str, page: str) -> tuple[float, float]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    started = time.perf_counter()
    driver.get(base + page)
    WebDriverWait(driver, 120).until(
        lambda d: d.find_element(By.ID, "graph-canvas").get_attribute("data-ready") == "true"
    )
    drawn = time.perf_counter() - started
    started = time.perf_counter()
    driver.execute_script("window.novelGraph.setChapter(20)")
    return drawn, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    _django.setup(args.database_url)

    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread
    from django.urls import reverse
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    sys.path.insert(0, str(_django.REPO))
    from tests.test_graph_views import big_novel

    novel = big_novel()
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ARGUMENTS:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    base = f"http://127.0.0.1:{server.port}"
    try:
        driver.get(base + reverse("admin:login"))
        driver.add_cookie({"name": "sessionid", "value": staff_session(), "path": "/"})
        page = reverse("graph:novel_graph", args=[novel.pk])
        rounds = [one_round(driver, base, page) for _ in range(args.rounds)]
    finally:
        driver.quit()
        server.terminate()
    for number, (drawn, step) in enumerate(rounds, 1):
        print(f"round {number}: drawn {drawn:.2f} s, slider step {step:.3f} s")
    print(
        f"median: drawn {statistics.median(r[0] for r in rounds):.2f} s, "
        f"slider step {statistics.median(r[1] for r in rounds):.3f} s (500 nodes, 2000 edges)"
    )


if __name__ == "__main__":
    main()
