"""Pieces of bench/drill.py that are not scenarios: the emulator with timeouts, a client that
records every chat reply it receives, the varied novels, and `poll_batches` subprocesses."""

from __future__ import annotations

import itertools
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

from graph.llm.zhipu import ChatReply, ZhipuClient
from tests.emulator import ZhipuEmulator

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "青锋录.txt"
API_KEY = f"drill.{secrets.token_hex(12)}"  # a fake key, fresh each run

# Given names of the sample's people (surnames stay) and what a variant may call them instead.
RENAMED = ("青锋", "映雪", "云起", "晚照")
POOL = (
    "凌霄",
    "惊鸿",
    "寒江",
    "孤鸿",
    "听澜",
    "拂衣",
    "问枢",
    "逐溟",
    "栖梧",
    "照夜",
    "衔蝉",
    "望舒",
)


class DrillEmulator(ZhipuEmulator):
    """The test emulator plus one switch: every `hang_every`-th chat request stalls
    `hang_seconds` before answering, past the client's timeout (the answer goes nowhere)."""

    hang_every = 0
    hang_seconds = 0.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Batch ids unique across runs too: a reused database keeps the last run's remote ids.
        self._ids = itertools.count(time.time_ns() // 1000)

    def start(self) -> DrillEmulator:
        super().start()
        default = self._server.handle_error

        def handle_error(request, address) -> None:
            if not isinstance(sys.exc_info()[1], ConnectionError):  # a killed poller's socket
                default(request, address)

        self._server.handle_error = handle_error
        return self

    def _chat(self, body: dict, number: int, in_flight: int) -> dict:
        if self.hang_every and number % self.hang_every == 0:
            self.wait(self.hang_seconds)
        return super()._chat(body, number, in_flight)


class RecordingClient(ZhipuClient):
    """A client that remembers each chat reply it actually received, by the request's messages."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.received: dict[str, list[ChatReply]] = defaultdict(list)
        self._lock = threading.Lock()

    def chat(self, body: dict, timeout: float | None = None) -> ChatReply:
        reply = super().chat(body, timeout)
        with self._lock:
            self.received[messages_key(body)].append(reply)
        return reply


def messages_key(body: dict) -> str:
    return repr(body.get("messages"))


def _variant(rng: random.Random) -> str:
    """The sample with some people renamed (seeded)."""
    text = SAMPLE.read_text(encoding="utf-8")
    names = rng.sample(POOL, len(RENAMED))
    for old, new in zip(RENAMED, names, strict=True):
        if rng.random() < 0.5:
            text = text.replace(old, new)
    return text


def novel_text(number: int, tag: str, rng: random.Random) -> tuple[str, str]:
    """A variant of the sample, plus a closing line of its own so its sha256 differs from every
    other novel of every run. Returns (title, text)."""
    text = _variant(rng).rstrip("\n") + f"\n（全书完 · 演练第 {number} 本 · {tag}）\n"
    return f"青锋录-演练{number}-{tag}", text


def serial_texts(number: int, tag: str, rng: random.Random, first: int) -> tuple[str, str, str]:
    """A serialized novel: a variant of the sample cut after its first `first` chapters (with a
    line of its own, so every run's differs), and the whole book that file grows into (the same
    first chapters, then the rest). Returns (title, first part, whole book)."""
    text = _variant(rng)
    starts = [m.start() for m in re.finditer(r"^第[^\n]{1,6}章", text, re.M)]
    cut = starts[first]
    head = text[:cut].rstrip("\n") + f"\n（连载至此 · 演练第 {number} 本 · {tag}）\n\n"
    return f"青锋录-连载{number}-{tag}", head, head + text[cut:]


class Pollers:
    """`manage.py poll_batches --loop --interval 1` subprocesses against the drill's database,
    pointed at the in-process emulator; output goes to log files in `folder`."""

    def __init__(self, base_url: str, folder: Path, claim_seconds: int = 2, max_lines: int = 10):
        self.env = {
            **os.environ,
            "ZHIPUAI_API_KEY": API_KEY,
            "ZHIPUAI_BASE_URL": base_url,
            "ZHIPUAI_TIMEOUT": "10",
            "BATCH_CLAIM_SECONDS": str(claim_seconds),
            "BATCH_MAX_LINES": str(max_lines),
            "LLM_MAX_ATTEMPTS": "3",
            "PYTHONUNBUFFERED": "1",
        }  # DATABASE_URL and BATCH_DIR come from os.environ (bench/_django.setup)
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.running: list[subprocess.Popen] = []
        self.started = 0
        self.exits: list[int] = []  # return codes of pollers that stopped on their own

    def start(self) -> subprocess.Popen:
        self.started += 1
        log = open(self.folder / f"poller-{self.started}.log", "wb")  # noqa: SIM115
        command = [sys.executable, str(REPO / "manage.py"), "poll_batches", "--loop"]
        proc = subprocess.Popen(
            [*command, "--interval", "1"], env=self.env, cwd=REPO, stdout=log, stderr=log
        )
        log.close()
        self.running.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.running.remove(proc)

    def reap(self) -> None:
        """Restart any poller that stopped by itself (and remember that it did)."""
        for proc in list(self.running):
            if proc.poll() is not None:
                self.exits.append(proc.returncode)
                self.running.remove(proc)
                self.start()

    def stop(self) -> None:
        for proc in self.running:
            proc.send_signal(signal.SIGTERM)
        for proc in self.running:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.running.clear()

    def logs(self) -> str:
        return "\n".join(
            p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(self.folder.glob("poller-*.log"))
        )
