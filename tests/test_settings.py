"""Settings come from the environment; a malformed value stops start-up naming the variable."""

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=environment, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LLM_MAX_ATTEMPTS", "three"),
        ("LLM_MAX_ATTEMPTS", "0"),
        ("USE_BATCH_API_FOR_GRAPH", "maybe"),
        ("GRAPH_PAIR_LIMIT", "-5"),
        ("LLM_MAX_TOKENS", "5000"),  # glm-4-flash refuses every request above 4095
        ("ZHIPUAI_TIMEOUT", "soon"),
        ("DATABASE_URL", "nosuchdb://x"),
    ],
)
def test_a_malformed_value_stops_start_up_with_one_line_naming_it(name, value):
    result = manage("check", **{name: value})
    assert result.returncode == 2
    assert name in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_well_formed_values_are_read(tmp_path):
    result = manage(
        "shell", "-c",
        "from django.conf import settings as s; print(s.LLM_MAX_ATTEMPTS, s.USE_BATCH_API_FOR_GRAPH, s.GRAPH_PAIR_LIMIT)",
        LLM_MAX_ATTEMPTS="5", USE_BATCH_API_FOR_GRAPH="false", GRAPH_PAIR_LIMIT="50",
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["5", "False", "50"]


def test_env_example_lists_every_setting_read_from_the_environment():
    settings_source = (REPO / "novelgraph" / "settings.py").read_text(encoding="utf-8")
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    import re

    names = set(re.findall(r'_(?:read|positive)\((?:env\.\w+, )?"([A-Z_]+)"', settings_source))
    names.add("DATABASE_URL")
    listed = set(re.findall(r"^([A-Z_]+)=", example, flags=re.M))
    assert names <= listed, names - listed
