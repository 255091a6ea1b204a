"""Shared fixtures: paths to the corpus and the sample, and settings that keep tests local."""

import os
import secrets
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NOVELGRAPH_SHARED", REPO.parent / "shared"))
SAMPLE = REPO / "samples" / "青锋录.txt"


@pytest.fixture(autouse=True)
def _local_settings(settings, tmp_path):
    """No test may reach the internet or write outside its temporary folder."""
    settings.ZHIPUAI_API_KEY = ""
    settings.ZHIPUAI_BASE_URL = "http://127.0.0.1:9/unreachable"
    settings.BATCH_DIR = tmp_path / "batches"
    # Hashing the test users' passwords properly would dominate the admin tests' run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def restore_signals():
    """Put back the SIGTERM/SIGINT handlers a daemon-style command installs."""
    import signal

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture
def corpus() -> Path:
    folder = SHARED / "corpus"
    if not folder.is_dir():
        pytest.skip("../shared/corpus is not available")
    return folder


@pytest.fixture
def gold() -> Path:
    folder = SHARED / "gold"
    if not folder.is_dir():
        pytest.skip("../shared/gold is not available")
    return folder


@pytest.fixture
def sample_path() -> Path:
    return SAMPLE


# --- The Zhipu emulator wired into settings (batch, realtime and poller tests) ---------------

# A fresh fake key each run, random on the secret side of the dot: a leak of the key or of its
# secret half can be searched for, and no key-like literal is committed.
TEST_API_KEY = f"test.{secrets.token_hex(12)}"


@pytest.fixture
def emu(settings):
    """A running emulator whose model answers with the offline rules; settings point at it.
    Batches finish in three polls, and a task gets two attempts (LLM_MAX_ATTEMPTS=2)."""
    from tests.emulator import ZhipuEmulator
    from tests.offline_model import answer

    with ZhipuEmulator(model=answer) as emulator:
        emulator.faults.batch_steps = 1
        settings.ZHIPUAI_API_KEY = TEST_API_KEY
        settings.ZHIPUAI_BASE_URL = emulator.base_url
        settings.ZHIPUAI_TIMEOUT = 10.0
        settings.LLM_MAX_ATTEMPTS = 2
        settings.EMBED_PASSAGES = (
            False  # the graph's tests; tests/test_embedding_jobs.py turns it on
        )
        yield emulator


@pytest.fixture
def api(emu):
    """A ZhipuClient built from settings, pointed at the emulator."""
    from graph.llm.zhipu import client_from_settings

    return client_from_settings()


@pytest.fixture
def upload(sample_path):
    """Run `upload_novel` on the sample (or another file); returns what it printed."""
    import io

    from django.core.management import call_command

    def run(*args: str, mode: str = "batch", path=None) -> str:
        out, err = io.StringIO(), io.StringIO()
        call_command(
            "upload_novel", str(path or sample_path), "--mode", mode, *args, stdout=out, stderr=err
        )
        return out.getvalue() + err.getvalue()

    return run


@pytest.fixture
def poll(api):
    """Run polling rounds until nothing is open (or `rounds` is reached); returns the lines."""
    from graph import dispatch

    def run(rounds: int = 30, client=None) -> list[str]:
        lines = Lines()
        for _ in range(rounds):
            if not dispatch.poll(client or api, lines.progress()):
                break
        return lines

    return run


def progress_to(hook):
    """A Progress whose lines go to `hook` (tests that react to progress lines, e.g. to clear a
    fault once a batch is collected)."""
    from graph.progress import LineStream, Progress

    return Progress(LineStream(hook))


class Lines(list):
    """The lines a Progress writes, kept as a list."""

    def progress(self):
        return progress_to(self.append)


@pytest.fixture
def quick_backoff(monkeypatch):
    """Realtime retries wait milliseconds instead of seconds."""
    import functools

    from graph import dispatch
    from graph.llm.realtime import run_chat

    monkeypatch.setattr(
        dispatch, "run_chat", functools.partial(run_chat, base_delay=0.01, max_delay=0.02)
    )


def fail_once(emu, custom_ids: set[str]) -> None:
    """Make these batch lines fail once (an error-file line), then pass."""
    failed: set[str] = set()

    def first_time_only(custom_id, body):
        if custom_id in custom_ids and custom_id not in failed:
            failed.add(custom_id)
            return True
        return False

    emu.faults.batch_error_lines = first_time_only


def fail_first_lines_once(emu) -> set[str]:
    """Make the first line of every batch the emulator holds fail once; returns their custom_ids."""
    import json

    first_lines = {json.loads(b.lines[0])["custom_id"] for b in emu.batches.values()}
    fail_once(emu, first_lines)
    return first_lines


SCRIPT = "<script>alert(1)</script>"  # a name or query that must render as text, never run


@pytest.fixture
def staff_client(client, django_user_model):
    """A test client logged in as a staff user (the graph and search pages are staff only)."""
    client.force_login(django_user_model.objects.create_user("editor", is_staff=True))
    return client
