"""Batch API input for embeddings: JSONL lines of up to 64 passages each, split into files.

Pure functions (no Django, no network). A line reads::

    {"custom_id": "emb-<novel>-<first passage id>-<last passage id>", "method": "POST",
     "url": "/v4/embeddings", "body": {"model": "embedding-3", "input": [...], "dimensions": 512}}

Give `request_lines` every passage of the novel (for one vectorizer) that still has no vector: then
the inputs of a line are exactly that novel's vector-less passages with ids from first to last, in id
order, and the custom_id alone says which vector of the reply belongs to which passage (check that
their count matches the reply). `chunks(items)` gives the ids of each line, in the same order.
Limits (reference, section 5): ≤ 64 inputs per request, each ≤ 3,072 tokens; an embedding batch
file holds ≤ 10,000 lines and is under 100 MB.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from graph.cooccurrence import estimate_tokens

ENDPOINT = "/v4/embeddings"
MAX_INPUTS = 64  # texts per request
MAX_INPUT_CHARS = 2000  # ≈ 1,400 tokens: well under 3,072 per input (passages are ≤ 500 characters)
MAX_LINES = 10_000  # lines per embedding batch file
MAX_BYTES = 100_000_000  # a file stays strictly under this
_CUSTOM_ID = re.compile(r"emb-(\d+)-(\d+)-(\d+)")

Item = tuple[int, str]  # (passage id, text)


def custom_id(novel_id: int, first_id: int, last_id: int) -> str:
    """The custom_id of a request: ASCII, 9 to 63 characters for ids below 10**19."""
    return f"emb-{novel_id}-{first_id}-{last_id}"


def parse_custom_id(value: str) -> tuple[int, int, int] | None:
    """(novel id, first passage id, last passage id), or None for another kind of custom_id."""
    match = _CUSTOM_ID.fullmatch(value)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def chunks(items: Sequence[Item], size: int = MAX_INPUTS) -> list[Sequence[Item]]:
    """Items in id order, cut into requests of at most `size`."""
    ordered = sorted(items)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def request_line(novel_id: int, chunk: Sequence[Item], *, model: str, dimensions: int) -> str:
    """One JSONL line (without its newline) embedding the passages of `chunk`."""
    if not 0 < len(chunk) <= MAX_INPUTS:
        raise ValueError("a request embeds 1 to 64 passages")
    body = {
        "model": model,
        "input": [text[:MAX_INPUT_CHARS] for _, text in chunk],
        "dimensions": dimensions,
    }
    line = {
        "custom_id": custom_id(novel_id, chunk[0][0], chunk[-1][0]),
        "method": "POST",
        "url": ENDPOINT,
        "body": body,
    }
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def request_lines(
    novel_id: int, items: Sequence[Item], *, model: str, dimensions: int
) -> list[str]:
    """Every line needed to embed `items`."""
    return [
        request_line(novel_id, chunk, model=model, dimensions=dimensions) for chunk in chunks(items)
    ]


def split_files(
    lines: Sequence[str], max_lines: int = MAX_LINES, max_bytes: int = MAX_BYTES
) -> list[list[str]]:
    """Lines grouped into files of at most `max_lines` lines and fewer than `max_bytes` bytes
    (UTF-8, one newline per line), in order."""
    files: list[list[str]] = []
    current: list[str] = []
    size = 0
    for line in lines:
        n = len(line.encode()) + 1
        if n >= max_bytes:
            raise ValueError(f"one line is {n} bytes, a file must stay under {max_bytes}")
        if current and (len(current) >= max_lines or size + n >= max_bytes):
            files.append(current)
            current, size = [], 0
        current.append(line)
        size += n
    if current:
        files.append(current)
    return files


def estimate(texts: Sequence[str], *, model: str, dimensions: int) -> dict[str, int]:
    """Requests, estimated input tokens and batch files needed to embed `texts` (for --dry-run)."""
    items = list(enumerate(texts, 1))
    lines = request_lines(0, items, model=model, dimensions=dimensions)
    return {
        "requests": len(lines),
        "input_tokens": sum(estimate_tokens(t[:MAX_INPUT_CHARS]) for t in texts),
        "files": len(split_files(lines)),
    }
