"""Shared fixtures: paths to the corpus and the sample, and settings that keep tests local."""

import os
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
