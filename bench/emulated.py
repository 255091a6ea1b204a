"""Run the whole pipeline on a novel against the local Zhipu emulator, with a chosen "model":
the offline rules (`offline`) or answers from a gold file (`gold`), in realtime mode through the
real SDK. Used by bench/characters.py and bench/relations.py to measure what the graph becomes
when the model is right."""

from __future__ import annotations

import io
import json
from pathlib import Path

import _django


def run(novel_path: Path, gold_path: Path, model: str, database_url: str | None = None):
    """Build the graph of `novel_path` and return its Novel (a fresh scratch database)."""
    _django.setup(database_url)
    from django.conf import settings
    from django.core.management import call_command

    from graph.models import Novel
    from tests.emulator import ZhipuEmulator
    from tests.gold_model import GoldModel
    from tests.offline_model import answer

    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    chosen = GoldModel(gold) if model == "gold" else answer
    with ZhipuEmulator(model=chosen) as emu:
        settings.ZHIPUAI_API_KEY, settings.ZHIPUAI_BASE_URL = "bench.emulator", emu.base_url
        out = io.StringIO()
        call_command("upload_novel", str(novel_path), "--mode", "realtime", "--quiet", stdout=out)
    return Novel.objects.latest("created")


def graph_characters(novel) -> list:
    """The novel's characters as discovery's FoundCharacter, most mentioned first, people only."""
    from graph.entities import FoundCharacter

    return [
        FoundCharacter(
            c.name, list(c.aliases), c.mention_count, c.first_chapter or 0, c.last_chapter or 0
        )  # fmt: skip
        for c in novel.characters.people().order_by("-mention_count", "rank")
    ]
