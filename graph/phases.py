"""A relation's timeline that reads like a story: phases in chapter order that cover the pair's
chapters one after another, a phase for each change and not for each mention, and an overall
type that agrees with them."""

from __future__ import annotations

from collections import Counter

from graph import taxonomy


def story(phases: list[dict]) -> list[dict]:
    """Clean a timeline: chapter order, one phase per starting chapter (the longest); a
    one-chapter phase between two phases of one type is a flip-flop and goes; each phase runs
    until the next begins; equal neighbours become one."""
    longest: dict[int, dict] = {}
    for p in phases:  # two phases from one chapter: the longer one says more
        held = longest.get(p["from"])
        if held is None or p["to"] - p["from"] >= held["to"] - held["from"]:
            longest[p["from"]] = dict(p)
    ordered = [longest[start] for start in sorted(longest)]
    steady = [
        p
        for i, p in enumerate(ordered)
        if not (
            0 < i < len(ordered) - 1
            and p["from"] == p["to"]
            and ordered[i - 1]["type"] == ordered[i + 1]["type"] != p["type"]
        )
    ]
    for phase, following in zip(steady, steady[1:], strict=False):
        phase["to"] = max(phase["from"], following["from"] - 1)
    return merge(steady)


def merge(phases: list[dict]) -> list[dict]:
    """Merge consecutive phases of the same type (they are one phase told twice)."""
    merged: list[dict] = []
    for phase in phases:
        if merged and merged[-1]["type"] == phase["type"]:
            last = merged[-1]
            last["to"] = max(last["to"], phase["to"])
            event = phase.get("event", "")
            if event and event not in last.get("event", ""):
                last["event"] = "；".join(filter(None, [last.get("event", ""), event]))[:300]
        else:
            merged.append(dict(phase))
    return merged


def dominant(phases: list[dict]) -> str | None:
    """The typed (not co-occurrence) type that covers most chapters of the timeline, if any."""
    spans: Counter = Counter()
    for p in phases:
        if p["type"] != taxonomy.DEFAULT_TYPE:
            spans[p["type"]] += p["to"] - p["from"] + 1
    return spans.most_common(1)[0][0] if spans else None
